"""Tests for dlnotes.gan (chapter *GAN training dynamics on a bilinear game*)."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlnotes.gan import METHODS, gda


def test_reference_trajectories_eta_one():
    alt_p = [[1, 1], [0, 1], [-1, 0], [-1, -1], [0, -1], [1, 0], [1, 1]]
    alt_q = [[1, 1], [-1, 2], [-2, 1], [-1, -1], [1, -2], [2, -1], [1, 1]]
    sim = [[1, 1], [0, 2], [-2, 2], [-4, 0], [-4, -4], [0, -8], [8, -8], [16, 0], [16, 16]]
    assert gda(1, 1, lr=1.0, steps=6, method="alternating", first="p").tolist() == alt_p
    assert gda(1, 1, lr=1.0, steps=6, method="alternating", first="q").tolist() == alt_q
    assert gda(1, 1, lr=1.0, steps=8, method="simultaneous").tolist() == sim


def test_shape_dtype_and_start():
    for method in METHODS:
        out = gda(0.3, -1.2, lr=0.5, steps=7, method=method)
        assert out.shape == (8, 2) and out.dtype == torch.float64
        assert out[0].tolist() == [0.3, -1.2]
    assert gda(1, 2, steps=0).tolist() == [[1.0, 2.0]]


def test_simultaneous_norm_growth():
    z = gda(0.3, -1.2, lr=0.7, steps=20)
    assert float(z[-1].norm() / z[0].norm()) == pytest.approx(1.49**10, rel=1e-9)


@pytest.mark.parametrize("eta", [0.1, 0.7, 1.5])
@pytest.mark.parametrize("first, sign", [("p", -1.0), ("q", 1.0)])
def test_alternating_invariant(eta, first, sign):
    z = gda(0.3, -1.2, lr=eta, steps=500, method="alternating", first=first)
    inv = z[:, 0] ** 2 + z[:, 1] ** 2 + sign * eta * z[:, 0] * z[:, 1]
    torch.testing.assert_close(inv, inv[0].expand_as(inv), atol=1e-9, rtol=0)


@settings(max_examples=60, deadline=None)
@given(st.floats(-3, 3), st.floats(-3, 3), st.floats(0.01, 1.99), st.sampled_from(["p", "q"]))
def test_alternating_invariant_property(p0, q0, eta, first):
    z = gda(p0, q0, lr=eta, steps=50, method="alternating", first=first)
    sign = -1.0 if first == "p" else 1.0
    inv = z[:, 0] ** 2 + z[:, 1] ** 2 + sign * eta * z[:, 0] * z[:, 1]
    assert float((inv - inv[0]).abs().max()) <= 1e-9 * max(1.0, float(inv[0]))


@settings(max_examples=60, deadline=None)
@given(st.floats(-3, 3), st.floats(-3, 3), st.floats(0.01, 0.99))
def test_extragradient_contracts_by_exact_factor(p0, q0, eta):
    z = gda(p0, q0, lr=eta, steps=5, method="extragradient")
    factor = math.sqrt(1 - eta**2 + eta**4)
    norms = z.norm(dim=1)
    expected = norms[0] * factor ** torch.arange(6, dtype=torch.float64)
    torch.testing.assert_close(norms, expected, atol=1e-12, rtol=1e-12)


def test_optimistic_converges_and_first_step_is_simultaneous():
    z = gda(1.0, 1.0, lr=0.3, steps=300, method="optimistic")
    assert z[1].tolist() == gda(1.0, 1.0, lr=0.3, steps=1)[1].tolist()
    assert float(z[-1].norm()) < 1e-6
    ratio = float(z[-1].norm() / z[-2].norm())
    assert ratio == pytest.approx(math.sqrt((1 + math.sqrt(1 - 4 * 0.09)) / 2), rel=1e-9)


def test_device_argument():
    assert gda(1, 1, steps=2, device="cpu").device.type == "cpu"


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(p0=float("nan"), q0=1.0), ValueError, "p0"),
        (dict(p0=1.0, q0="1"), TypeError, "q0"),
        (dict(p0=1.0, q0=1.0, lr=0.0), ValueError, "lr"),
        (dict(p0=1.0, q0=1.0, steps=-1), ValueError, "steps"),
        (dict(p0=1.0, q0=1.0, steps=2.0), TypeError, "steps"),
        (dict(p0=1.0, q0=1.0, method="adam"), ValueError, "method"),
        (dict(p0=1.0, q0=1.0, method=3), TypeError, "method"),
        (dict(p0=1.0, q0=1.0, method="alternating", first="z"), ValueError, "first"),
    ],
)
def test_validation(kwargs, error, match):
    with pytest.raises(error, match=match):
        gda(**kwargs)
