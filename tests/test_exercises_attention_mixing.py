"""Audit of the answer checker for the second half of the Attention part.

Chapters orthogonal_self_attention, positional_encoding, token_mixing and
linear_attention.  Every reference answer and every registered mistake's value is
recomputed here by brute force (bisection on the real attention weights, the
library's encodings, FLOP counters, perturbing tokens, running the recurrence),
not from the closed forms the checker module types in.
"""

from __future__ import annotations

import math

import pytest
import torch

import dlnotes.exercises  # noqa: F401  (registers the exercises)
from dlnotes.attention import attention, linear_attention, sinusoidal_encoding
from dlnotes.complexity import count_flops
from dlnotes.exercises import check_answer
from dlnotes.exercises.engine import REGISTRY
from dlnotes.linear_attention import elu_feature_map

f64 = dict(dtype=torch.float64)
MODULE_IDS = [
    "orthogonal-self-attention-identity", "orthogonal-self-attention-scaled", "orthogonal-self-attention-rates",
    "positional-encoding-wavelength", "positional-encoding-neighbours",
    "token-mixing-scale", "token-mixing-causal", "token-mixing-ffn-cost",
    "linear-attention-crossover", "linear-attention-state",
]


def _mistake_values(ex_id: str) -> list:
    return [m.value for m in REGISTRY[ex_id].mistakes]


def test_the_audit_covers_every_exercise_of_these_chapters():
    chapters = {"orthogonal_self_attention", "positional_encoding", "token_mixing", "linear_attention"}
    assert sorted(i for i, ex in REGISTRY.items() if ex.chapter in chapters) == sorted(MODULE_IDS)


# ------------------------------------------------------------------ orthogonal_self_attention


def _orthonormal(m: int, seed: int = 0) -> torch.Tensor:
    """(4, m) rows: orthonormal directions of a, b, c, d."""
    q, _ = torch.linalg.qr(torch.randn(m, 4, generator=torch.Generator().manual_seed(seed), **f64))
    return q.T


def _tokens(beta: float, m: int = 6) -> torch.Tensor:
    a, b, c, d = beta * _orthonormal(m)
    return torch.stack([d + b, a, c + d])


def _weights_from_gram(gram: torch.Tensor) -> torch.Tensor:
    return torch.softmax(gram, dim=-1)


def _off_diagonal(W: torch.Tensor) -> torch.Tensor:
    return W.masked_fill(torch.eye(W.shape[-1], dtype=torch.bool), -math.inf)


def _bisect(f, lo: float, hi: float, target: float, steps: int = 200) -> float:
    """beta in [lo, hi] with f(beta) = target, for f decreasing."""
    for _ in range(steps):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if f(mid) > target else (lo, mid)
    return (lo + hi) / 2


def test_identity_reference_is_the_beta_where_the_real_largest_off_diagonal_weight_is_1e_3():
    def largest_off_diagonal(beta: float) -> float:
        x = _tokens(beta)
        return _off_diagonal(attention(x, x, x, scale=1.0)[1]).max().item()

    beta = _bisect(largest_off_diagonal, 1.0, 4.0, 1e-3)
    assert abs(beta - REGISTRY["orthogonal-self-attention-identity"].reference) < 1e-9


def test_identity_mistakes_are_what_their_hints_describe():
    w21_only, zero_product_w13, ln_e = _mistake_values("orthogonal-self-attention-identity")
    reference = REGISTRY["orthogonal-self-attention-identity"].reference
    wrong_gram = lambda beta: beta**2 * torch.diag(torch.tensor([2.0, 1.0, 2.0], **f64))   # x_1 . x_3 taken as 0
    true_gram = lambda beta: beta**2 * torch.tensor([[2.0, 0, 1], [0, 1, 0], [1, 0, 2]], **f64)
    # assuming x_1 . x_3 = 0 and bounding the largest entry leads to the W_21 value ...
    beta_zero_product = _bisect(lambda b: _off_diagonal(_weights_from_gram(wrong_gram(b))).max().item(), 1, 4, 1e-3)
    assert abs(beta_zero_product - w21_only) < 1e-9
    # ... and so does bounding W_21 of the true weights (overlooking W_13)
    assert abs(_bisect(lambda b: _weights_from_gram(true_gram(b))[1, 0].item(), 1, 4, 1e-3) - w21_only) < 1e-9
    # under x_1 . x_3 = 0, W_21 is indeed the largest off-diagonal entry
    W = _weights_from_gram(wrong_gram(2.0))
    assert _off_diagonal(W).max().item() == W[1, 0].item() > W[0, 2].item()
    # bounding the zero-product W_13 = 1/(E^2 + 2)
    assert abs(_bisect(lambda b: _weights_from_gram(wrong_gram(b))[0, 2].item(), 1, 4, 1e-3) - zero_product_w13) < 1e-9
    # E instead of sqrt(ln E)
    assert ln_e == pytest.approx(reference**2, rel=1e-12)
    # all different from the reference beyond the tolerance
    assert all(abs(v - reference) > 2 * 5e-5 for v in (w21_only, zero_product_w13, ln_e))   # W_21 one: 1.9e-4 away


