"""Exercises of the part Decoding: greedy_vs_beam.

Registered in book order: the chapters as ``_toc.yml`` lists them, the exercises as each
chapter writes them.  References are computed, not typed in, where a formula exists.
"""

from __future__ import annotations

import torch

from .engine import Mistake, register
from .kinds import N_RANDOM, Choice, Function, Number, Tuple, count_output, random_int

# --------------------------------------------------------------- Decoding: greedy_vs_beam

_CH = "greedy_vs_beam"


def _vt_inputs(gen: torch.Generator) -> list[tuple]:
    cases = [(random_int(gen, 1, 9), random_int(gen, 1, 7)) for _ in range(N_RANDOM)]
    return cases + [(1, 1), (1, 5), (3, 3), (2, 10), (5, 1)]


register(
    "greedy-vs-beam-count", _CH, "Counting sequences",
    Function("the number of complete sequences (an int)", "(V, T) of the vocabulary size V and max_len T, "
              "both ints", _vt_inputs, count_output, equal_output=lambda a, b: a == b),
    lambda V, T: V**T + sum(V**t for t in range(T)),
    "Not yet. Sort the complete sequences by their length: those that end with <eos> after t < T tokens, "
    "and those stopped at T tokens.",
    [
        Mistake("Sequences can also end early, with <eos> after fewer than T tokens; count those too.",
                 value=lambda V, T: V**T),
        Mistake("After <eos> nothing follows: a sequence that ends early is shorter, not padded, so <eos> "
                 "is not one more token to choose at every position.", value=lambda V, T: (V + 1) ** T),
        Mistake("<eos> can come first: the empty sequence is a complete sequence too.",
                 value=lambda V, T: sum(V**t for t in range(1, T + 1))),
    ],
)

register(
    "greedy-vs-beam-width-one", _CH, "Greedy is beam search of width 1",
    Choice("the one assumption the argument needs",
            {"ties": ("tie", "tie breaking", "tie-breaking"), "eos": ("<eos>", "end of sequence"),
             "max_len": ("max len", "length", "maximum length"), "none": ("nothing",)}),
    "ties",
    "Not yet. Follow both methods one step at a time and ask where either of them makes a choice.",
    [
        Mistake("In this chapter's beam search a hypothesis that ends still takes one of the k places in the "
                 "beam, so with k = 1, when the best next token is <eos>, beam search stops exactly where greedy "
                 "does: nothing about <eos> needs assuming. (In the variant that sets finished hypotheses aside "
                 "and keeps k unfinished ones, width 1 can differ from greedy; the exercise is about this "
                 "chapter's variant.)", value="eos"),
        Mistake("Both stop at the same max_len; the length limit is shared, so it needs no assumption.",
                 value="max_len"),
        Mistake("The argument does rest on one assumption: look at a step where two next tokens are equally "
                 "probable, and ask how each method picks one.", value="none"),
    ],
)

# Beam search of width 2 in the first model with P(B | B) = p keeps AA or AB (0.30, greedy's value) and
# the better of BA = 0.4 (1 - p) and BB = 0.4 p: it wins exactly when p < 1/4 or p > 3/4.
register(
    "greedy-vs-beam-ratio", _CH, "How much better than greedy?",
    Tuple("(p_low, p_high, ratio): beam search wins exactly when p < p_low or p > p_high "
           "(p_low = 0 if it never wins for small p), and the ratio beam / greedy at p = 1",
           Number("p_low", decimals=4), Number("p_high", decimals=4), Number("the ratio at p = 1", decimals=4)),
    (0.25, 0.75, 4 / 3),
    "Not yet. Compare the probabilities of both sequences that start with B with that of greedy's "
    "complete sequence.",
    [
        Mistake("For small p the sequence BA, of probability 0.4 (1 - p), is the one the beam keeps; "
                 "compare it with greedy's 0.30 too.", part=0, value=0.0, example=(0.0, 0.75, 4 / 3)),
        Mistake("A sequence through B has to beat greedy's whole sequence, whose probability is the product "
                 "of both steps, not the second step alone.", part=1, value=0.5, example=(0.25, 0.5, 4 / 3)),
        Mistake("BA has to beat greedy's whole sequence, whose probability is the product of both steps; "
                 "comparing 1 - p with the second step alone gives the wrong threshold.", part=0, value=0.5,
                 example=(0.5, 0.75, 4 / 3)),
        Mistake("The ratio is beam over greedy, the better sequence's probability on top.", part=2,
                 value=3 / 4, example=(0.25, 0.75, 3 / 4)),
    ],
)
