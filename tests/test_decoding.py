"""greedy_decode, beam_search and exhaustive search (chapter *Greedy decoding versus beam search*)."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlnotes.decoding import (
    EOS,
    beam_search,
    best_sequence,
    greedy_decode,
    sequence_probabilities,
    table_lm,
)


def two_step_lm():
    """P(A)=0.6, P(B)=0.4; P(.|A)=(0.5, 0.5); P(.|B)=(0.1, 0.9); <eos> with certainty after two tokens."""
    table = {(): {"A": 0.6, "B": 0.4, EOS: 0.0}, ("A",): {"A": 0.5, "B": 0.5, EOS: 0.0},
             ("B",): {"A": 0.1, "B": 0.9, EOS: 0.0}}
    table.update({(a, b): {"A": 0.0, "B": 0.0, EOS: 1.0} for a in "AB" for b in "AB"})
    return table_lm(table)


def test_reference_greedy_and_beam():
    lm = two_step_lm()
    tokens, p = greedy_decode(lm, max_len=5)
    assert tokens == ("A", "A") and abs(p - 0.30) < 1e-12
    tokens, p = beam_search(lm, beam_width=2, max_len=5)
    assert tokens == ("B", "B") and abs(p - 0.36) < 1e-12
    assert best_sequence(lm, max_len=5) == (tokens, p)


def test_sequence_probabilities_sum_to_one():
    probs = sequence_probabilities(two_step_lm(), max_len=5)
    assert set(probs) == {("A", "A"), ("A", "B"), ("B", "A"), ("B", "B")}
    assert abs(math.fsum(probs.values()) - 1) < 1e-12


def test_max_len_ends_a_hypothesis_without_eos():
    lm = lambda prefix: {"x": 0.9, EOS: 0.1}  # noqa: E731
    assert greedy_decode(lm, max_len=3) == (("x", "x", "x"), 0.9 * 0.9 * 0.9)
    tokens, p = best_sequence(lm, max_len=3)
    assert tokens == ("x", "x", "x") and p == 0.9 * 0.9 * 0.9


def test_greedy_ties_go_to_the_first_token_in_string_order():
    lm = lambda prefix: {"b": 0.5, "a": 0.5} if not prefix else {EOS: 1.0}  # noqa: E731
    assert greedy_decode(lm, max_len=4) == (("a",), 0.5)
    assert beam_search(lm, beam_width=1, max_len=4) == (("a",), 0.5)


def random_lm(draw_probs, vocab, max_len):
    """A table language model over all prefixes up to max_len, from a list of drawn weights."""
    table = {}
    it = iter(draw_probs)

    def fill(prefix):
        weights = [next(it) for _ in range(len(vocab) + 1)]
        total = sum(weights)
        dist = {tok: w / total for tok, w in zip(vocab + [EOS], weights)}
        dist[EOS] = 1.0 - math.fsum(v for k, v in dist.items() if k != EOS)
        dist[EOS] = max(dist[EOS], 0.0)
        table[prefix] = dist
        if len(prefix) < max_len - 1:
            for tok in vocab:
                fill(prefix + (tok,))

    fill(())
    return table_lm(table)


weights_strategy = st.lists(st.integers(1, 9), min_size=200, max_size=200)


@settings(max_examples=40, deadline=None)
@given(weights_strategy, st.integers(1, 3), st.integers(1, 3))
def test_wide_beam_equals_exhaustive_search(weights, vocab_size, max_len):
    lm = random_lm(weights, ["a", "b", "c"][:vocab_size], max_len)
    n_sequences = len(sequence_probabilities(lm, max_len=max_len))
    assert beam_search(lm, beam_width=n_sequences, max_len=max_len) == best_sequence(lm, max_len=max_len)


@settings(max_examples=40, deadline=None)
@given(weights_strategy, st.integers(1, 3), st.integers(1, 3), st.integers(1, 4))
def test_beam_never_beats_exhaustive_and_width_one_is_greedy(weights, vocab_size, max_len, width):
    lm = random_lm(weights, ["a", "b", "c"][:vocab_size], max_len)
    _, best = best_sequence(lm, max_len=max_len)
    tokens, p = beam_search(lm, beam_width=width, max_len=max_len)
    assert p <= best
    assert sequence_probabilities(lm, max_len=max_len)[tokens] == p
    assert beam_search(lm, beam_width=1, max_len=max_len) == greedy_decode(lm, max_len=max_len)


def test_argument_errors():
    lm = two_step_lm()
    with pytest.raises(ValueError, match="beam_width must be at least 1"):
        beam_search(lm, beam_width=0, max_len=3)
    with pytest.raises(TypeError, match="beam_width must be an int"):
        beam_search(lm, beam_width=2.0, max_len=3)
    with pytest.raises(ValueError, match="max_len must be at least 1"):
        greedy_decode(lm, max_len=0)
    with pytest.raises(ValueError, match="must sum to one"):
        table_lm({(): {"A": 0.5, EOS: 0.4}})
    with pytest.raises(ValueError, match="must sum to one"):
        greedy_decode(lambda prefix: {"A": 0.7, EOS: 0.7}, max_len=2)
    with pytest.raises(ValueError, match="finite probability"):
        greedy_decode(lambda prefix: {"A": 1.5, EOS: -0.5}, max_len=2)
    with pytest.raises(TypeError, match="lm must be callable"):
        greedy_decode({"A": 1.0}, max_len=2)
    with pytest.raises(ValueError, match="no next-token probabilities after the prefix"):
        greedy_decode(table_lm({(): {"A": 1.0}}), max_len=3)



# --------------------------------------------------------------------------- log-space scores


def test_hypotheses_whose_products_underflow_are_still_ranked():
    """2**1100 equally probable prefixes (0.5 ** 1100 underflows to 0), then "x" (0.25) or "y" (0.75).

    Ranked by products every candidate would tie at 0 and the token order would pick "x"; ranked by
    log scores the beam takes "y".
    """
    length = 1100
    assert 0.5**length == 0.0

    def lm(prefix):
        if len(prefix) < length:
            return {"m": 0.5, "n": 0.5, EOS: 0.0}
        return {"x": 0.25, "y": 0.75, EOS: 0.0}

    tokens, prob = beam_search(lm, beam_width=2, max_len=length + 1)
    assert tokens == ("m",) * length + ("y",)
    assert prob == 0.0  # the returned product underflows; the ranking did not
    assert greedy_decode(lm, max_len=length + 1)[0] == tokens


def test_width_one_follows_greedy_where_log_scores_round_to_a_tie():
    """Two next tokens one ulp apart after a prefix of log score about -921: their sums round to the
    same float, and width 1 must still take the larger probability, as greedy does."""
    depth = 400
    ten = {f"t{i}": 0.1 for i in range(10)}
    larger, smaller = 0.4, math.nextafter(0.4, 0.0)
    last = {"a": smaller, "b": larger, EOS: 1.0 - larger - smaller}

    def lm(prefix):
        return {**ten, EOS: 0.0} if len(prefix) < depth else last

    score = 0.0
    for _ in range(depth):
        score += math.log(0.1)
    assert score + math.log(larger) == score + math.log(smaller)  # the tie the rounding makes
    greedy = greedy_decode(lm, max_len=depth + 1)
    assert greedy[0][-1] == "b"
    assert beam_search(lm, beam_width=1, max_len=depth + 1) == greedy


def test_digit_tokens_precede_eos_on_a_tie_and_letters_follow_it():
    digits = table_lm({(): {"1": 0.5, EOS: 0.5}, ("1",): {"1": 0.0, EOS: 1.0}})
    letters = table_lm({(): {"a": 0.5, EOS: 0.5}, ("a",): {"a": 0.0, EOS: 1.0}})
    for lm, first in ((digits, ("1",)), (letters, ())):  # "1" is 0x31 < "<" 0x3C < "a" 0x61
        assert greedy_decode(lm, max_len=3)[0] == first
        assert beam_search(lm, beam_width=1, max_len=3)[0] == first
        assert best_sequence(lm, max_len=3)[0] == first


def test_best_sequence_uses_the_same_scores_as_a_full_beam():
    lm = two_step_lm()
    assert best_sequence(lm, max_len=5) == beam_search(lm, beam_width=10, max_len=5)