@pytest.mark.parametrize("beta, m", [(2.0, 4), (2.0, 6), (0.7, 16), (3.0, 9)])
def test_scaled_reference_gives_the_scaled_weights_and_no_mistake_does(beta, m):
    ex = REGISTRY["orthogonal-self-attention-scaled"]
    x = _tokens(beta, m)
    _, scaled = attention(x, x, x)                      # default scale 1 / sqrt(m)

    def unscaled_at(b: float) -> torch.Tensor:
        xb = _tokens(b, m)
        return attention(xb, xb, xb, scale=1.0)[1]

    assert torch.allclose(unscaled_at(ex.reference(beta, m)), scaled, atol=1e-13)
    for value in _mistake_values("orthogonal-self-attention-scaled"):
        assert (unscaled_at(value(beta, m)) - scaled).abs().max().item() > 1e-3


def test_rates_reference_is_the_limit_of_the_measured_ratio():
    ratios = []
    for beta in (3.0, 3.5, 4.0):
        x = _tokens(beta)
        y, _ = attention(x, x, x, scale=1.0)
        ratios.append(((y[1] - x[1]).norm() / (y[0] - x[0]).norm()).item())
    reference = REGISTRY["orthogonal-self-attention-rates"].reference
    assert abs(ratios[-1] - reference) < 1e-5 and abs(ratios[0] - reference) < 1e-3
    inverse, squared = _mistake_values("orthogonal-self-attention-rates")
    assert inverse == pytest.approx(1 / ratios[-1], abs=1e-5) and squared == pytest.approx(ratios[-1] ** 2, abs=1e-4)


# ------------------------------------------------------------------ positional_encoding


def test_wavelength_reference_is_read_off_the_encoding():
    pe1 = sinusoidal_encoding(2, 512)[1].double()
    frequencies = torch.atan2(pe1[0::2], pe1[1::2])           # pair i of PE(1) is (sin w_i, cos w_i)
    wavelengths = 2 * math.pi / frequencies
    ex = REGISTRY["positional-encoding-wavelength"]
    assert wavelengths.max().item() == pytest.approx(ex.reference, rel=1e-9)
    pair_d2, inverse, coordinate_count = _mistake_values("positional-encoding-wavelength")
    assert pair_d2 > wavelengths.max().item() * (1 + 1e-3)   # i = d/2 is not a pair of the encoding
    assert inverse == pytest.approx(1 / frequencies.min().item(), rel=1e-9)
    assert coordinate_count == pytest.approx(2 * math.pi * 10000 ** (511 / 512), rel=1e-12)
    assert all(abs(v - ex.reference) > 1e-4 * ex.reference for v in (pair_d2, inverse, coordinate_count))


def test_neighbours_reference_is_the_dot_product_of_consecutive_encodings():
    pe = sinusoidal_encoding(200, 4).double()
    dots = (pe[:-1] * pe[1:]).sum(-1)
    ex = REGISTRY["positional-encoding-neighbours"]
    assert torch.allclose(dots, torch.full_like(dots, ex.reference), atol=1e-12)
    squared_norm, sines, wrong_frequency = _mistake_values("positional-encoding-neighbours")
    assert torch.allclose((pe**2).sum(-1), torch.full((200,), squared_norm, **f64), atol=1e-12)
    omegas = torch.atan2(pe[1, 0::2], pe[1, 1::2])
    assert sines == pytest.approx(torch.sin(omegas).sum().item(), abs=1e-12)
    assert wrong_frequency == pytest.approx(math.cos(1.0) + math.cos(10000 ** (-1 / 4)), abs=1e-12)


# ------------------------------------------------------------------ token_mixing


def test_scale_reference_and_mistakes_against_torch_layer_norm():
    x = torch.tensor([2.0, 4.0, 6.0, 8.0], **f64)
    ex = REGISTRY["token-mixing-scale"]
    ln = lambda v, eps: torch.nn.functional.layer_norm(v, (4,), eps=eps)
    for got, eps in zip(ex.reference, (0.0, 1e-5)):
        assert torch.allclose(torch.as_tensor(got, **f64), ln(x, eps), atol=1e-12)
    unscaled, unbiased, eps_outside = (m.sample for m in ex.mistakes)
    assert torch.allclose(torch.as_tensor(unscaled[1], **f64), ln(x / 2, 1e-5), atol=1e-12)
    centred = x - x.mean()
    assert torch.allclose(torch.as_tensor(unbiased[0], **f64), centred / x.std(correction=1), atol=1e-12)
    sd = x.std(correction=0)
    assert torch.allclose(torch.as_tensor(eps_outside[1], **f64), centred / (sd + 1e-5), atol=1e-12)
    for sample in (unscaled, unbiased, eps_outside):
        assert not check_answer("token-mixing-scale", sample)


