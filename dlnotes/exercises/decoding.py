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
    Choice("what could make the two return different sequences",
            {"ties": ("tie", "tie breaking", "tie-breaking"), "eos": ("<eos>", "end of sequence"),
             "max_len": ("max len", "length", "maximum length"), "none": ("nothing",)}),
    "ties",
    "Not yet. Follow both methods one step at a time and ask where either of them makes a choice.",
    [
        Mistake("If the best next token is <eos>, both stop: the finished hypothesis is the only one in a "
                 "beam of width one.", value="eos"),
        Mistake("Both stop at the same max_len; the length limit is shared.", value="max_len"),
        Mistake("Almost: the argument needs one assumption, stated in the exercise. Without it the two "
                 "can part ways.", value="none"),
    ],
)

register(
    "greedy-vs-beam-ratio", _CH, "How much better than greedy?",
    Tuple("(the threshold p above which beam search wins, the ratio beam / greedy at p = 1)",
           Number("the threshold p", atol=1e-6), Number("the ratio at p = 1", atol=1e-6)),
    (0.75, 4 / 3),
    "Not yet. Compare the probability of the sequence BB with that of greedy's complete sequence.",
    [
        Mistake("BB has to beat greedy's whole sequence, whose probability is the product of both steps, "
                 "not the second step alone.", part=0, value=0.5, example=(0.5, 4 / 3)),
        Mistake("The ratio is beam over greedy, the better sequence's probability on top.", part=1,
                 value=3 / 4, example=(0.75, 3 / 4)),
    ],
)
