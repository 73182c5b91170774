"""Tests for dlnotes.rnn (chapters rnn_shapes, bptt, alternating_rnn)."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlnotes.rnn import alternating_closed_form, alternating_rnn, bptt_gradients, rnn_forward

f64 = dict(dtype=torch.float64)


# --------------------------------------------------------------------------- alternating RNN

@pytest.mark.parametrize("x, h0, expected", [
    ([3, 1, 4, 1, 5, 9], 0.0, -1.0),
    ([0.2, 0.5, -0.1, 0.3, 0.0, 0.1], 0.0, 0.8),
    ([1, 2, 3, 4], 0.7, 2.7),
    ([1, 2, 3], 0.5, 1.5),
])
def test_alternating_reference_states(x, h0, expected):
    h, _ = alternating_rnn(torch.tensor(x, **f64), h0=h0)
    assert abs(h.item() - expected) <= 1e-12


@pytest.mark.parametrize("x, expected", [
    ([0.001, 0.003], 0.8807970780),
    ([1, 0, 0, 1, 1, 1], 0.5),
    ([1, 3, 2, 2, 0, 1], 1.0),
])
def test_alternating_reference_outputs(x, expected):
    _, y = alternating_rnn(torch.tensor(x, **f64))
    assert abs(y.item() - expected) <= 1e-9


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-20, 20), min_size=1, max_size=40), st.integers(-5, 5))
def test_alternating_closed_form_matches_recurrence(xs, h0):
    x = torch.tensor(xs, **f64)
    h, _ = alternating_rnn(x, h0=float(h0))
    assert h.item() == alternating_closed_form(x, h0=float(h0)).item()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-9, 9), min_size=1, max_size=20).filter(lambda v: len(v) % 2 == 0))
def test_alternating_output_compares_even_and_odd_sums(xs):
    even, odd = sum(xs[1::2]), sum(xs[0::2])
    _, y = alternating_rnn(torch.tensor(xs, **f64))
    expected = 1.0 if even > odd else 0.0 if even < odd else 0.5
    assert abs(y.item() - expected) <= 1e-15


def test_alternating_accepts_lists_and_tensor_h0():
    h, y = alternating_rnn([1.0, 2.0], h0=torch.tensor([0.5], **f64))
    assert h.item() == 1.5 and y.item() == 1.0


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(x=torch.zeros(2, 2, **f64)), ValueError, r"x must have shape \(T,\)"),
    (dict(x=torch.zeros(0, **f64)), ValueError, "x must not be empty"),
    (dict(x=torch.tensor([1, 2])), TypeError, "x must have a floating dtype"),
    (dict(x=torch.tensor([1.0, math.nan])), ValueError, "x must be finite"),
    (dict(x=torch.ones(3, **f64), gain=0.0), ValueError, "gain must be positive"),
    (dict(x=torch.ones(3, **f64), h0="a"), TypeError, "h0 must be a real number"),
    (dict(x=torch.ones(3, **f64), h0=torch.ones(2, **f64)), ValueError, "h0 must be a real number"),
])
def test_alternating_validation(kwargs, error, match):
    with pytest.raises(error, match=match):
        alternating_rnn(**kwargs)


# --------------------------------------------------------------------------- rnn_forward

def _params(n_in=3, n=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, generator=g, **f64), torch.randn(n, n_in, generator=g, **f64),
            torch.randn(n, n, generator=g, **f64), torch.randn(n, generator=g, **f64))


def test_rnn_forward_matches_torch_rnn_cell():
    h0, W_xh, W_hh, b = _params()
    x = torch.randn(6, 3, **f64)
    cell = torch.nn.RNNCell(3, 4, nonlinearity="tanh").double()
    with torch.no_grad():
        cell.weight_ih.copy_(W_xh)
        cell.weight_hh.copy_(W_hh)
        cell.bias_ih.copy_(b)
        cell.bias_hh.zero_()
        h, expected = h0.unsqueeze(0), []
        for x_t in x:
            h = cell(x_t.unsqueeze(0), h)
            expected.append(h[0])
    assert torch.allclose(rnn_forward(x, h0, W_xh, W_hh, b), torch.stack(expected), atol=1e-12)


@pytest.mark.parametrize("nonlinearity", ["tanh", "sigmoid", "relu", "identity"])
def test_rnn_forward_shapes_and_causality(nonlinearity):
    h0, W_xh, W_hh, b = _params()
    x = torch.randn(5, 3, **f64)
    states = rnn_forward(x, h0, W_xh, W_hh, b, nonlinearity=nonlinearity)
    assert states.shape == (5, 4)
    x2 = x.clone()
    x2[3] += 1.0
    changed = rnn_forward(x2, h0, W_xh, W_hh, b, nonlinearity=nonlinearity)
    assert torch.equal(changed[:3], states[:3])


@pytest.mark.parametrize("args, error, match", [
    ((torch.zeros(5, **f64),), ValueError, r"x must have shape \(T, n_in\)"),
    ((torch.zeros(5, 2, **f64),), ValueError, "n_in=3"),
    ((torch.zeros(5, 3, dtype=torch.float32),), TypeError, "share one dtype"),
])
def test_rnn_forward_validation_x(args, error, match):
    h0, W_xh, W_hh, b = _params()
    with pytest.raises(error, match=match):
        rnn_forward(args[0], h0, W_xh, W_hh, b)


def test_rnn_forward_validation_weights():
    h0, W_xh, W_hh, b = _params()
    x = torch.zeros(5, 3, **f64)
    with pytest.raises(ValueError, match=r"W_hh must have shape \(n, n\) = \(4, 4\)"):
        rnn_forward(x, h0, W_xh, W_hh[:3], b)
    with pytest.raises(ValueError, match=r"h0 must have shape \(n,\) = \(4,\)"):
        rnn_forward(x, h0[:2], W_xh, W_hh, b)
    with pytest.raises(ValueError, match=r"b must have shape \(n,\)"):
        rnn_forward(x, h0, W_xh, W_hh, b[:1])
    with pytest.raises(ValueError, match="nonlinearity must be one of"):
        rnn_forward(x, h0, W_xh, W_hh, b, nonlinearity="gelu")
    with pytest.raises(ValueError, match="W_hh must be finite"):
        rnn_forward(x, h0, W_xh, W_hh * math.inf, b)


# --------------------------------------------------------------------------- BPTT

@settings(max_examples=20, deadline=None)
@given(st.integers(1, 8), st.integers(1, 4), st.integers(1, 5), st.integers(2, 5), st.integers(0, 10_000))
def test_bptt_matches_autograd(T, n_in, n, K, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(T, n_in, generator=g, **f64)
    targets = torch.randint(0, K, (T,), generator=g)
    params = [torch.randn(*s, generator=g, **f64).requires_grad_() for s in [(n,), (n, n_in), (n, n), (K, n)]]
    states = rnn_forward(x, params[0], params[1], params[2], nonlinearity="sigmoid")
    loss = torch.nn.functional.cross_entropy(states @ params[3].T, targets, reduction="sum")
    loss.backward()
    grads = bptt_gradients(x, targets, *(p.detach() for p in params))
    assert abs(grads["loss"].item() - loss.item()) <= 1e-10 * max(1.0, abs(loss.item()))
    for name, p in zip(["h0", "W_xh", "W_hh", "W_hy"], params):
        assert grads[name].shape == p.shape
        assert torch.allclose(grads[name], p.grad, atol=1e-11), name


def test_bptt_validation():
    h0, W_xh, W_hh, _ = _params()
    W_hy = torch.randn(2, 4, **f64)
    x = torch.zeros(3, 3, **f64)
    with pytest.raises(TypeError, match="targets must be an integer tensor"):
        bptt_gradients(x, torch.zeros(3, **f64), h0, W_xh, W_hh, W_hy)
    with pytest.raises(ValueError, match=r"targets must have shape \(T,\) = \(3,\)"):
        bptt_gradients(x, torch.zeros(4, dtype=torch.long), h0, W_xh, W_hh, W_hy)
    with pytest.raises(ValueError, match=r"targets must lie in \[0, K\)"):
        bptt_gradients(x, torch.tensor([0, 1, 2]), h0, W_xh, W_hh, W_hy)
    with pytest.raises(ValueError, match=r"W_hy must have shape \(K, n\) with n=4"):
        bptt_gradients(x, torch.tensor([0, 1, 1]), h0, W_xh, W_hh, W_hy[:, :3])
