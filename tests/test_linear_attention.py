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
