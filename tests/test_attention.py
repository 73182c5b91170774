"""softmax and attention (chapter *Attention as a soft lookup*)."""

import math

import numpy as np

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlnotes.attention import attention, softmax

F64 = torch.float64


def test_softmax_reference_values():
    out = softmax(torch.tensor([2.0, 1.0, 0.0], dtype=F64))
    assert torch.allclose(out, torch.tensor([0.6652409558, 0.2447284711, 0.0900305732], dtype=F64), atol=1e-10)


def test_softmax_is_stable_for_huge_scores():
    out = softmax(torch.tensor([1e4, 1e4 - 1, -1e4], dtype=F64))
    assert torch.isfinite(out).all()
    assert torch.allclose(out.sum(), torch.tensor(1.0, dtype=F64))


def test_softmax_masked_entries_get_zero_weight():
    out = softmax(torch.tensor([0.0, -math.inf, 0.0], dtype=F64))
    assert out.tolist() == [0.5, 0.0, 0.5]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-50, 50), min_size=1, max_size=12), st.floats(-100, 100))
def test_softmax_rows_sum_to_one_and_ignore_shifts(scores, shift):
    x = torch.tensor(scores, dtype=F64)
    p = softmax(x)
    assert (p >= 0).all() and abs(float(p.sum()) - 1) < 1e-12
    assert torch.allclose(softmax(x + shift), p, atol=1e-12)


@pytest.mark.parametrize(
    "x, match",
    [
        (torch.tensor([]), "empty"),
        (torch.tensor([1.0, math.nan]), "NaN"),
        (torch.tensor([1.0, math.inf]), r"\+inf"),
        (torch.tensor([-math.inf, -math.inf]), "finite entry"),
    ],
)
def test_softmax_rejects_bad_input(x, match):
    with pytest.raises(ValueError, match=match):
        softmax(x)


def test_softmax_rejects_bad_types_and_dims():
    with pytest.raises(TypeError, match="x must"):
        softmax(torch.tensor([1, 2, 3]))
    with pytest.raises(TypeError, match="x must"):
        softmax("scores")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="dim"):
        softmax(torch.zeros(3), dim=1)


def test_attention_matches_torch_with_mask_and_batch():
    torch.manual_seed(0)
    q, k, v = torch.randn(2, 3, 4, 8, dtype=F64), torch.randn(2, 3, 5, 8, dtype=F64), torch.randn(2, 3, 5, 6, dtype=F64)
    mask = torch.rand(4, 5) > 0.3
    mask[:, 0] = True
    out, weights = attention(q, k, v, mask=mask)
    ref = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert torch.allclose(out, ref, atol=1e-12)
    assert (weights[..., ~mask] == 0).all()
    assert torch.allclose(weights.sum(-1), torch.ones(2, 3, 4, dtype=F64))


def test_attention_scale_argument():
    q = torch.tensor([[1.0, 0.0]], dtype=F64)
    k = torch.tensor([[1.0, 0.0], [2.0, 0.1]], dtype=F64)
    _, w = attention(q, k, k, scale=1.0)
    assert torch.allclose(w[0], torch.tensor([0.2689414214, 0.7310585786], dtype=F64), atol=1e-10)


@pytest.mark.parametrize(
    "shapes, match",
    [
        (((3, 4), (5, 3), (5, 2)), "k must have the same last dimension"),
        (((3, 4), (5, 4), (6, 2)), "v must have T_k=5 rows"),
        (((4,), (5, 4), (5, 2)), r"q must have shape \(\.\.\., T_q, d\)"),
        (((2, 3, 4), (3, 5, 4), (3, 5, 2)), "do not broadcast"),
    ],
)
def test_attention_shape_errors_name_the_argument(shapes, match):
    q, k, v = (torch.zeros(s, dtype=F64) for s in shapes)
    with pytest.raises(ValueError, match=match):
        attention(q, k, v)


def test_attention_mask_errors():
    q, k, v = torch.zeros(3, 4), torch.zeros(5, 4), torch.zeros(5, 2)
    with pytest.raises(TypeError, match="mask must be a boolean"):
        attention(q, k, v, mask=torch.ones(3, 5))
    with pytest.raises(ValueError, match="mask must broadcast"):
        attention(q, k, v, mask=torch.ones(3, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="no key to attend"):
        attention(q, k, v, mask=torch.zeros(3, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match="scale"):
        attention(q, k, v, scale=-1.0)
    with pytest.raises(TypeError, match="dtype"):
        attention(q, k.double(), v)
    with pytest.raises(ValueError, match="finite"):
        attention(q, torch.full((5, 4), math.nan), v)


@pytest.mark.parametrize("scale", [0.5, 2, np.float32(0.5), np.float64(0.5), np.int64(2), torch.tensor(0.5),
                                   torch.tensor(0.5, dtype=torch.float64), torch.tensor(2)])
def test_attention_accepts_real_scalar_scales(scale):
    q, k, v = (torch.randn(3, 4, generator=torch.Generator().manual_seed(i), dtype=torch.float64) for i in range(3))
    out, _ = attention(q, k, v, scale=scale)
    expected, _ = attention(q, k, v, scale=float(scale))
    assert torch.equal(out, expected)


@pytest.mark.parametrize("scale", ["0.5", True, np.bool_(True), torch.tensor([0.5]), torch.tensor(True),
                                   torch.tensor(1 + 1j), 1 + 0j, [0.5]])
def test_attention_rejects_non_real_scales_with_type_error(scale):
    q = torch.zeros(3, 4)
    with pytest.raises(TypeError, match="scale must be a real scalar"):
        attention(q, q, q, scale=scale)


@pytest.mark.parametrize("scale", [0.0, -1.0, np.float32(-0.5), torch.tensor(0.0), math.inf, math.nan])
def test_attention_rejects_non_positive_scales_with_value_error(scale):
    q = torch.zeros(3, 4)
    with pytest.raises(ValueError, match="scale must be a positive finite number"):
        attention(q, q, q, scale=scale)
