"""Exercises of the part Recurrent networks and the cost of sequence models: rnn_shapes, bptt, alternating_rnn, sequence_model_cost.

Registered in book order: the chapters as ``_toc.yml`` lists them, the exercises as each
chapter writes them.  References are computed, not typed in, where a formula exists.
"""

from __future__ import annotations

import math

import torch

from .engine import Mistake, register
from .kinds import N_RANDOM, Count, Function, Number, Tuple, count_output, random_int, random_normal, vector_output

# --------------------------------------------------------------- Recurrent networks: rnn_shapes

_CH = "rnn_shapes"

register(
    "rnn-shapes-count", _CH, "Counting conditionals",
    Tuple("(entries of the joint table, softmax outputs evaluated)", Count("the entries of the joint table"),
           Count("the softmax outputs evaluated")),
    (10_000**3, 3 * 10_000),
    "Not yet. The table needs one entry per sequence of length T; the model runs one softmax over the "
    "vocabulary per position.",
    [
        Mistake("The order is (joint table, softmax outputs).", predicate=lambda a: a == (3 * 10_000, 10_000**3),
                 example=(3 * 10_000, 10_000**3)),
        Mistake("The table needs one entry for every sequence: K choices at each of the T positions multiply, "
                 "they do not add.", predicate=lambda a: a[0] == 3 * 10_000 and a[1] != 10_000**3,
                 example=(3 * 10_000, 3 * 10_000)),
        Mistake("Each of the T softmaxes is evaluated over the whole vocabulary, even though only one of its "
                 "outputs is used.", predicate=lambda a: a[1] == 3 and a[0] != 3, example=(10_000**3, 3)),
    ],
    accepts=lambda a: a[0] in (10_000**3, 10_000**3 - 1) and a[1] == 3 * 10_000,
)


def _td_inputs(gen: torch.Generator) -> list[tuple]:
    cases = []
    for _ in range(N_RANDOM):
        T = random_int(gen, 1, 12)
        cases.append((T, random_int(gen, 0, T)))  # the prompt asks for 0 <= D <= T
    return cases + [(7, 2), (1, 0), (5, 0), (4, 4)]


def _zero_blocks(T: int, D: int) -> int:
    return (T - D) * (T - D - 1) // 2 if D < T else 0


