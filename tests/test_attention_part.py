"""The attention-part helpers: query_for_average, mha_param_count, hard_attention,
sinusoidal_encoding and layer_norm (chapters *The average of two values*,
*Counting the parameters of multi-head attention*, *Hard attention*,
*Self-attention on orthogonal inputs*, *Sinusoidal positional encoding*,
*What mixes tokens*)."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlnotes.attention import (
    attention,
    hard_attention,
    layer_norm,
    mha_param_count,
    query_for_average,
    sinusoidal_encoding,
)

F64 = torch.float64


def orthonormal(n: int, d: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    basis, _ = torch.linalg.qr(torch.randn(d, n, generator=g, dtype=F64))
    return basis.T


# --------------------------------------------------------------------------- query_for_average


@pytest.mark.parametrize(
    ("n", "beta", "target", "other"),
    [(4, 1.0, 0.3655292893, 0.1344707107), (4, 10.0, 0.4999773011, 2.2698934351e-5), (10, 1.0, 0.2023048376,
                                                                                      0.0744237906)],
)
def test_average_reference_weights(n, beta, target, other):
    keys = torch.eye(n, dtype=F64)
    _, w = attention(query_for_average(keys, 0, 1, beta)[None], keys, keys, scale=1.0)
    expected = torch.full((n,), other, dtype=F64)
    expected[:2] = target
    assert torch.allclose(w[0], expected, atol=1e-10, rtol=0)


def test_average_error_for_one_hot_values():
    eye = torch.eye(4, dtype=F64)
    for beta, stated in ((1.0, 0.2689414214), (5.0, 0.0066928509)):
        c, _ = attention(query_for_average(eye, 0, 1, beta)[None], eye, eye, scale=1.0)
        assert abs((c[0] - (eye[0] + eye[1]) / 2).norm().item() - stated) < 1e-9


def test_average_beta_star():
    assert abs(math.log((10 - 2) * (1 - 1e-3) / (2 * 1e-3)) - 8.2930491398) < 1e-9


def test_average_two_keys_zero_query_is_exact():
    keys = orthonormal(2, 3)
    c, _ = attention(torch.zeros(1, 3, dtype=F64), keys, torch.tensor([[2.0, 0.0], [0.0, 4.0]], dtype=F64),
                     scale=1.0)
    assert c[0].tolist() == [1.0, 2.0]


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 9), st.floats(-5, 20), st.lists(st.floats(0.2, 5), min_size=9, max_size=9),
       st.data())
def test_average_query_gives_equal_target_scores(n, beta, lengths, data):
    a = data.draw(st.integers(0, n - 1))
    b = data.draw(st.integers(0, n - 1).filter(lambda j: j != a))
    keys = torch.tensor(lengths[:n], dtype=F64)[:, None] * orthonormal(n, n + 2, seed=n)
    scores = keys @ query_for_average(keys, a, b, beta)
    expected = torch.zeros(n, dtype=F64)
    expected[[a, b]] = beta
    assert torch.allclose(scores, expected, atol=1e-12 * (1 + abs(beta)), rtol=0)


def test_average_query_keeps_dtype():
    keys = torch.eye(3, dtype=torch.float32)
    assert query_for_average(keys, 0, 2, 1.5).dtype == torch.float32


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((torch.eye(3, dtype=F64)[0], 0, 1, 1.0), ValueError, r"keys must have shape \(n, d\)"),
        ((torch.eye(1, dtype=F64), 0, 1, 1.0), ValueError, "n >= 2"),
        ((torch.eye(3, dtype=F64), 0, 0, 1.0), ValueError, "a and b must be different"),
        ((torch.eye(3, dtype=F64), 0, 3, 1.0), ValueError, r"b must be a row index in \[0, 3\)"),
        ((torch.eye(3, dtype=F64), -1, 1, 1.0), ValueError, "a must be at least 0"),
        ((torch.eye(3, dtype=F64), 0.0, 1, 1.0), TypeError, "a must be an int"),
        ((torch.eye(3, dtype=F64), 0, 1, math.inf), ValueError, "beta must be finite"),
        ((torch.eye(3, dtype=F64), 0, 1, "big"), TypeError, "beta must be a real number"),
        ((torch.eye(3, dtype=torch.int64), 0, 1, 1.0), TypeError, "keys must have a floating dtype"),
        ((torch.zeros(3, 2, dtype=F64), 0, 1, 1.0), ValueError, "must be non-zero"),
    ],
)
def test_average_query_bad_input(args, error, message):
    with pytest.raises(error, match=message):
        query_for_average(*args)


# --------------------------------------------------------------------------- mha_param_count


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (dict(bias=False, out_proj=False), 1_769_472),
        (dict(bias=True, out_proj=False), 1_771_776),
        (dict(bias=False), 2_359_296),
        (dict(), 2_362_368),
    ],
)
def test_mha_reference_counts(kwargs, expected):
    assert mha_param_count(768, 12, **kwargs) == expected


@pytest.mark.parametrize(("d", "h"), [(8, 1), (64, 4), (96, 3), (256, 8), (768, 12)])
@pytest.mark.parametrize("bias", [True, False])
def test_mha_matches_torch(d, h, bias):
    layer = torch.nn.MultiheadAttention(d, h, bias=bias)
    assert mha_param_count(d, h, bias=bias) == sum(p.numel() for p in layer.parameters())


@given(st.integers(1, 64), st.integers(1, 16))
def test_mha_count_is_independent_of_heads(d_head, h):
    d = d_head * h
    assert mha_param_count(d, h) == mha_param_count(d, 1) == 4 * d * d + 4 * d


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        ((768, 5), {}, ValueError, "d_model must be divisible by n_heads"),
        ((0, 1), {}, ValueError, "d_model must be at least 1"),
        ((768, 0), {}, ValueError, "n_heads must be at least 1"),
        ((768.0, 12), {}, TypeError, "d_model must be an int"),
        ((768, 12), dict(bias=1), TypeError, "bias must be a bool"),
        ((768, 12), dict(out_proj=None), TypeError, "out_proj must be a bool"),
    ],
)
def test_mha_bad_input(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        mha_param_count(*args, **kwargs)


# --------------------------------------------------------------------------- hard_attention

Q = torch.tensor([[3.0, -1.0]], dtype=F64)
K = torch.tensor([[0.0, 2.0], [1.0, 0.0], [1.0, 3.0], [2.0, 0.0]], dtype=F64)
V = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [6.0, 1.0, 2.0]], dtype=F64)


def test_hard_attention_reference():
    out, w = hard_attention(Q, K, V)
    assert w.tolist() == [[0.0, 0.0, 0.0, 1.0]]
    assert out.tolist() == [[6.0, 1.0, 2.0]]


def test_soft_attention_reference_and_jacobian():
    c, w = attention(Q, K, V, scale=1.0)
    assert torch.allclose(c[0], torch.tensor([5.700482755, 0.997326419, 1.9024095678], dtype=F64), atol=1e-9)
    J = torch.autograd.functional.jacobian(lambda q: attention(q[None], K, V, scale=1.0)[0][0], Q[0])
    formula = sum(w[0, j] * torch.outer(V[j] - c[0], K[j]) for j in range(4))
    assert torch.allclose(J, formula, atol=1e-14, rtol=0)


def test_hard_attention_gives_no_gradient_to_queries_and_keys():
    Jq, Jk, Jv = torch.autograd.functional.jacobian(lambda q, k, v: hard_attention(q, k, v)[0], (Q, K, V))
    assert not Jq.any() and not Jk.any()
    assert Jv[0, :, 3, :].equal(torch.eye(3, dtype=F64))


def test_hard_attention_ties_pick_the_first_index():
    _, w = hard_attention(torch.tensor([[0.0, -1.0]], dtype=F64), K, V)   # scores -2, 0, -3, 0
    assert w.tolist() == [[0.0, 1.0, 0.0, 0.0]]


def test_hard_attention_is_the_zero_temperature_limit():
    c, _ = attention(Q, K, V, scale=1 / 0.05)
    assert torch.allclose(c, hard_attention(Q, K, V)[0], atol=1e-14, rtol=0)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3), st.integers(1, 5), st.integers(1, 6), st.integers(1, 4), st.integers(0, 2**31 - 1))
def test_hard_attention_rows_are_one_hot_and_select_values(b, tq, tk, d, seed):
    g = torch.Generator().manual_seed(seed)
    q, k = torch.randn(b, tq, d, generator=g, dtype=F64), torch.randn(b, tk, d, generator=g, dtype=F64)
    v = torch.randn(b, tk, 3, generator=g, dtype=F64)
    out, w = hard_attention(q, k, v)
    assert w.shape == (b, tq, tk) and out.shape == (b, tq, 3)
    assert torch.equal(w.sum(-1), torch.ones(b, tq, dtype=F64))
    assert set(w.unique().tolist()) <= {0.0, 1.0}
    winner = (q @ k.transpose(-2, -1)).argmax(-1)
    assert torch.equal(out, torch.gather(v, 1, winner[..., None].expand(b, tq, 3)))


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 6), st.integers(0, 2**31 - 1))
def test_hard_attention_is_permutation_equivariant_in_queries(t, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(t, 3, generator=g, dtype=F64)
    perm = torch.randperm(t, generator=g)
    out, _ = hard_attention(x, x, x)
    out_perm, _ = hard_attention(x[perm], x, x)
    assert torch.equal(out_perm, out[perm])


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((Q[0], K, V), ValueError, r"q must have shape \(\.\.\., T_q, d\)"),
        ((Q, K[:, :1], V), ValueError, "k must have the same last dimension"),
        ((Q, K, V[:3]), ValueError, "v must have T_k=4 rows"),
        ((Q, K.float(), V), TypeError, "share one dtype"),
        ((Q, K.long(), V), TypeError, "k must have a floating dtype"),
        ((Q * math.nan, K, V), ValueError, "q must be finite"),
    ],
)
def test_hard_attention_bad_input(args, error, message):
    with pytest.raises(error, match=message):
        hard_attention(*args)


# --------------------------------------------------------------------------- sinusoidal_encoding


def test_encoding_reference_values():
    pe = sinusoidal_encoding(3, 8)
    assert pe.dtype == F64 and pe.shape == (3, 8)
    assert sinusoidal_encoding(1, 4)[0].tolist() == [0.0, 1.0, 0.0, 1.0]
    assert torch.allclose(sinusoidal_encoding(2, 4)[1],
                          torch.tensor([0.8414709848, 0.5403023059, 0.0099998333, 0.9999500004], dtype=F64),
                          atol=1e-9)
    assert torch.allclose(pe[2], torch.tensor([0.9092974268, -0.4161468365, 0.1986693308, 0.9800665778,
                                               0.0199986667, 0.9998000067, 0.0019999987, 0.9999980000],
                                              dtype=F64), atol=1e-9)


def test_encoding_shift_is_a_rotation():
    d, pos, k = 16, 7, 5
    pe = sinusoidal_encoding(40, d)
    R = torch.zeros(d, d, dtype=F64)
    for i in range(d // 2):
        w = k / 10000 ** (2 * i / d)
        R[2 * i:2 * i + 2, 2 * i:2 * i + 2] = torch.tensor([[math.cos(w), math.sin(w)],
                                                           [-math.sin(w), math.cos(w)]], dtype=F64)
    assert torch.allclose(pe[pos + k], R @ pe[pos], atol=1e-12, rtol=0)
    assert torch.allclose(pe[k:], pe[:-k] @ R.T, atol=1e-12, rtol=0)


@given(st.integers(1, 60), st.integers(1, 32))
def test_encoding_norm_is_half_the_width(n_positions, half):
    pe = sinusoidal_encoding(n_positions, 2 * half)
    assert torch.allclose((pe**2).sum(-1), torch.full((n_positions,), float(half), dtype=F64), atol=1e-12)


def test_encoding_on_a_device():
    assert sinusoidal_encoding(2, 4, device="cpu").device.type == "cpu"


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((4, 5), ValueError, "d_model must be even"),
        ((0, 4), ValueError, "n_positions must be at least 1"),
        ((4, 0), ValueError, "d_model must be at least 2"),
        ((4.0, 4), TypeError, "n_positions must be an int"),
    ],
)
def test_encoding_bad_input(args, error, message):
    with pytest.raises(error, match=message):
        sinusoidal_encoding(*args)


# --------------------------------------------------------------------------- layer_norm


def test_layer_norm_reference_values():
    x = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=F64)
    assert torch.allclose(layer_norm(x, eps=0.0),
                          torch.tensor([-1.3416407865, -0.4472135955, 0.4472135955, 1.3416407865], dtype=F64),
                          atol=1e-9)
    assert torch.allclose(layer_norm(x),
                          torch.tensor([-1.3416354200, -0.4472118067, 0.4472118067, 1.3416354200], dtype=F64),
                          atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(2, 9), st.floats(0.0, 1e-2), st.integers(0, 2**31 - 1))
def test_layer_norm_matches_torch_and_is_position_wise(t, n, eps, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(t, n, generator=g, dtype=F64)
    out = layer_norm(x, eps=eps)
    assert torch.allclose(out, torch.nn.functional.layer_norm(x, (n,), eps=eps), atol=1e-12)
    assert torch.allclose(out.mean(-1), torch.zeros(t, dtype=F64), atol=1e-12)
    changed = x.clone()
    changed[0] = torch.randn(n, generator=g, dtype=F64)
    assert torch.equal(layer_norm(changed, eps=eps)[1:], out[1:])


def test_layer_norm_accepts_numpy_and_lists():
    assert torch.allclose(layer_norm(np.array([1.0, 2.0, 3.0, 4.0])), layer_norm([1.0, 2.0, 3.0, 4.0]))


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        ((torch.tensor(1.0, dtype=F64),), {}, ValueError, r"x must have shape \(\.\.\., n\)"),
        ((torch.ones(2, 3, dtype=F64),), dict(eps=0.0), ValueError, "needs positive variance"),
        ((torch.ones(2, 3, dtype=F64),), dict(eps=-1.0), ValueError, "eps must be non-negative"),
        ((torch.ones(2, 3, dtype=torch.int64),), {}, TypeError, "x must have a floating dtype"),
        ((torch.tensor([1.0, math.inf]),), {}, ValueError, "x must be finite"),
        ((torch.empty(2, 0),), {}, ValueError, "x must not be empty"),
    ],
)
def test_layer_norm_bad_input(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        layer_norm(*args, **kwargs)


# --------------------------------------------------------------------------- self-attention on orthogonal inputs


@pytest.mark.parametrize(("beta", "err1", "err2"), [(2.0, 0.051332225, 0.1117449125), (3.0, 5.235511e-4,
                                                                                        1.1704793e-3)])
def test_orthogonal_self_attention_copy_errors(beta, err1, err2):
    a, b, c, d = beta * orthonormal(4, 6)
    x = torch.stack([d + b, a, c + d])
    y, w = attention(x, x, x, scale=1.0)
    assert abs((y[0] - x[0]).norm().item() - err1) <= 1e-6 * err1
    assert abs((y[1] - x[1]).norm().item() - err2) <= 1e-6 * err2
    if beta == 3.0:
        assert abs(w[0, 2].item() - 1.2339457411e-4) <= 1e-6 * 1.2339457411e-4


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 7), st.integers(0, 2**31 - 1))
def test_self_attention_is_permutation_equivariant(t, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(t, 4, generator=g, dtype=F64)
    perm = torch.randperm(t, generator=g)
    y, w = attention(x, x, x)
    y_perm, w_perm = attention(x[perm], x[perm], x[perm])
    assert torch.allclose(y_perm, y[perm], atol=1e-13)
    assert torch.allclose(w_perm.sum(-1), torch.ones(t, dtype=F64), atol=1e-14)


def test_hard_attention_autograd_zero_is_structural_even_at_a_tie():
    # At q = (0, -1) keys 2 and 4 tie, the output jumps there, yet autograd still reports 0:
    # the weights come from an integer argmax and carry no graph (as the docstring says).
    tie = torch.tensor([[0.0, -1.0]], dtype=F64)
    Jq = torch.autograd.functional.jacobian(lambda q: hard_attention(q, K, V)[0], tie)
    assert not Jq.any()
    h = 1e-6
    jump = hard_attention(tie + torch.tensor([[h, 0.0]], dtype=F64), K, V)[0] - \
        hard_attention(tie - torch.tensor([[h, 0.0]], dtype=F64), K, V)[0]
    assert jump.abs().max() > 1.0                      # the true derivative does not exist there


def test_mha_param_count_assumes_kdim_and_vdim_equal_d_model():
    layer = torch.nn.MultiheadAttention(64, 4, kdim=32, vdim=16)
    held = sum(p.numel() for p in layer.parameters())
    assert held == 64 * 64 + 64 * 32 + 64 * 16 + 3 * 64 + 64 * 64 + 64
    assert mha_param_count(64, 4) != held              # the documented restriction