@pytest.mark.parametrize("t", [1, 2, 5, 8])
def test_causal_reference_is_the_set_of_rows_that_change(t):
    g = torch.Generator().manual_seed(t)
    n = 5
    X = torch.randn(t, n, generator=g, **f64)
    Wq, Wk, Wv = (torch.randn(n, n, generator=g, **f64) for _ in range(3))
    mask = torch.tril(torch.ones(t, t, dtype=torch.bool))
    run = lambda Z: attention(Z @ Wq, Z @ Wk, Z @ Wv, mask=mask)[0]
    ex = REGISTRY["token-mixing-causal"]
    for j in range(t):
        Z = X.clone()
        Z[j] = torch.randn(n, generator=g, **f64)
        changed = [i for i in range(t) if not torch.equal(run(Z)[i], run(X)[i])]
        assert changed == list(ex.reference(j, t))
        for value in _mistake_values("token-mixing-causal"):
            if list(value(j, t)) != changed:
                break
        else:
            pytest.fail("every mistake agrees with the brute force here")


def test_ffn_cost_reference_and_mistakes_are_counted():
    t, n = 1000, 512
    X = torch.empty(t, n, device="meta")

    def ffn_macs(width: int, layers: int = 2) -> int:
        mods = [torch.nn.Linear(n, width, device="meta"), torch.nn.ReLU(), torch.nn.Linear(width, n, device="meta")]
        return count_flops(torch.nn.Sequential(*mods[: 1 if layers == 1 else 3]), X) // 2

    Q, K, V = (torch.empty(t, n, device="meta") for _ in range(3))
    ex = REGISTRY["token-mixing-ffn-cost"]
    assert ex.reference == (ffn_macs(4 * n), count_flops(lambda: torch.softmax(Q @ K.T, -1) @ V) // 2)
    one_layer, width_n, one_product = _mistake_values("token-mixing-ffn-cost")
    assert one_layer == ffn_macs(4 * n, layers=1)
    assert width_n == ffn_macs(n)
    assert one_product == count_flops(lambda: Q @ K.T) // 2


# ------------------------------------------------------------------ linear_attention


def test_crossover_reference_is_the_first_length_where_the_linear_order_counts_fewer():
    def counts(T: int) -> tuple[int, int]:
        q, k, v = (torch.empty(T, 64, device="meta") for _ in range(3))
        return count_flops(lambda: (q @ k.T) @ v), count_flops(lambda: q @ (k.T @ v))

    first = next(T for T in range(1, 200) if counts(T)[1] < counts(T)[0])
    assert first == REGISTRY["linear-attention-crossover"].reference
    equal, per_t_mistake, too_early = _mistake_values("linear-attention-crossover")
    assert counts(equal)[0] == counts(equal)[1]
    assert counts(too_early)[0] < counts(too_early)[1]
    assert per_t_mistake != first


def test_state_reference_is_what_a_generation_loop_keeps():
    g = torch.Generator().manual_seed(0)
    d = 64
    S, z, keys, values = torch.zeros(d, d, **f64), torch.zeros(d, **f64), [], []
    q_all, k_all, v_all = (torch.randn(1000, d, generator=g, **f64) for _ in range(3))
    for q_i, k_i, v_i in zip(q_all, k_all, v_all):
        S, z = S + torch.outer(elu_feature_map(k_i), v_i), z + elu_feature_map(k_i)
        keys.append(k_i), values.append(v_i)
    last = elu_feature_map(q_all[-1]) @ S / (elu_feature_map(q_all[-1]) @ z)
    # the loop's state really produces the causal output of the last position
    assert torch.allclose(last, linear_attention(q_all, k_all, v_all, causal=True)[-1], atol=1e-10)
    ex = REGISTRY["linear-attention-state"]
    assert ex.reference == (S.numel() + z.numel(), torch.stack(keys).numel() + torch.stack(values).numel())
    s_only, keys_only, every_state = (m.value for m in ex.mistakes)
    assert s_only == S.numel() and keys_only == torch.stack(keys).numel()
    assert every_state == 1000 * (S.numel() + z.numel())


def test_assuming_orthogonal_tokens_gets_the_hint_about_x1_dot_x3():
    # x_1 . x_3 = 0 makes W_21 = 1/(E + 2) the largest entry, so that mistake lands on sqrt(ln 998):
    # its hint must name the shared d, not only the overlooked W_13
    verdict = check_answer("orthogonal-self-attention-identity", math.sqrt(math.log(998)))
    assert verdict.status == "incorrect" and "x_1 . x_3 = beta^2" in verdict.message