register(
    "rnn-shapes-delay", _CH, "A delayed output",
    Function("the number of blocks of dy_t/dx_s that are zero (an int)", "(T, D) of the sequence length T and "
              "the delay D, both ints, 0 <= D <= T", _td_inputs, count_output,
              equal_output=lambda a, b: a == b),
    _zero_blocks,
    "Not yet. With the delay, y_t is read from h_(t+D); ask which inputs x_s cannot have reached that state.",
    [
        Mistake("That ignores the delay: y_t may use D more inputs, so fewer blocks vanish.",
                 value=lambda T, D: T * (T - 1) // 2),
        Mistake("The input x_(t+D) itself reaches h_(t+D), so the block with s = t + D need not vanish.",
                 value=lambda T, D: (T - D + 1) * (T - D) // 2 if D <= T else 0),
    ],
)

# --------------------------------------------------------------- Recurrent networks: bptt

_CH = "bptt"


def _ten_sigmoids() -> tuple[float, float]:
    h, grad = 0.0, 1.0
    for _ in range(10):
        s = 1 / (1 + math.exp(-h))
        grad *= s * (1 - s)
        h = s
    return grad, h


register(
    "bptt-ten-sigmoids", _CH, "Ten sigmoids in a chain",
    Number("dh_10/dh_0", digits=5), _ten_sigmoids()[0],
    "Not yet. Run the chain forward from h_0 = 0 and multiply the ten slopes sigma'(h_(t-1)) = h_t (1 - h_t).",
    [
        Mistake("That is the bound, reached only if every factor were a quarter. Only the first factor is: "
                 "the states move away from 0.", value=0.25**10),
        Mistake("That is h_10, the state itself, not its derivative with respect to h_0.",
                 value=_ten_sigmoids()[1]),
    ],
)

register(
    "bptt-horizon", _CH, "How far back does the signal reach?",
    Count("the number of steps k"), math.ceil(6 * math.log(10) / math.log(2)),
    "Not yet. An orthogonal Q keeps norms, so the Jacobian norm is a power of 0.5; find the first k that puts "
    "it below a millionth.",
    [
        Mistake("One step short: there the norm is still above a millionth. Round the threshold up.",
                 value=math.floor(6 * math.log(10) / math.log(2))),
        Mistake("That counts powers of ten; each step halves the norm.", value=6),
    ],
)


def _bptt_inputs(gen: torch.Generator) -> list[tuple]:
    cases = []
    for _ in range(N_RANDOM):
        n = random_int(gen, 2, 5)
        cases.append((random_normal(gen, n, n), random_normal(gen, n)))
    return cases + [(torch.eye(3, dtype=torch.float64), random_normal(gen, 3)), (random_normal(gen, 1, 1), random_normal(gen, 1))]


register(
    "bptt-h0", _CH, "The gradient for the initial state",
    Function("dL/dh_0, shape (n,)", "(W_hh, r_1) of W_hh, shape (n, n), and r_1, shape (n,)", _bptt_inputs,
              vector_output(lambda a: a[1].shape[0], "dL/dh_0"), atol=1e-9, rtol=1e-9),
    lambda W_hh, r_1: W_hh.T @ r_1,
    "Not yet. h_0 enters the loss only through z_1 = W_hh h_0 + ...; apply the chain rule to that one term.",
    [
        Mistake("Backpropagation through z = W h multiplies by the transpose of W, not by W.",
                 value=lambda W_hh, r_1: W_hh @ r_1),
        Mistake("h_0 enters through W_hh h_0, so its gradient passes through W_hh as well.",
                 value=lambda W_hh, r_1: r_1.clone()),
    ],
)

# --------------------------------------------------------------- Recurrent networks: alternating_rnn

_CH = "alternating_rnn"

register(
    "alternating-rnn-running-sum", _CH, "A running sum",
    Number("the recurrent weight w", decimals=6), 1.0,
    "Not yet. Unroll H_t = X_t + w H_(t-1) for three steps and read off the factor in front of X_1.",
    [
        Mistake("With w = 0 the network forgets the past: H_T = X_T.", value=0.0),
        Mistake("w = -1 alternates the signs of the inputs; the plain sum needs every input with factor one.",
                 value=-1.0),
    ],
)

register(
    "alternating-rnn-gain", _CH, "How large a gain?",
    Number("the smallest gain g", decimals=2), math.log(1e6 - 1),
    "Not yet. Require sigma(g) >= 1 - 1e-6 at H_T = 1 and solve for g.",
    [
        Mistake("sigma involves e^(-g), so solve with the natural logarithm, not the decimal one.",
                 value=math.log10(1e6 - 1)),
        Mistake("That gain works, but it is far larger than the smallest one that does.", value=1000.0),
    ],
)

# "About 1" at gain 1000: a tie must give sigma(1000 H_0) >= 0.99 and E - O = -1 must give
# sigma(1000 (H_0 - 1)) <= 0.01, i.e. H_0 at least ln(99)/1000 away from 0 and from 1.
_H0_MARGIN = math.log(99) / 1000

register(
    "alternating-rnn-h0", _CH, "Moving the threshold with $H_0$",
    Number("the initial state H_0"), 0.5,
    "Not yet. With even T, H_T = E - O + H_0; ask where H_0 must put a tie and where the case E - O = -1.",
    [
        Mistake("With that H_0 a tie gives H_T = 0 and an output of exactly one half, not about 1.",
                 predicate=lambda h: h == 0.0, example=0.0),
        Mistake("With that H_0 the case E - O = -1 gives H_T >= 0, so the network does not answer about 0 "
                 "there.", predicate=lambda h: h >= 1.0, example=1.0),
        Mistake("A negative H_0 moves the threshold the wrong way: ties then give H_T < 0 and an output of "
                 "about 0.", predicate=lambda h: h < 0.0, example=-0.5),
        Mistake("Too close to 0 for a gain of 1000: a tie gives sigma(1000 H_0) below 0.99, not about 1. "
                 "Keep H_0 at least ln(99)/1000 away from 0.", predicate=lambda h: 0.0 < h < _H0_MARGIN,
                 example=0.001),
        Mistake("Too close to 1 for a gain of 1000: E - O = -1 gives sigma(1000 (H_0 - 1)) above 0.01, not "
                 "about 0. Keep H_0 at least ln(99)/1000 away from 1.",
                 predicate=lambda h: 1.0 - _H0_MARGIN < h < 1.0, example=0.999),
    ],
    accepts=lambda h: _H0_MARGIN <= h <= 1.0 - _H0_MARGIN,
)

# --------------------------------------------------------------- Recurrent networks: sequence_model_cost

_CH = "sequence_model_cost"

register(
    "cost-crossover", _CH, "The crossover width",
    Count("the smallest width n"), 1000 + 1,
    "Not yet. Compare the attention products' 4 t^2 n FLOPs with the recurrence's 4 t n^2 and solve for n.",
    [
        Mistake("At n = t the two costs are equal; cheaper needs a strictly larger width.", value=1000),
        Mistake("Attention is the cheaper one only for wide layers, n > t, not for narrow ones.", value=999),
    ],
)

register(
    "cost-window-n", _CH, "A window as wide as the model",
    Tuple("(FLOPs of restricted attention with r = n, FLOPs of the recurrent layer)",
           Count("the restricted attention FLOPs"), Count("the recurrent layer FLOPs")),
    (4 * 4096 * 256**2, 4 * 4096 * 256**2),
    "Not yet. Restricted attention costs 4 t r n FLOPs and one recurrent layer 4 t n^2; put r = n.",
    [
        Mistake("Count FLOPs, two per multiply-add, as the chapter does.",
                 value=(2 * 4096 * 256**2, 2 * 4096 * 256**2)),
        Mistake("With a window, each position attends to r keys, not to all t of them.", part=0,
                 value=4 * 4096**2 * 256, example=(4 * 4096**2 * 256, 4 * 4096 * 256**2)),
    ],
)

register(
    "cost-pipeline", _CH, "Pipelining a deep RNN",
    Count("the number of waves"), 100 + 4 - 1,
    "Not yet. Find the wave of cell (layer, step) from its two dependencies, starting with wave 1 for cell (1, 1).",
    [
        Mistake("Layers need not wait for each other to finish: layer 2 can start step 1 while layer 1 works "
                 "on step 2.", value=100 * 4),
        Mistake("One too many: cell (1, 1) already runs in the first wave.", value=100 + 4),
        Mistake("The last layer finishes its last step only L - 1 waves after the first layer does.", value=100),
    ],
)
