"""Audit of the answer checker for the chapters attention_soft_lookup, attention_average,
multihead_parameters and hard_attention (dlnotes/exercises/attention_weights.py).

Every reference, every ``accepts=`` predicate and every registered mistake is compared with a
brute-force or closed-form computation made here, independently of the checker's own formulas.
"""

from __future__ import annotations

import math

import torch

from dlnotes.attention import attention, hard_attention, softmax
from dlnotes.exercises import check_answer
from dlnotes.exercises.engine import REGISTRY

F64 = torch.float64


def _status(ex_id, answer):
    return check_answer(ex_id, answer).status


def _mistake_answers(ex_id):
    """(answer, mistake) for every registered mistake: its value, else its example."""
    ex = REGISTRY[ex_id]
    return [(m.sample, m) for m in ex.mistakes]


def _assert_every_mistake_is_incorrect_with_its_hint(ex_id):
    for answer, mistake in _mistake_answers(ex_id):
        verdict = check_answer(ex_id, answer)
        assert verdict.status == "incorrect", (ex_id, answer)
        assert mistake.hint in verdict.message, (ex_id, answer)


# ------------------------------------------------------------------ attention_soft_lookup

def test_equal_scores_reference_is_what_attention_computes():
    g = torch.Generator().manual_seed(0)
    for n, d in [(1, 3), (5, 2), (7, 4)]:
        V = torch.randn(n, d, generator=g, dtype=F64)
        out, _ = attention(torch.zeros(1, 2, dtype=F64), torch.zeros(n, 2, dtype=F64), V)
        assert torch.allclose(out[0], REGISTRY["soft-lookup-equal-scores"].reference(V), atol=1e-12)
    assert _status("soft-lookup-equal-scores", lambda V: softmax(torch.zeros(V.shape[0], dtype=V.dtype)) @ V) \
        == "correct"
    _assert_every_mistake_is_incorrect_with_its_hint("soft-lookup-equal-scores")


def _bound(margin, n=1000, spread=2.0):
    return (n - 1) * math.exp(-margin) * spread


def test_margin_reference_is_the_smallest_margin_meeting_the_bound():
    lo, hi = 0.0, 50.0
    for _ in range(200):                              # bisection on eq-copy-bound: bound(lo) > 1e-3 >= bound(hi)
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _bound(mid) > 1e-3 else (lo, mid)
    assert abs(hi - REGISTRY["soft-lookup-margin"].reference) < 1e-9
    assert _status("soft-lookup-margin", hi) == "correct"
    # Each registered mistake is really wrong: its bound misses 1e-3 or it is far from the smallest margin.
    for answer, _ in _mistake_answers("soft-lookup-margin"):
        assert _bound(answer) > 1e-3 or answer > hi + 0.5
    _assert_every_mistake_is_incorrect_with_its_hint("soft-lookup-margin")


def test_temperature_limits_by_computation():
    s = torch.tensor([2.0, 1.0, 0.0, -0.5], dtype=F64)
    cold, hot = softmax(s / 1e-3), softmax(s / 1e6)
    assert torch.allclose(cold, torch.tensor([1.0, 0, 0, 0], dtype=F64), atol=1e-12)
    assert torch.allclose(hot, torch.full((4,), 0.25, dtype=F64), atol=1e-5)
    assert _status("soft-lookup-temperature", ("one-hot", "uniform")) == "correct"
    _assert_every_mistake_is_incorrect_with_its_hint("soft-lookup-temperature")


# ------------------------------------------------------------------ attention_average

def _unscaled_weights(q, n):
    eye = torch.eye(n, dtype=F64)
    return attention(torch.as_tensor(q, dtype=F64)[None], eye, eye, scale=1.0)[1][0]


def test_three_targets_reference_by_attention():
    w = _unscaled_weights(2.0 * torch.tensor([1.0, 1, 1] + [0] * 7), 10)
    assert abs(w[0].item() - REGISTRY["attention-average-three"].reference) < 1e-12
    for answer, _ in _mistake_answers("attention-average-three"):
        assert abs(answer - w[0].item()) > 1e-6
    _assert_every_mistake_is_incorrect_with_its_hint("attention-average-three")


def test_uneven_accepts_exactly_the_queries_whose_weights_tend_to_three_quarters_one_quarter():
    def correct(beta):
        return beta * torch.tensor([1.0, 1, 0, 0], dtype=F64) + math.log(3) * torch.tensor([1.0, 0, 0, 0], dtype=F64)

    def shifted(beta):                                # a constant added to every score changes nothing
        return correct(beta) + 7.0

    for answer in (correct, shifted):
        for beta in (1e3, 1e4, 1e5):
            assert torch.allclose(_unscaled_weights(answer(beta), 4), torch.tensor([0.75, 0.25, 0, 0], dtype=F64),
                                  atol=1e-9)
        assert _status("attention-average-uneven", answer) == "correct"
    for answer, _ in _mistake_answers("attention-average-uneven"):
        w = _unscaled_weights(answer(1e5), 4)
        assert not torch.allclose(w, torch.tensor([0.75, 0.25, 0, 0], dtype=F64), atol=1e-6)
    _assert_every_mistake_is_incorrect_with_its_hint("attention-average-uneven")


