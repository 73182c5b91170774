"""Exercises of the part Foundations: perceptron_xor, linear_depth, vanishing_gradients.

Registered in book order: the chapters as ``_toc.yml`` lists them, the exercises as each
chapter writes them.  References are computed, not typed in, where a formula exists.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .engine import Mistake, register
from .kinds import (
    N_RANDOM,
    Array,
    Count,
    Function,
    Kind,
    Number,
    Tuple,
    WrongKind,
    as_array,
    close,
    random_int,
    random_normal,
    real_scalar,
    type_name,
    vector_output,
)

#
# Book order: the chapters as _toc.yml lists them, the exercises as each chapter
# writes them.  References are computed, not typed in, where a formula exists.

# --------------------------------------------------------------- Foundations: perceptron_xor

_CH = "perceptron_xor"
_CORNERS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
_CUBE = np.array([[a, b, c] for a in (0, 1) for b in (0, 1) for c in (0, 1)], dtype=np.float64)
_XOR = np.array([0, 1, 1, 0])


def _step(z: np.ndarray) -> np.ndarray:
    return (z > 0).astype(np.int64)


register(
    "perceptron-xor-three-inputs", _CH, "Threshold functions of three inputs",
    Count("the number of Boolean functions of three inputs a perceptron computes"), 104,
    "Not yet. Test every truth table on the eight corners of the cube with linearly_separable "
    "and count the separable ones.",
    [
        Mistake("That counts only the functions with f(0, 0, 0) = 0. The complement 1 - f of a separable "
                 "function is separable too (negate w and b), so the full count is twice as large.", value=52),
        Mistake("Not every Boolean function is a threshold function: the parity of three bits, for one, "
                 "is not, for the same reason XOR is not.", value=256),
        Mistake("That is the count for two inputs. Repeat the test on the eight corners of the cube.", value=14),
    ],
)


def _xor_outputs(answer: tuple) -> np.ndarray:
    w, b = answer
    lifted = np.column_stack([_CORNERS, _CORNERS[:, 0] * _CORNERS[:, 1]])
    return _step(lifted @ w + b)


register(
    "perceptron-xor-feature", _CH, "One extra feature",
    Tuple("the perceptron's weights and bias (w, b)",
           Array("w, the weights of x1, x2 and x1*x2", (3,)), Number("b, the bias")),
    ((1.0, 1.0, -2.0), -0.5),
    "Not yet. Evaluate step(w1 x1 + w2 x2 + w3 x1 x2 + b) on the four corners and compare with XOR; "
    "remember that step(0) = 0.",
    [
        Mistake("Your weights ignore the product x1 x2, and without it the perceptron is the one that cannot "
                 "compute XOR: the extra feature must carry weight.",
                 predicate=lambda a: a[0][2] == 0, example=((1.0, 1.0, 0.0), -0.5)),
        Mistake("Your perceptron fires at (1, 1). There the product feature is 1 and has to pull the sum "
                 "below the threshold, so its weight must outweigh w1 + w2 + b.",
                 predicate=lambda a: a[0][2] != 0 and _xor_outputs(a).tolist() == [0, 1, 1, 1],
                 example=((1.0, 1.0, -1.0), -0.5)),
        Mistake("Your weights compute the complement of XOR (1 at (0, 0) and (1, 1)). Negating every weight "
                 "and the bias turns a function into its complement, as long as no weighted sum is exactly 0.",
                 predicate=lambda a: _xor_outputs(a).tolist() == [1, 0, 0, 1], example=((-1.0, -1.0, 2.0), 0.5)),
    ],
    accepts=lambda a: _xor_outputs(a).tolist() == _XOR.tolist(),
)


class _ParityNet(Kind):
    """(W1, b1, w2, b2): W1 of shape (h, 3), b1 and w2 of shape (h,), b2 a number."""

    expects = ("the network's weights (W1, b1, w2, b2): W1 of shape (h, 3), b1 and w2 of shape (h,), "
               "b2 a number, computing step(w2 · step(W1 x + b1) + b2)")

    def normalise(self, x: Any) -> tuple:
        if not isinstance(x, Sequence) or isinstance(x, (str, bytes)) or len(x) != 4:
            raise WrongKind(f"expected {self.expects}; got {type_name(x)}")
        W1 = as_array(x[0], "W1", ndim=2)
        if W1.shape[1] != 3 or W1.shape[0] < 1:
            raise WrongKind(f"expected W1 of shape (h, 3) with h >= 1, got shape {W1.shape}")
        h = W1.shape[0]
        b1 = as_array(x[1], "b1", (h,))
        w2 = as_array(x[2], "w2", (h,))
        b2 = real_scalar(x[3], "b2, the output bias")
        return W1, b1, w2, b2


def _parity_outputs(a: tuple) -> list[int]:
    W1, b1, w2, b2 = a
    hidden = _step(_CUBE @ W1.T + b1)
    return _step(hidden @ w2 + b2).tolist()


_SUMS = _CUBE.sum(1).astype(int)

register(
    "perceptron-xor-parity", _CH, "Parity of three bits",
    _ParityNet(),
    ([[1.0, 1.0, 1.0]] * 3, [-0.5, -1.5, -2.5], [1.0, -1.0, 1.0], -0.5),
    "Not yet. Parity depends only on the number of bits that are on; evaluate your network on all "
    "eight inputs, grouped by that number.",
    [
        Mistake("Your network ignores the third bit: it computes the XOR of the first two. Parity has to "
                 "flip whenever any one bit flips.",
                 predicate=lambda a: _parity_outputs(a) == [int(r[0]) ^ int(r[1]) for r in _CUBE],
                 example=([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0]], [-0.5, -1.5], [1.0, -1.0], -0.5)),
        Mistake("Your network fires whenever at least one bit is on. Parity must switch off again when two "
                 "bits are on, which needs a hidden unit that subtracts once the count reaches two.",
                 predicate=lambda a: _parity_outputs(a) == [int(s >= 1) for s in _SUMS],
                 example=([[1.0, 1.0, 1.0]], [-0.5], [1.0], -0.5)),
        Mistake("Your network fires for exactly one bit on, but parity is also 1 when all three are on: "
                 "a further hidden unit that fires at a count of three has to add it back.",
                 predicate=lambda a: _parity_outputs(a) == [int(s == 1) for s in _SUMS],
                 example=([[1.0, 1.0, 1.0]] * 2, [-0.5, -1.5], [1.0, -1.0], -0.5)),
    ],
    accepts=lambda a: _parity_outputs(a) == [int(s % 2) for s in _SUMS],
)

# --------------------------------------------------------------- Foundations: linear_depth

_CH = "linear_depth"


def _square_layers(gen: torch.Generator, n_layers: int) -> list[tuple]:
    """Random square layers (W_l of shape (d, d), b_l of shape (d,)), d from 2 to 4, then edge cases."""
    cases = []
    for _ in range(N_RANDOM):
        d = random_int(gen, 2, 4)
        cases.append(tuple(t for _ in range(n_layers) for t in (random_normal(gen, d, d), random_normal(gen, d))))
    d = 3
    eye, zero = torch.eye(d, dtype=torch.float64), torch.zeros(d, dtype=torch.float64)
    cases.append(tuple(t for _ in range(n_layers) for t in (eye, random_normal(gen, d))))        # identity weights
    cases.append(tuple(t for _ in range(n_layers) for t in (random_normal(gen, d, d), zero)))   # no biases
    cases.append(tuple(t for _ in range(n_layers) for t in (random_normal(gen, 1, 1), random_normal(gen, 1))))  # width 1
    return cases


register(
    "linear-depth-three", _CH, "Three layers by hand",
    Function("the collapsed bias b, shape (d,)", "(W1, b1, W2, b2, W3, b3)",
              lambda g: _square_layers(g, 3), vector_output(lambda a: a[5].shape[0], "the bias b"),
              atol=1e-9, rtol=1e-9),
    lambda W1, b1, W2, b2, W3, b3: W3 @ W2 @ b1 + W3 @ b2 + b3,
    "Not yet. Push x through the three layers symbolically and collect the terms that do not contain x.",
    [
        Mistake("Each bias is transformed by every layer after it: b1 passes through W2 and then W3, "
                 "b2 through W3. Only the last bias is added as it is.",
                 value=lambda W1, b1, W2, b2, W3, b3: b1 + b2 + b3),
        Mistake("The layers act from right to left: b1 is first multiplied by W2 and only then by W3, and "
                 "matrix products do not commute.",
                 value=lambda W1, b1, W2, b2, W3, b3: W2 @ W3 @ b1 + W3 @ b2 + b3),
        Mistake("The last layer adds its own bias b3, untransformed.",
                 value=lambda W1, b1, W2, b2, W3, b3: W3 @ W2 @ b1 + W3 @ b2),
    ],
)


def _rect_two_layers(gen: torch.Generator) -> list[tuple]:
    """(W1 (h, d), b1 (h,), W2 (o, h), b2 (o,)) with d, h, o from 1 to 4, then edge cases."""
    cases = []
    for _ in range(N_RANDOM):
        d, h, o = (random_int(gen, 1, 4) for _ in range(3))
        cases.append((random_normal(gen, h, d), random_normal(gen, h), random_normal(gen, o, h), random_normal(gen, o)))
    cases.append((torch.eye(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64),
                  torch.eye(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)))
    cases.append((torch.zeros(2, 3, dtype=torch.float64), random_normal(gen, 2), random_normal(gen, 4, 2), random_normal(gen, 4)))
    return cases


def _affine_pair_output(value: Any, args: tuple) -> tuple[np.ndarray, np.ndarray]:
    o, d = args[2].shape[0], args[0].shape[1]
    if not isinstance(value, Sequence) or len(value) != 2:
        raise WrongKind(f"expected a pair (W, b), got {type_name(value)}")
    return as_array(value[0], "W", (o, d)), as_array(value[1], "b", (o,))


def _pairs_close(a: tuple, b: tuple) -> bool:
    return all(close(x, y, 1e-9, 1e-9) for x, y in zip(a, b))


def _affine_act_reference(W1, b1, W2, b2):
    return 2 * W2 @ W1, 2 * W2 @ b1 + W2 @ torch.ones_like(b1) + b2


register(
    "linear-depth-affine-activation", _CH, "An affine activation",
    Function("the pair (W, b) of the collapsed map: W of shape (o, d), b of shape (o,)",
              "(W1, b1, W2, b2) with W1 of shape (h, d) and W2 of shape (o, h)",
              _rect_two_layers, _affine_pair_output, atol=1e-9, rtol=1e-9, equal_output=_pairs_close),
    _affine_act_reference,
    "Not yet. Expand W2 phi(W1 x + b1) + b2 with phi(z) = 2z + 1 and sort the terms into those with x "
    "and those without.",
    [
        Mistake("The factor 2 of the activation multiplies W1 x as well: it belongs in W.",
                 value=lambda W1, b1, W2, b2: (W2 @ W1, 2 * W2 @ b1 + W2 @ torch.ones_like(b1) + b2)),
        Mistake("The constant 1 of the activation is added before W2 acts, so it reaches the output as "
                 "W2 times the all-ones vector, not as a 1 added at the end.",
                 value=lambda W1, b1, W2, b2: (2 * W2 @ W1, 2 * W2 @ b1 + 1 + b2)),
        Mistake("The +1 of the activation is missing: it passes through W2 and adds a term to the bias.",
                 value=lambda W1, b1, W2, b2: (2 * W2 @ W1, 2 * W2 @ b1 + b2)),
    ],
)

register(
    "linear-depth-parameters", _CH, "Parameters without functions",
    Tuple("the parameter counts (stack, single layer)",
           Count("the parameters of the 784-512-512-10 stack"), Count("the parameters of the single layer")),
    (784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10, 784 * 10 + 10),
    "Not yet. A layer from width m to width k holds an m x k matrix and a bias of k entries; sum over the layers.",
    [
        Mistake("Count the biases too: every layer has one entry per output unit.",
                 value=(784 * 512 + 512 * 512 + 512 * 10, 784 * 10)),
        Mistake("The order is (stack, single layer): the stack is the larger of the two.",
                 value=(784 * 10 + 10, 784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10)),
    ],
)

# --------------------------------------------------------------- Foundations: vanishing_gradients

_CH = "vanishing_gradients"

register(
    "vanishing-gradients-tanh", _CH, "The slope of tanh",
    Number("the maximum of tanh'", decimals=6), 1.0,
    "Not yet. Differentiate tanh(z) = 2 sigma(2z) - 1 with the chain rule and use the maximum of sigma'.",
    [
        Mistake("That is the largest slope of the sigmoid. In 2 sigma(2z) - 1 two factors of 2 multiply it: "
                 "the one in front and the inner one from the chain rule.", value=0.25),
        Mistake("Only one of the two factors of 2 is there: the chain rule through sigma(2z) contributes one, "
                 "the 2 in front of sigma another.", value=0.5),
    ],
)

register(
    "vanishing-gradients-depth", _CH, "How deep until a millionth?",
    Count("the fewest layers"), 10,
    "Not yet. The bound after k layers is a quarter to the power k; find the first k that puts it below a "
    "millionth.",
    [
        Mistake("One layer short: with that many layers the bound, a quarter to that power, is still above a "
                 "millionth. Round the threshold up, not down.", value=9),
        Mistake("That counts powers of ten. Each layer shrinks the bound by a factor of four, not ten.", value=6),
        Mistake("That halves the bound per layer. The sigmoid's slope is at most a quarter, so each layer "
                 "with spectral norm one multiplies the bound by a quarter.", value=20),
    ],
)

_S_ROOT = (1 + math.sqrt(0.96)) / 2

register(
    "vanishing-gradients-one-percent", _CH, "Where the slope is one hundredth",
    Number("the positive z with sigma'(z) = 0.01", decimals=2), math.log(_S_ROOT / (1 - _S_ROOT)),
    "Not yet. Write sigma' = s(1 - s) with s = sigma(z), solve the quadratic for s, then invert the sigmoid.",
    [
        Mistake("That z is negative; the exercise asks for z > 0. The slope is symmetric, sigma'(-z) = sigma'(z).",
                 value=-math.log(_S_ROOT / (1 - _S_ROOT))),
        Mistake("That is a value of the sigmoid, s = sigma(z), not z. Invert the sigmoid: z = ln(s / (1 - s)).",
                 value=_S_ROOT),
        Mistake("That is the smaller root s of s(1 - s) = 0.01, a sigmoid output below one half. Take the root "
                 "above one half and invert the sigmoid.", value=1 - _S_ROOT),
    ],
)
