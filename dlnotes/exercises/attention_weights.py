"""Exercises of the part Attention, first half: attention_soft_lookup, attention_average, multihead_parameters, hard_attention.

Registered in book order: the chapters as ``_toc.yml`` lists them, the exercises as each
chapter writes them.  References are computed, not typed in, where a formula exists.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .engine import Mistake, register
from .kinds import (
    N_RANDOM,
    Array,
    Bool,
    Choice,
    Count,
    Evaluated,
    Function,
    Number,
    Tuple,
    close,
    random_int,
    random_normal,
    random_uniform,
    vector_output,
)

# --------------------------------------------------------------- Attention: attention_soft_lookup

_CH = "attention_soft_lookup"


def _values_inputs(gen: torch.Generator) -> list[tuple]:
    cases = [(random_normal(gen, random_int(gen, 1, 8), random_int(gen, 1, 4)),) for _ in range(N_RANDOM)]
    cases += [(random_normal(gen, 1, 3),), (torch.zeros(5, 2, dtype=torch.float64),),
              (1e3 * random_normal(gen, 6, 3),), (random_normal(gen, 2, 1),)]
    return cases


register(
    "soft-lookup-equal-scores", _CH, "Softmax of equal scores",
    Function("the attention output, shape (d,)", "(V) with the values V of shape (n, d)", _values_inputs,
              vector_output(lambda a: a[0].shape[1], "the output"), atol=1e-9, rtol=1e-9),
    lambda V: V.mean(0),
    "Not yet. Work out the softmax of n equal scores first: the weights depend only on differences of scores.",
    [
        Mistake("Softmax weights always sum to one, so the output is a weighted average, never a plain sum "
                 "of the values.", value=lambda V: V.sum(0)),
        Mistake("With equal scores no key stands out, so no single value is copied: ties do not pick one.",
                 value=lambda V: V[0]),
        Mistake("That is the average of the squared values (or a norm), not of the values: the output is a "
                 "combination of the value vectors themselves.", value=lambda V: (V**2).mean(0)),
    ],
)

register(
    "soft-lookup-margin", _CH, "How large a margin for a given error?",
    Number("the margin Delta", decimals=2), math.log(999 * 2 / 1e-3),
    "Not yet. Put n = 1000 and the largest possible distance between two values into eq-copy-bound, set the "
    "bound equal to the allowed error and solve for Delta.",
    [
        Mistake("Two values of norm at most 1 can be up to 2 apart (opposite unit vectors), so the largest "
                 "distance in eq-copy-bound is 2, not 1.", value=math.log(999 / 1e-3)),
        Mistake("The bound has e^(-Delta), so solve with the natural logarithm, not the decimal one.",
                 value=math.log10(999 * 2 / 1e-3)),
    ],
)

register(
    "soft-lookup-temperature", _CH, "Scaled scores and temperature",
    Tuple("the limits of the weights (as tau -> 0, as tau -> infinity)",
           *[Choice(f"the limit as tau -> {w}", {"one-hot": ("onehot", "one hot", "argmax", "hard"),
                                                   "uniform": ("1/n", "average", "equal"),
                                                   "zero": ("0", "vanish")}) for w in ("0", "infinity")]),
    ("one-hot", "uniform"),
    "Not yet. Divide the scores by a small and then by a large tau and look at the score differences: the "
    "softmax depends on nothing else.",
    [
        Mistake("The two limits are swapped. A small tau divides the scores by a small number, so the gaps "
                 "between them grow without bound.", value=("uniform", "one-hot")),
        Mistake("The weights cannot vanish: they sum to one at every temperature.",
                 predicate=lambda a: "zero" in a, example=("one-hot", "zero")),
    ],
)

# --------------------------------------------------------------- Attention: attention_average

_CH = "attention_average"
_E2 = math.exp(2.0)

register(
    "attention-average-three", _CH, "The average of three values",
    Number("the weight of each target key at n = 10, beta = 2", decimals=4), _E2 / (3 * _E2 + 7),
    "Not yet. Write the three target scores and the other scores for q = beta (k_a + k_b + k_c) and "
    "normalise over all n keys.",
    [
        Mistake("That is the limit for large beta. At beta = 2 the other keys still take weight: normalise "
                 "over all n keys, not only over the three targets.", value=1 / 3),
        Mistake("Only n - 3 keys are off target: the three targets appear once in the denominator, with "
                 "score beta, and not again with score 0.", value=_E2 / (3 * _E2 + 10)),
        Mistake("Equal weights on all keys would need equal scores; that is beta = 0.", value=0.1),
    ],
)

_UNEVEN_TARGET = np.array([0.75, 0.25, 0.0, 0.0])
# Weights within 1e-4 of the target: ln 3 to 3 decimals moves them by at most 1e-4 * 0.75, so a query
# written with 1.099 passes; float32 cannot hold a gap of ln 3 next to beta = 1e5 (its spacing there is
# 2^-7) and is told to use float64.
_UNEVEN_ATOL = 1e-4


def _uneven_inputs(gen: torch.Generator) -> list[tuple]:
    betas = [10 ** random_uniform(gen, 3.0, 5.0) for _ in range(N_RANDOM)]
    return [(b,) for b in betas] + [(1e3,), (1e5,)]


def _softmax_np(s: np.ndarray) -> np.ndarray:
    e = np.exp(s - s.max())
    return e / e.sum()


def _uneven_weights(a: Evaluated) -> list[np.ndarray]:
    return [_softmax_np(q) for q in a.outputs]


def _uneven_accepts(a: Evaluated) -> bool:
    return all(close(w, _UNEVEN_TARGET, _UNEVEN_ATOL, 0.0) for w in _uneven_weights(a))


def _uneven_near(a: Evaluated) -> bool:
    return all(close(w, _UNEVEN_TARGET, 10 * _UNEVEN_ATOL, 0.0) for w in _uneven_weights(a))


def _uneven_kind() -> Function:
    kind = Function("the query q, shape (4,), for the keys k_j = e_j of R^4 with a = 1, b = 2",
                    "(beta) of a large positive number beta", _uneven_inputs, vector_output(lambda a: 4, "the query q"))
    kind.precision = "within 1e-4 of 3/4 and 1/4"
    kind.tolerance = "the weights of k_a and k_b within atol 1e-4 of 3/4 and 1/4"
    return kind


def _last_weights(a: Evaluated) -> np.ndarray:
    return _uneven_weights(a)[-1]  # at the largest beta, 1e5


register(
    "attention-average-uneven", _CH, "An uneven blend",
    _uneven_kind(),
    lambda beta: beta * torch.tensor([1.0, 1.0, 0.0, 0.0], dtype=torch.float64)
    + math.log(3) * torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=torch.float64),
    "Not yet. The ratio of two softmax weights is the exponential of their score difference; fix that "
    "difference and let both target scores grow.",
    [
        Mistake("A query of fixed size leaves weight on the other keys however it is aimed: without a "
                 "large scale such as beta the output is not close to any blend of v_a and v_b. Let the two "
                 "target scores grow with beta.",
                 predicate=lambda a: float(_last_weights(a)[2:].sum()) > 1e-3,
                 example=lambda beta: torch.tensor([1.0, 1.0, 0.0, 0.0], dtype=torch.float64)),
        Mistake("Equal scores give equal weights, the plain average. For a 3 : 1 blend the scores of k_a "
                 "and k_b must differ, by a fixed amount.",
                 predicate=lambda a: close(_last_weights(a), [0.5, 0.5, 0, 0], 1e-6, 0.0),
                 example=lambda beta: beta * torch.tensor([1.0, 1.0, 0.0, 0.0], dtype=torch.float64)),
        Mistake("Scaling a key by 3 makes the gap between the two scores grow with beta, so the weights tend "
                 "to a one-hot vector. The ratio of the weights is the exponential of the score difference, "
                 "and that difference must stay fixed.",
                 predicate=lambda a: close(_last_weights(a), [1.0, 0, 0, 0], 1e-6, 0.0),
                 example=lambda beta: beta * torch.tensor([3.0, 1.0, 0.0, 0.0], dtype=torch.float64)),
        Mistake("The ratio of two softmax weights is e to the power of the score difference, not the "
                 "difference itself: a gap of 3 gives a ratio of about 20, not 3.",
                 predicate=lambda a: close(_last_weights(a)[:2], [math.exp(3) / (math.exp(3) + 1),
                                                                   1 / (math.exp(3) + 1)], 1e-6, 0.0),
                 example=lambda beta: beta * torch.tensor([1.0, 1.0, 0.0, 0.0], dtype=torch.float64)
                 + torch.tensor([3.0, 0.0, 0.0, 0.0], dtype=torch.float64)),
    ],
    accepts=_uneven_accepts, near=_uneven_near,
)


def _beta_star(n: int, eps: float = 1e-3) -> float:
    return math.log((n - 2) * (1 - eps) / (2 * eps))


register(
    "attention-average-many", _CH, "Many keys",
    Tuple("the scales (beta* for n = 1000, beta* for n = 10)",
           Number("beta* for n = 1000", decimals=4), Number("beta* for n = 10", decimals=4)),
    (_beta_star(1000), _beta_star(10)),
    "Not yet. Put n and the allowed off-target weight into eq-average-beta, for both numbers of keys.",
    [
        Mistake("The order is (n = 1000, n = 10): more keys to suppress need the larger scale.",
                 value=(_beta_star(10), _beta_star(1000))),
        Mistake("The two targets share the weight: in eq-average-beta the off-target mass is compared with "
                 "2 eps e^beta, so the factor 2 belongs in the denominator.",
                 value=(math.log(998 * 0.999 / 1e-3), math.log(8 * 0.999 / 1e-3))),
        Mistake("Close, but the factor (1 - eps) is missing: the two targets hold 1 - eps of the weight, not "
                 "all of it, and at this accuracy it shows.",
                 value=(math.log(998 / 2e-3), math.log(8 / 2e-3))),
    ],
)

# --------------------------------------------------------------- Attention: multihead_parameters

_CH = "multihead_parameters"

register(
    "multihead-parameters-base", _CH, "The original base Transformer",
    Tuple("(d_head, parameter count with biases)", Count("d_head"), Count("the parameter count")),
    (512 // 8, 4 * 512**2 + 4 * 512),
    "Not yet. Count the four projections W_Q, W_K, W_V and W_O with their biases, using the chapter's formula.",
    [
        Mistake("Count the biases too: each of the four projections has one of length d_model.",
                 value=(64, 4 * 512**2)),
        Mistake("The output projection W_O is missing: it is a fourth d_model x d_model matrix with a bias.",
                 value=(64, 3 * 512**2 + 3 * 512)),
        Mistake("Each head's projections are d_model x d_head, not d_model x d_model: the h heads together "
                 "cost as much as one full-width projection.", value=(64, 8 * (4 * 512**2 + 4 * 512))),
    ],
)

register(
    "multihead-parameters-fixed-head", _CH, "Fixed head size",
    Count("the parameter count with biases"), 4 * 768 * 1024 + 3 * 1024 + 768,
    "Not yet. Write the shape of each of the four projections, input width 768 and concatenated width h d_head, "
    "with their biases.",
    [
        Mistake("The output projection maps back to width 768, so its bias has 768 entries, not 1024.",
                 value=4 * 768 * 1024 + 4 * 1024),
        # 3 (768 * 1024 + 1024) = 4 * 768**2 + 4 * 768 (both are 3072 * 769): two roads lead here.
        Mistake("Two roads lead to this number, and they happen to agree: taking the concatenated width as "
                 "768 (4 d^2 + 4 d with d = 768), or leaving out the output projection W_O (three 768 -> 1024 "
                 "projections with their biases). With d_head fixed the heads concatenate to width h d_head = "
                 "1024, and W_O maps that back to 768.", value=4 * 768**2 + 4 * 768),
        Mistake("Count the biases too: three of width 1024 and one of width 768.", value=4 * 768 * 1024),
    ],
)

# --------------------------------------------------------------- Attention: hard_attention

_CH = "hard_attention"
_K_HARD = np.array([[0.0, 2.0], [1.0, 0.0], [1.0, 3.0], [2.0, 0.0]])

register(
    "hard-attention-scale", _CH, "Scaling the scores",
    Tuple("(does the hard-attention output change, does the soft-attention output change)",
           Bool("whether the hard-attention output changes"), Bool("whether the soft-attention output changes")),
    (False, True),
    "Not yet. Ask what a positive factor does to the order of the scores, and what it does to their differences.",
    [
        Mistake("Soft attention does change: the factor is an inverse temperature, and it changes the "
                 "differences between the scores, which is all the softmax sees.", value=(False, False)),
        Mistake("Hard attention does not change: a positive factor keeps the order of the scores, so the "
                 "argmax and its value stay the same.", value=(True, True)),
    ],
)


def _winners(q: np.ndarray) -> np.ndarray:
    s = _K_HARD @ q
    # A tie is relative to the scores' own size, so a tiny query is judged like the same query scaled up.
    return np.flatnonzero(s >= s.max() - 1e-9 * float(np.abs(s).max()))


def _region_hint(key: int, condition: str) -> Mistake:
    return Mistake(f"With your query key {key + 1} scores highest, not key 3. Key 3 beats key {key + 1} "
                    f"exactly when {condition}.",
                    predicate=lambda q, key=key: _winners(q).tolist() == [key],
                    example={0: (-1.0, 0.5), 1: (-1.0, -1.0), 3: (5.0, 1.0)}[key])


register(
    "hard-attention-region", _CH, "Where does key 3 win?",
    Array("a query q", (2,)), (0.0, 1.0),
    "Not yet. Write the four scores as functions of (q1, q2) and require the third to beat the other three.",
    [
        Mistake("Your query ties key 3 with another key, so the argmax is not key 3 alone. Move strictly "
                 "inside the region where key 3 wins.",
                 predicate=lambda q: len(_winners(q)) > 1 and 2 in _winners(q).tolist(), example=(-1.0, 1.0)),
        _region_hint(0, "q1 + q2 > 0"),
        _region_hint(1, "q2 > 0"),
        _region_hint(3, "q1 < 3 q2"),
    ],
    accepts=lambda q: _winners(q).tolist() == [2],
)


def _weights_inputs(gen: torch.Generator) -> list[tuple]:
    cases = []
    for _ in range(N_RANDOM):
        n = random_int(gen, 1, 8)
        cases.append((torch.softmax(2 * random_normal(gen, n), 0),))
    cases += [(torch.tensor([0.0, 0.0, 1.0, 0.0], dtype=torch.float64),),
              (torch.full((5,), 0.2, dtype=torch.float64),), (torch.tensor([1.0], dtype=torch.float64),)]
    return cases


register(
    "hard-attention-value-gradient", _CH, "The value gradient of soft attention",
    Function("the factor for each value, shape (n,), such that dc/dv_j is that factor times the identity",
              "(alpha) of the attention weights alpha, shape (n,)", _weights_inputs,
              vector_output(lambda a: a[0].shape[0], "the factors"), atol=1e-12, rtol=1e-9),
    lambda alpha: alpha.clone(),
    "Not yet. The output c = sum_j alpha_j v_j is linear in each value; differentiate it with respect to v_j.",
    [
        Mistake("That is hard attention: only the best key's value gets a gradient there. Under the softmax "
                 "every weight is positive, so every value is trained.",
                 value=lambda alpha: torch.nn.functional.one_hot(alpha.argmax(), alpha.shape[0]).double()),
        Mistake("Each value enters the output scaled by its weight, and so does its gradient; they are not "
                 "all equal.", value=lambda alpha: torch.ones_like(alpha)),
        Mistake("alpha_j (1 - alpha_j) is the slope of a weight with respect to its own score, which matters "
                 "for the query and the keys. The output is linear in v_j.",
                 value=lambda alpha: alpha * (1 - alpha)),
    ],
)
