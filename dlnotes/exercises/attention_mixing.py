"""Exercises of the part Attention, second half: orthogonal_self_attention, positional_encoding, token_mixing, linear_attention.

Registered in book order: the chapters as ``_toc.yml`` lists them, the exercises as each
chapter writes them.  References are computed, not typed in, where a formula exists.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from numbers import Integral
from typing import Any

import numpy as np
import torch

from .engine import Mistake, register
from .kinds import (
    N_RANDOM,
    Array,
    Count,
    Function,
    Number,
    Tuple,
    WrongKind,
    close,
    random_int,
    random_uniform,
    real_scalar,
    type_name,
)

# --------------------------------------------------------------- Attention: orthogonal_self_attention

_CH = "orthogonal_self_attention"
_E_OFF = (999 + math.sqrt(999**2 - 4)) / 2

register(
    "orthogonal-self-attention-identity", _CH, "How large must the inputs be?",
    Number("beta", decimals=4), math.sqrt(math.log(_E_OFF)),
    "Not yet. Find the largest off-diagonal entry of W as a function of E = exp(beta^2), set it to the "
    "allowed value and solve.",
    [
        # Both roads lead here: bounding W_21 = 1/(E + 2) while overlooking W_13, or assuming x_1 . x_3 = 0,
        # under which W_13 = 1/(E^2 + 2) and W_21 = 1/(E + 2) really is the largest off-diagonal entry.
        Mistake("That sets W_21 = 1/(E + 2) to the bound. It would be the largest off-diagonal entry if "
                 "x_1 . x_3 were 0, but x_1 and x_3 share d, so x_1 . x_3 = beta^2 (the building blocks are "
                 "orthogonal, the tokens are not), and then W_13 = W_31 = E/(E^2 + E + 1) is larger for E > 1: "
                 "it is the entry that decides.", value=math.sqrt(math.log(998))),
        Mistake("That sets 1/(E^2 + 2) to the bound, the value W_13 would have if x_1 . x_3 were 0. But x_1 and "
                 "x_3 share d, so x_1 . x_3 = beta^2 and W_13 = E/(E^2 + E + 1).",
                 value=math.sqrt(math.log(math.sqrt(998)))),
        Mistake("E = exp(beta^2), so beta is the square root of ln E, not ln E itself.", value=math.log(_E_OFF)),
    ],
)


def _beta_m_inputs(gen: torch.Generator) -> list[tuple]:
    # m >= 4: the chapter's tokens are built from four orthogonal vectors of R^m.
    cases = [(random_uniform(gen, 0.1, 5.0), random_int(gen, 4, 64)) for _ in range(N_RANDOM)]
    return cases + [(2.0, 4), (2.0, 6), (0.5, 1024), (3.0, 16)]


def _number_output(what: str) -> Callable[[Any, tuple], float]:
    def output(value: Any, args: tuple) -> float:
        return real_scalar(value, what)
    return output


register(
    "orthogonal-self-attention-scaled", _CH, "Scaled scores",
    Function("beta', the unscaled beta with the same weights (a number)", "(beta, m) of a float beta > 0 and "
              "an int m >= 4", _beta_m_inputs, _number_output("beta'"), rtol=1e-6),
    lambda beta, m: beta / m**0.25,
    "Not yet. Every score is a multiple of beta^2; divide it by sqrt(m) and ask which beta' gives the same "
    "multiple without the scale.",
    [
        Mistake("The scale divides the scores, which are multiples of beta^2, not beta itself: beta'^2 = "
                 "beta^2 / sqrt(m).", value=lambda beta, m: beta / math.sqrt(m)),
        Mistake("The scale makes the scores smaller, so beta' is smaller than beta, not larger.",
                 value=lambda beta, m: beta * m**0.25),
        Mistake("That is the new beta'^2, the factor in front of the scores; take its square root.",
                 value=lambda beta, m: beta**2 / math.sqrt(m)),
    ],
)

register(
    "orthogonal-self-attention-rates", _CH, "Which token copies better?",
    Number("the limit of ||y_2 - a|| / ||y_1 - x_1||", decimals=3), math.sqrt(5),
    "Not yet. Expand both errors for large beta: both decay like exp(-beta^2), so their ratio tends to a ratio "
    "of two distances.",
    [
        Mistake("That is the ratio the other way round: token 2 has the larger copy error.", value=1 / math.sqrt(5)),
        Mistake("That is the ratio of the squared norms; the question asks for the norms.", value=5.0),
    ],
)

# --------------------------------------------------------------- Attention: positional_encoding

_CH = "positional_encoding"

register(
    "positional-encoding-wavelength", _CH, "The longest wavelength",
    Number("the longest wavelength, in positions", digits=5), 2 * math.pi * 10000 ** (510 / 512),
    "Not yet. Find the smallest frequency omega_i of eq-pe-definition for d = 512; the wavelength is 2 pi / omega_i.",
    [
        Mistake("The slowest pair has i = d/2 - 1, not d/2, so its exponent is just below 1.",
                 value=2 * math.pi * 10000),
        Mistake("A wavelength is 2 pi / omega, not 1 / omega: one period of sin(omega pos) is 2 pi / omega positions.",
                 value=10000 ** (510 / 512)),
        Mistake("The exponent is 2i/d with i counting pairs, not i/d with i counting coordinates.",
                 value=2 * math.pi * 10000 ** (511 / 512)),
    ],
)

register(
    "positional-encoding-neighbours", _CH, "Neighbouring positions",
    Number("PE(pos) . PE(pos + 1) for d = 4", decimals=4), math.cos(1.0) + math.cos(0.01),
    "Not yet. Each sine-cosine pair rotates by the angle omega_i from one position to the next; the dot "
    "product of a pair with its rotation is the cosine of that angle.",
    [
        Mistake("That is PE(pos) . PE(pos), the squared norm. One step rotates each pair, which lowers the dot "
                 "product.", value=2.0),
        Mistake("The dot product of a unit pair with its rotation by omega is cos(omega), not sin(omega).",
                 value=math.sin(1.0) + math.sin(0.01)),
        Mistake("The second frequency is 10000^(-2i/d) with i = 1 and d = 4, not 10000^(-1/d).",
                 value=math.cos(1.0) + math.cos(0.1)),
    ],
)

# --------------------------------------------------------------- Attention: token_mixing

_CH = "token_mixing"


def _ln(x: np.ndarray, eps: float, *, ddof: int = 0, eps_outside: bool = False) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    sd = x.std(ddof=ddof)
    return (x - x.mean()) / (sd + eps if eps_outside else math.sqrt(sd**2 + eps))


_LN_X = np.array([2.0, 4.0, 6.0, 8.0])

register(
    "token-mixing-scale", _CH, "Scaling a token",
    Tuple("(LN(2, 4, 6, 8) with eps = 0, LN(2, 4, 6, 8) with eps = 1e-5)",
           Array("LN with eps = 0", (4,), atol=3e-7), Array("LN with eps = 1e-5", (4,), atol=3e-7)),
    (_ln(_LN_X, 0.0), _ln(_LN_X, 1e-5)),
    "Not yet. Compute the mean and the biased variance of (2, 4, 6, 8), then (x - mean) / sqrt(variance + eps).",
    [
        Mistake("Scaling the token by 2 multiplies its variance by 4, so eps weighs four times less than for "
                 "(1, 2, 3, 4): with eps = 1e-5 the two results differ.",
                 value=(_ln(_LN_X, 0.0), _ln(_LN_X / 2, 1e-5))),
        Mistake("Layer norm uses the biased variance, dividing by the number of features, not by one less.",
                 predicate=lambda a: close(a[0], _ln(_LN_X, 0.0, ddof=1), 3e-7, 0.0),
                 example=(_ln(_LN_X, 0.0, ddof=1), _ln(_LN_X, 1e-5, ddof=1))),
        Mistake("eps is added to the variance, inside the square root, not to the standard deviation.",
                 value=(_ln(_LN_X, 0.0), _ln(_LN_X, 1e-5, eps_outside=True))),
    ],
)


def _rows_inputs(gen: torch.Generator) -> list[tuple]:
    cases = []
    for _ in range(N_RANDOM):
        t = random_int(gen, 1, 12)
        cases.append((random_int(gen, 0, t - 1), t))
    return cases + [(0, 1), (0, 8), (7, 8), (3, 8)]


def _rows_output(value: Any, args: tuple) -> tuple[int, ...]:
    if isinstance(value, (torch.Tensor, np.ndarray)):
        if value.ndim != 1:
            raise WrongKind(f"expected a collection of row indices, got {type_name(value)}")
        value = value.tolist()
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, set, frozenset, range)):
        raise WrongKind(f"expected a list, set or range of row indices, got {type_name(value)}")
    rows = []
    for r in value:
        if isinstance(r, (bool, np.bool_)) or not isinstance(r, (Integral, np.integer)):
            raise WrongKind(f"expected row indices as ints, got {type_name(r)}")
        rows.append(int(r))
    return tuple(sorted(set(rows)))


register(
    "token-mixing-causal", _CH, "Causal attention",
    Function("the rows (0-based indices) that can change", "(j, t) of the changed position j and the "
              "sequence length t, both ints", _rows_inputs, _rows_output, equal_output=lambda a, b: a == b),
    lambda j, t: range(j, t),
    "Not yet. Row i uses the tokens at positions up to i only; ask for which rows token j is among them.",
    [
        Mistake("Row i sees positions up to i, so token j reaches the rows that come at or after it, not "
                 "those before it.", value=lambda j, t: range(0, j + 1)),
        Mistake("Row j itself sees token j: the mask allows positions up to and including i.",
                 value=lambda j, t: range(j + 1, t)),
        Mistake("That is attention without a mask, where every row sees every token.",
                 value=lambda j, t: range(t)),
        Mistake("Token j is not seen by row j alone: every later row sees it too.", value=lambda j, t: [j]),
    ],
)

register(
    "token-mixing-ffn-cost", _CH, "Counting the FFN",
    Tuple("(FFN multiply-adds, attention-product multiply-adds)", Count("the FFN's multiply-adds"),
           Count("the multiply-adds of the two attention products")),
    (8 * 1000 * 512**2, 2 * 1000**2 * 512),
    "Not yet. A matrix product of (t x a) by (a x b) costs t a b multiply-adds; add them up for the two FFN "
    "layers and for the two attention products.",
    [
        Mistake("The FFN has two layers, n -> 4n and 4n -> n, and each costs 4tn^2.",
                 part=0, value=4 * 1000 * 512**2, example=(4 * 1000 * 512**2, 2 * 1000**2 * 512)),
        Mistake("The FFN's hidden width is 4n, not n.", part=0, value=2 * 1000 * 512**2,
                 example=(2 * 1000 * 512**2, 2 * 1000**2 * 512)),
        Mistake("Attention has two products of this size, Q K^T and the weights times V.", part=1,
                 value=1000**2 * 512, example=(8 * 1000 * 512**2, 1000**2 * 512)),
    ],
)

# --------------------------------------------------------------- Attention: linear_attention

_CH = "linear_attention"

register(
    "linear-attention-crossover", _CH, "Where the counts cross",
    Count("the smallest T at which Q(K^T V) needs fewer multiplications"), 64 + 1,
    "Not yet. Count the multiplications of both orders, T^2 (d + d_v) and 2 T d d_v, and compare them.",
    [
        Mistake("At that length both orders take the same number of multiplications; the question asks for "
                 "fewer.", value=64),
        Mistake("Divide both counts by T first: the comparison is between T (d + d_v) and 2 d d_v, linear in "
                 "both T and d.", value=64 * 64),
        Mistake("At that length the quadratic order (Q K^T) V is still the cheaper one; the linear order wins "
                 "only for long sequences.", value=32),
    ],
)

register(
    "linear-attention-state", _CH, "State size of a causal decoder",
    Tuple("(numbers in the linear head's state, numbers in the softmax head's cache after 1000 tokens)",
           Count("the state size of the linear head"), Count("the size of the key-value cache")),
    (64 * 64 + 64, 1000 * (64 + 64)),
    "Not yet. List what each head must keep to produce the next output: the linear head its running sums, the "
    "softmax head every key and value so far.",
    [
        Mistake("The state has a normaliser z_i next to the matrix S_i, with d more numbers.", part=0,
                 value=64 * 64, example=(64 * 64, 1000 * (64 + 64))),
        Mistake("The cache keeps the values as well as the keys.", part=1, value=1000 * 64,
                 example=(64 * 64 + 64, 1000 * 64)),
        Mistake("The linear head's state does not grow with the position: it is updated in place.", part=0,
                 value=1000 * (64 * 64 + 64), example=(1000 * (64 * 64 + 64), 1000 * (64 + 64))),
    ],
)
