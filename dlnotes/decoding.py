"""Decoding a language model: greedy search, beam search and exhaustive search (chapter *Greedy decoding versus beam search*).

A language model here is any callable ``lm(prefix) -> dict``: given the tokens
so far (a tuple of strings, ``()`` at the start) it returns the probability of
every possible next token, the end token ``"<eos>"`` included.  The
probabilities must be finite, non-negative and sum to one (within
``SUM_TOLERANCE``).

A hypothesis is finished when it emits ``"<eos>"`` (the end token is not part of
the returned tokens, but its probability is part of the returned probability) or
when it holds ``max_len`` tokens (then no end probability is multiplied in).

Hypotheses are ranked by their log-probability, the sum of the logs of their
next-token probabilities, added from left to right: a product of many
probabilities underflows to 0 for long sequences (after which every candidate
would tie), while the sum of logs does not.  The returned probability is the
product of the next-token probabilities, multiplied from left to right (it may
underflow to 0 for a very long sequence; the ranking does not).

Ties are broken deterministically and independently of dictionary order.  Among
extensions of the same hypothesis whose log scores round to the same value, the
larger next-token probability wins (so rounding never makes beam search of
width 1 differ from greedy decoding); among equally probable choices, the one
whose token sequence comes first in Python's ordering of tuples of strings
wins, where a hypothesis that ends has ``"<eos>"`` appended.  So a shorter
sequence precedes its own extensions, and ``"<eos>"`` (``"<"`` is code point
0x3C) precedes tokens whose first character has a higher code point (every
letter, for instance) but follows tokens that start with a lower one: a digit
(0x30-0x39), a space or most punctuation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

__all__ = [
    "EOS",
    "SUM_TOLERANCE",
    "LanguageModel",
    "table_lm",
    "greedy_decode",
    "beam_search",
    "sequence_probabilities",
    "best_sequence",
]

EOS = "<eos>"
#: How far the next-token probabilities may sum away from one.
SUM_TOLERANCE = 1e-9

LanguageModel = Callable[[tuple[str, ...]], Mapping[str, float]]


def _max_len(max_len: object) -> int:
    if isinstance(max_len, bool) or not isinstance(max_len, int):
        raise TypeError(f"max_len must be an int, got {type(max_len).__name__}")
    if max_len < 1:
        raise ValueError(f"max_len must be at least 1, got {max_len}")
    return max_len


def _check_lm(lm: object) -> None:
    if not callable(lm):
        raise TypeError(f"lm must be callable as lm(prefix) -> dict of next-token probabilities, got {type(lm).__name__}")


def _next(lm: LanguageModel, prefix: tuple[str, ...]) -> dict[str, float]:
    """Validated next-token distribution of ``lm`` after ``prefix``."""
    dist = lm(prefix)
    if not isinstance(dist, Mapping):
        raise TypeError(f"lm({prefix!r}) must return a dict of next-token probabilities, got {type(dist).__name__}")
    if not dist:
        raise ValueError(f"lm({prefix!r}) returned no tokens; it must give a probability to every next token")
    out = {}
    for token, p in dist.items():
        if not isinstance(token, str) or not token:
            raise TypeError(f"lm({prefix!r}) must use non-empty strings as tokens, got {token!r}")
        if isinstance(p, bool) or not isinstance(p, (int, float)):
            raise TypeError(f"lm({prefix!r})[{token!r}] must be a real number, got {type(p).__name__}")
        if not math.isfinite(p) or p < 0:
            raise ValueError(f"lm({prefix!r})[{token!r}] must be a finite probability >= 0, got {p}")
        out[token] = float(p)
    total = math.fsum(out.values())
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise ValueError(f"lm({prefix!r}) probabilities must sum to one, got {total!r}")
    return out


def table_lm(table: Mapping[tuple[str, ...], Mapping[str, float]]) -> LanguageModel:
    """A language model given by a table ``prefix -> next-token probabilities``.

    Every distribution is validated when the model is built, so a table whose
    probabilities do not sum to one fails at once.  Asking the model about a
    prefix that is not in the table raises ``ValueError``.

    Args:
        table: mapping from prefixes (tuples of token strings) to distributions.
    """
    if not isinstance(table, Mapping):
        raise TypeError(f"table must be a dict from prefixes to distributions, got {type(table).__name__}")
    frozen: dict[tuple[str, ...], dict[str, float]] = {}
    for prefix, dist in table.items():
        if not isinstance(prefix, tuple) or not all(isinstance(t, str) for t in prefix):
            raise TypeError(f"table keys must be tuples of token strings, got {prefix!r}")
        frozen[prefix] = _next(lambda _p, d=dist: d, prefix)

    def lm(prefix: tuple[str, ...]) -> dict[str, float]:
        if prefix not in frozen:
            raise ValueError(f"the table gives no next-token probabilities after the prefix {prefix!r}")
        return dict(frozen[prefix])

    return lm


def greedy_decode(lm: LanguageModel, *, max_len: int) -> tuple[tuple[str, ...], float]:
    """Always take the single most probable next token (ties: the first token in string order).

    Args:
        lm: ``lm(prefix) -> {token: probability}`` including ``"<eos>"``.
        max_len: the most tokens a hypothesis may hold (``"<eos>"`` not counted), at least 1.

    Returns:
        ``(tokens, probability)``: the tokens without ``"<eos>"``, and the product of
        the chosen next-token probabilities (the end token's included if it was chosen).
    """
    _check_lm(lm)
    max_len = _max_len(max_len)
    tokens: tuple[str, ...] = ()
    prob = 1.0
    while len(tokens) < max_len:
        dist = _next(lm, tokens)
        # The largest probability is also the largest log score; comparing the
        # probabilities themselves cannot create a tie by rounding.
        token = min(dist, key=lambda t: (-dist[t], t))
        prob *= dist[token]
        if token == EOS:
            break
        tokens += (token,)
    return tokens, prob


def beam_search(lm: LanguageModel, *, beam_width: int, max_len: int) -> tuple[tuple[str, ...], float]:
    """Beam search: keep the ``beam_width`` most probable partial hypotheses at every step.

    At each step every unfinished hypothesis in the beam is extended by every
    next token of positive probability.  Of all these candidates the
    ``beam_width`` most probable are kept (ties: the smaller token tuple, with
    ``"<eos>"`` appended for a hypothesis that ends); those that just ended
    (``"<eos>"`` or ``max_len`` tokens) are set aside as finished, the rest form
    the next beam, which may therefore shrink.  The search stops when the beam
    is empty and returns the most probable finished hypothesis.  Width 1 is
    greedy decoding; a width at least the number of complete sequences of
    positive probability never prunes anything and equals exhaustive search
    (a sufficient width, not a necessary one: narrower beams may be exact too).
    Finished hypotheses take slots, so this is not the variant that keeps
    ``beam_width`` live hypotheses until enough have finished.

    Args:
        lm: ``lm(prefix) -> {token: probability}`` including ``"<eos>"``.
        beam_width: hypotheses kept per step, at least 1.
        max_len: the most tokens a hypothesis may hold, at least 1.

    Returns:
        ``(tokens, probability)`` as in :func:`greedy_decode`.
    """
    _check_lm(lm)
    if isinstance(beam_width, bool) or not isinstance(beam_width, int):
        raise TypeError(f"beam_width must be an int, got {type(beam_width).__name__}")
    if beam_width < 1:
        raise ValueError(f"beam_width must be at least 1, got {beam_width}")
    max_len = _max_len(max_len)
    # A hypothesis: (tokens, log score, probability).
    beam: list[tuple[tuple[str, ...], float, float]] = [((), 0.0, 1.0)]
    finished: list[tuple[float, tuple[str, ...], tuple[str, ...], float]] = []  # (log score, key, tokens, prob)
    while beam:
        candidates = []
        for tokens, score, prob in beam:
            for token, p in _next(lm, tokens).items():
                if p == 0:
                    continue
                if token == EOS:
                    key, extended, done = tokens + (EOS,), tokens, True
                else:
                    key = extended = tokens + (token,)
                    done = len(extended) >= max_len
                candidates.append((score + math.log(p), p, key, extended, prob * p, done))
        # Rank by log score; where two extensions of one hypothesis round to the
        # same score, the larger next-token probability first (as greedy does),
        # then the token order.
        candidates.sort(key=lambda c: (-c[0], -c[1], c[2]))
        beam = []
        for score, _, key, tokens, prob, done in candidates[:beam_width]:
            if done:
                finished.append((score, key, tokens, prob))
            else:
                beam.append((tokens, score, prob))
    _, _, tokens, prob = min(finished, key=lambda f: (-f[0], f[1]))
    return tokens, prob


def _complete_sequences(lm: LanguageModel, max_len: int, max_sequences: int
                        ) -> list[tuple[tuple[str, ...], float, float]]:
    """Every complete sequence of positive probability as (tokens, log score, probability)."""
    out: list[tuple[tuple[str, ...], float, float]] = []
    stack: list[tuple[tuple[str, ...], float, float]] = [((), 0.0, 1.0)]
    while stack:
        tokens, score, prob = stack.pop()
        for token, p in _next(lm, tokens).items():
            if p == 0:
                continue
            if token == EOS or len(tokens) + 1 >= max_len:
                seq = tokens if token == EOS else tokens + (token,)
                out.append((seq, score + math.log(p), prob * p))
                if len(out) > max_sequences:
                    raise ValueError(f"more than max_sequences={max_sequences} sequences; raise it or shorten max_len")
            else:
                stack.append((tokens + (token,), score + math.log(p), prob * p))
    return out


def sequence_probabilities(
    lm: LanguageModel, *, max_len: int, max_sequences: int = 100_000
) -> dict[tuple[str, ...], float]:
    """Every complete sequence of positive probability, with its probability (exhaustive enumeration).

    The cost grows like ``V ** max_len`` for a vocabulary of ``V`` tokens, so the
    enumeration refuses to list more than ``max_sequences`` sequences.

    Args:
        lm: ``lm(prefix) -> {token: probability}`` including ``"<eos>"``.
        max_len: the most tokens a sequence may hold, at least 1.
        max_sequences: a guard against an exponential blow-up, at least 1.

    Returns:
        ``{tokens: probability}`` for sequences ended by ``"<eos>"`` (not included in
        the tokens) or by reaching ``max_len`` tokens.  For a model whose every
        hypothesis ends by ``max_len``, the probabilities sum to one.
    """
    _check_lm(lm)
    max_len = _max_len(max_len)
    if isinstance(max_sequences, bool) or not isinstance(max_sequences, int) or max_sequences < 1:
        raise ValueError(f"max_sequences must be a positive int, got {max_sequences!r}")
    return {tokens: prob for tokens, _, prob in _complete_sequences(lm, max_len, max_sequences)}


def best_sequence(lm: LanguageModel, *, max_len: int) -> tuple[tuple[str, ...], float]:
    """The most probable complete sequence, by exhaustive search (ties as in :func:`beam_search`).

    Args:
        lm: ``lm(prefix) -> {token: probability}`` including ``"<eos>"``.
        max_len: the most tokens a sequence may hold, at least 1.

    Returns:
        ``(tokens, probability)`` as in :func:`greedy_decode`.
    """
    _check_lm(lm)
    max_len = _max_len(max_len)
    sequences = _complete_sequences(lm, max_len, 100_000)
    # Rank by log score as beam_search does; tie key: a sequence shorter than
    # max_len ended with <eos>.
    _, _, tokens, prob = min((-score, t + (EOS,) if len(t) < max_len else t, t, prob)
                             for t, score, prob in sequences)
    return tokens, prob