def _beta_star_by_bisection(n, eps=1e-3):
    lo, hi = 0.0, 60.0
    for _ in range(100):
        mid = (lo + hi) / 2
        q = torch.zeros(n, dtype=F64)
        q[:2] = mid
        off = _unscaled_weights(q, n)[2:].sum().item()
        lo, hi = (mid, hi) if off > eps else (lo, mid)
    return hi


def test_many_keys_reference_by_bisection_through_attention():
    b1000, b10 = _beta_star_by_bisection(1000), _beta_star_by_bisection(10)
    ref = REGISTRY["attention-average-many"].reference
    assert abs(ref[0] - b1000) < 1e-8 and abs(ref[1] - b10) < 1e-8
    assert _status("attention-average-many", (b1000, b10)) == "correct"
    for answer, _ in _mistake_answers("attention-average-many"):
        assert abs(answer[0] - b1000) > 2e-4 or abs(answer[1] - b10) > 2e-4
    _assert_every_mistake_is_incorrect_with_its_hint("attention-average-many")


# ------------------------------------------------------------------ multihead_parameters

def _count(module):
    return sum(p.numel() for p in module.parameters())


def test_base_transformer_reference_by_torch():
    layer = torch.nn.MultiheadAttention(512, 8)
    assert REGISTRY["multihead-parameters-base"].reference == (layer.head_dim, _count(layer))
    _assert_every_mistake_is_incorrect_with_its_hint("multihead-parameters-base")


def test_fixed_head_reference_by_torch_linear_layers():
    layers = [torch.nn.Linear(768, 1024) for _ in range(3)] + [torch.nn.Linear(1024, 768)]
    assert REGISTRY["multihead-parameters-fixed-head"].reference == sum(_count(m) for m in layers)
    for answer, _ in _mistake_answers("multihead-parameters-fixed-head"):
        assert answer != sum(_count(m) for m in layers)
    _assert_every_mistake_is_incorrect_with_its_hint("multihead-parameters-fixed-head")


# ------------------------------------------------------------------ hard_attention

Q = torch.tensor([3.0, -1.0], dtype=F64)
K = torch.tensor([[0.0, 2.0], [1.0, 0.0], [1.0, 3.0], [2.0, 0.0]], dtype=F64)
V = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [6.0, 1.0, 2.0]], dtype=F64)


def test_scale_reference_by_computation():
    hard_changes = not torch.equal(hard_attention(Q[None] / 2, K, V)[0], hard_attention(Q[None], K, V)[0])
    soft_changes = not torch.allclose(attention(Q[None], K, V, scale=0.5)[0], attention(Q[None], K, V, scale=1.0)[0])
    assert REGISTRY["hard-attention-scale"].reference == (hard_changes, soft_changes)
    _assert_every_mistake_is_incorrect_with_its_hint("hard-attention-scale")


def test_region_accepts_agrees_with_hard_attention_on_a_grid():
    accepts = REGISTRY["hard-attention-region"].accepts
    grid = torch.linspace(-3, 3, 61, dtype=F64)
    for q1 in grid:
        for q2 in grid:
            q = torch.stack([q1, q2])
            scores = K @ q
            unique_k3 = bool((scores[2] > scores[[0, 1, 3]] + 1e-12).all())
            tie = bool((scores.max() - scores).sort().values[1] < 1e-12)
            if tie:
                continue                              # on a tie the checker asks for a strict winner
            assert accepts(q.numpy()) == unique_k3, q.tolist()
            assert (hard_attention(q[None], K, V)[1][0].argmax().item() == 2) == unique_k3
    _assert_every_mistake_is_incorrect_with_its_hint("hard-attention-region")


def test_region_mistake_examples_are_where_the_hints_say():
    for answer, mistake in _mistake_answers("hard-attention-region"):
        scores = K @ torch.tensor(answer, dtype=F64)
        if "ties" in mistake.hint:
            assert (scores == scores.max()).sum() > 1 and scores[2] == scores.max()
        else:
            key = int(mistake.hint.split("key ")[1].split(" ")[0]) - 1
            assert scores.argmax().item() == key and (scores == scores.max()).sum() == 1


def test_value_gradient_reference_by_autograd():
    g = torch.Generator().manual_seed(1)
    for n in (1, 3, 6):
        Kr, Vr = torch.randn(n, 2, generator=g, dtype=F64), torch.randn(n, 3, generator=g, dtype=F64)
        q = torch.randn(2, generator=g, dtype=F64)
        J = torch.autograd.functional.jacobian(lambda v: attention(q[None], Kr, v, scale=1.0)[0][0], Vr)  # (3, n, 3)
        alpha = attention(q[None], Kr, Vr, scale=1.0)[1][0]
        factors = torch.stack([J[0, j, 0] for j in range(n)])
        assert torch.allclose(factors, REGISTRY["hard-attention-value-gradient"].reference(alpha), atol=1e-12)
        for j in range(n):
            assert torch.allclose(J[:, j, :], factors[j] * torch.eye(3, dtype=F64), atol=1e-12)
    _assert_every_mistake_is_incorrect_with_its_hint("hard-attention-value-gradient")
