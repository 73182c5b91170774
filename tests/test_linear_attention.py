"""Tests for dlnotes.linear_attention (chapter linear_attention)."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlnotes.attention import linear_attention
from dlnotes.complexity import count_flops
from dlnotes.linear_attention import elu_feature_map

f64 = dict(dtype=torch.float64)


def _quadratic(q, k, v, causal, phi=elu_feature_map):
    w = phi(q) @ phi(k).transpose(-2, -1)
    if causal:
        w = w * torch.ones(w.shape[-2:], dtype=torch.bool).tril()
    return (w / w.sum(-1, keepdim=True)) @ v


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.integers(1, 6), st.integers(1, 5), st.booleans(), st.integers(0, 10_000))
def test_matches_quadratic_form(T, d, d_v, causal, seed):
    g = torch.Generator().manual_seed(seed)
    q, k = torch.randn(2, T, d, generator=g, **f64), torch.randn(2, T, d, generator=g, **f64)
    v = torch.randn(2, T, d_v, generator=g, **f64)
    out = linear_attention(q, k, v, causal=causal)
    assert out.shape == (2, T, d_v)
    assert torch.allclose(out, _quadratic(q, k, v, causal), atol=1e-10)


def test_custom_feature_map_and_rectangular_keys():
    phi = lambda x: torch.exp(x)                    # positive feature map of the same size
    q, k, v = torch.randn(3, 4, **f64), torch.randn(7, 4, **f64), torch.randn(7, 2, **f64)
    out = linear_attention(q, k, v, feature_map=phi)
    assert torch.allclose(out, _quadratic(q, k, v, False, phi), atol=1e-10)


def test_causal_first_row_is_first_value():
    q, k, v = (torch.randn(5, 3, **f64) for _ in range(3))
    assert torch.allclose(linear_attention(q, k, v, causal=True)[0], v[0], atol=1e-14)


def test_flop_count_is_linear_in_T():
    counts = [count_flops(linear_attention, *(torch.empty(T, 64, device="meta"),) * 3) for T in (500, 1000, 2000)]
    assert counts == [4 * T * 64 * 64 for T in (500, 1000, 2000)]


@pytest.mark.parametrize("args, kwargs, error, match", [
    ((torch.zeros(3, **f64),) * 3, {}, ValueError, r"q must have shape \(\.\.\., T, d\)"),
    ((torch.zeros(3, 2, **f64), torch.zeros(3, 4, **f64), torch.zeros(3, 2, **f64)), {}, ValueError,
     "k must have the same last dimension"),
    ((torch.zeros(3, 2, **f64), torch.zeros(3, 2, **f64), torch.zeros(4, 2, **f64)), {}, ValueError,
     "v must have T_k=3 rows"),
    ((torch.zeros(3, 2, **f64), torch.zeros(4, 2, **f64), torch.zeros(4, 2, **f64)), dict(causal=True), ValueError,
     "causal attention needs k with T=3"),
    ((torch.zeros(3, 2, **f64),) * 3, dict(causal=1), TypeError, "causal must be a bool"),
    ((torch.zeros(3, 2, **f64),) * 3, dict(feature_map=3), TypeError, "feature_map must be callable"),
    ((torch.zeros(3, 2, **f64),) * 3, dict(feature_map=lambda x: x), ValueError, "must be positive"),
    ((torch.zeros(3, 2, **f64), torch.zeros(3, 2), torch.zeros(3, 2, **f64)), {}, TypeError, "share one dtype"),
    ((torch.full((3, 2), math.nan, **f64),) * 3, {}, ValueError, "q must be finite"),
    ((torch.zeros(3, 2, dtype=torch.long),) * 3, {}, TypeError, "q must have a floating dtype"),
])
def test_validation(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        linear_attention(*args, **kwargs)


# The float64 reference of elu(x) + 1: exp(x) for x <= 0 is exact to float64 rounding there.
def _elu_plus_one_f64(x: torch.Tensor) -> torch.Tensor:
    x = x.double()
    return torch.where(x > 0, x + 1.0, torch.exp(torch.clamp(x, max=0.0)))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-100.0, 30.0, width=32), min_size=1, max_size=64))
def test_elu_feature_map_float32_is_positive_and_accurate(values):
    # The old form elu(x) + 1 = (e^x - 1) + 1 cancels: in float32 it is exactly 0
    # below x = -17.4 and 44% off at x = -17; this test fails on it.
    x = torch.tensor(values, dtype=torch.float32)
    out = elu_feature_map(x)
    assert out.dtype == torch.float32
    assert bool((out > 0).all())                          # down to -100 (float32 exp > 0 to about -103)
    ref = _elu_plus_one_f64(x)
    # two float32 ulps relative, or half the smallest float32 subnormal spacing in absolute terms
    tiny = torch.finfo(torch.float32).smallest_normal * torch.finfo(torch.float32).eps
    assert bool(((out.double() - ref).abs() <= 2 * torch.finfo(torch.float32).eps * ref + tiny).all())


def test_linear_attention_accepts_very_negative_float32_inputs():
    # keys around -20 made the old feature map return 0 and linear_attention raise
    g = torch.Generator().manual_seed(0)
    q = torch.randn(6, 3, generator=g) - 20.0
    k = torch.randn(6, 3, generator=g) - 20.0
    v = torch.randn(6, 2, generator=g)
    out = linear_attention(q, k, v)
    ref = _quadratic(q.double(), k.double(), v.double(), False, _elu_plus_one_f64)
    assert torch.allclose(out.double(), ref, rtol=1e-4, atol=1e-5)


def test_elu_feature_map_gradient_is_finite_for_large_inputs():
    x = torch.tensor([-50.0, 0.0, 100.0], requires_grad=True)
    elu_feature_map(x).sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad[2].item() == 1.0
