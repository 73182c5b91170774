"""step, sigmoid_grad, exact separability, the perceptron rule and compose_affine
(chapters *A perceptron cannot compute XOR*, *Depth without nonlinearity*, *Vanishing gradients*)."""

import itertools
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlnotes.basics import (
    compose_affine,
    linearly_separable,
    perceptron_train,
    separating_hyperplane,
    sigmoid_grad,
    step,
)

F64 = torch.float64
CORNERS = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=F64)


# --------------------------------------------------------------------------- sigmoid_grad and step


def test_sigmoid_grad_reference_values():
    out = sigmoid_grad(torch.tensor([0.0, 2.0, -2.0, 5.0], dtype=F64))
    expected = torch.tensor([0.25, 0.1049935854, 0.1049935854, 0.0066480567], dtype=F64)
    assert torch.allclose(out, expected, rtol=0, atol=1e-10)


def test_sigmoid_grad_matches_autograd_and_is_at_most_a_quarter():
    x = torch.linspace(-30, 30, 601, dtype=F64, requires_grad=True)
    torch.sigmoid(x).sum().backward()
    g = sigmoid_grad(x.detach())
    assert torch.allclose(g, x.grad, atol=1e-15)
    assert float(g.max()) == 0.25 and float(g.min()) >= 0


def test_sigmoid_grad_at_infinity_and_nan():
    assert sigmoid_grad(torch.tensor([math.inf, -math.inf], dtype=F64)).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="x must not contain NaN"):
        sigmoid_grad(torch.tensor([math.nan]))
    with pytest.raises(TypeError, match="x must have a floating dtype"):
        sigmoid_grad(torch.tensor([1, 2]))


def test_step_is_zero_at_zero():
    assert step(torch.tensor([-1.0, 0.0, 0.5])).tolist() == [0.0, 0.0, 1.0]


# --------------------------------------------------------------------------- separability


def test_exactly_xor_and_xnor_are_not_separable():
    bad = [t for t in itertools.product([0, 1], repeat=4) if not linearly_separable(CORNERS, list(t))]
    assert bad == [(0, 1, 1, 0), (1, 0, 0, 1)]


def test_three_input_threshold_functions_count_104():
    cube = torch.tensor(list(itertools.product([0.0, 1.0], repeat=3)), dtype=F64)
    count = sum(linearly_separable(cube, list(t)) for t in itertools.product([0, 1], repeat=8) if t[0] == 0)
    assert 2 * count == 104  # f is separable exactly when 1 - f is


def test_witness_separates_with_margin_one():
    w, b = separating_hyperplane(CORNERS, [0, 0, 0, 1])
    margins = (CORNERS @ w + b) * torch.tensor([-1, -1, -1, 1], dtype=F64)
    assert bool((margins >= 1 - 1e-12).all())
    assert separating_hyperplane(CORNERS, [0, 1, 1, 0]) is None


def test_separability_is_exact_for_nearly_touching_classes():
    # two label-0 points and a label-1 point that lies on their segment, shifted by 2**-40
    eps = 2.0**-40
    X = torch.tensor([[0.0, 0.0], [2.0, 0.0], [1.0, eps]], dtype=F64)
    assert linearly_separable(X, [0, 0, 1])
    X_on = torch.tensor([[0.0, 0.0], [2.0, 0.0], [1.0, 0.0]], dtype=F64)
    assert not linearly_separable(X_on, [0, 0, 1])


def test_duplicate_point_with_both_labels_is_not_separable():
    X = torch.tensor([[1.0, 2.0], [1.0, 2.0]])
    assert not linearly_separable(X, [0, 1])
    assert linearly_separable(X, [1, 1])


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_separability_agrees_with_the_perceptron(data):
    n = data.draw(st.integers(2, 7))
    d = data.draw(st.integers(1, 2))
    coords = data.draw(st.lists(st.lists(st.integers(-2, 2), min_size=d, max_size=d), min_size=n, max_size=n))
    labels = data.draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    X = torch.tensor(coords, dtype=F64)
    run = perceptron_train(X, labels, max_epochs=20_000)
    assert run.converged or run.cycled  # integer data: one of the two always happens
    assert linearly_separable(X, labels) == run.converged


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_random_hyperplane_labels_are_separable(data):
    # dyadic coordinates and weights keep X @ w + b exact in float64, so the labels
    # below are exactly those of the hyperplane (w, b)
    dyadic = st.integers(-40, 40).map(lambda k: k / 8)
    d = data.draw(st.integers(1, 3))
    n = data.draw(st.integers(1, 10))
    X = torch.tensor(data.draw(st.lists(st.lists(dyadic, min_size=d, max_size=d), min_size=n, max_size=n)),
                     dtype=F64)
    w = torch.tensor(data.draw(st.lists(dyadic, min_size=d, max_size=d)), dtype=F64)
    b = data.draw(dyadic)
    labels = (X @ w + b > 0).long()
    found = separating_hyperplane(X, labels)
    if bool(((X @ w + b) != 0).all()):
        assert found is not None
    if found is not None:
        w2, b2 = found
        assert ((X @ w2 + b2 > 0).long() == labels).all()


def test_separability_argument_errors():
    with pytest.raises(ValueError, match=r"X must have shape \(N, d\)"):
        linearly_separable(torch.zeros(4), [0, 1, 1, 0])
    with pytest.raises(ValueError, match="y must contain only the labels 0 and 1"):
        linearly_separable(CORNERS, [0, 1, 2, 0])
    with pytest.raises(ValueError, match="y must have shape"):
        linearly_separable(CORNERS, [0, 1, 1])
    with pytest.raises(ValueError, match="X must be finite"):
        linearly_separable(torch.tensor([[math.nan, 0.0]]), [1])
    with pytest.raises(TypeError, match="y must be a tensor or a sequence"):
        linearly_separable(CORNERS, "0110")


# --------------------------------------------------------------------------- perceptron rule


def test_perceptron_converges_on_and_or_and_cycles_on_xor():
    assert perceptron_train(CORNERS, [0, 0, 0, 1]).converged
    assert perceptron_train(CORNERS, [0, 1, 1, 1]).converged
    run = perceptron_train(CORNERS, [0, 1, 1, 0])
    assert run.cycled and not run.converged and run.cycle_length >= 1


def test_perceptron_solution_classifies_everything():
    run = perceptron_train(CORNERS, [0, 1, 1, 1])
    w = torch.tensor(run.weights, dtype=F64)
    assert step(CORNERS @ w + run.bias).tolist() == [0.0, 1.0, 1.0, 1.0]


def test_perceptron_argument_errors():
    with pytest.raises(ValueError, match="lr must be positive"):
        perceptron_train(CORNERS, [0, 0, 0, 1], lr=0.0)
    with pytest.raises(ValueError, match="max_epochs must be at least 1"):
        perceptron_train(CORNERS, [0, 0, 0, 1], max_epochs=0)


# --------------------------------------------------------------------------- compose_affine


def test_compose_affine_reference_values():
    W, b = compose_affine([torch.tensor([[1.0, 2.0], [3.0, 4.0]]), torch.tensor([[0.0, 1.0], [-1.0, 2.0]])],
                          [torch.tensor([1.0, -1.0]), torch.tensor([0.5, 0.0])])
    assert W.tolist() == [[3.0, 4.0], [5.0, 6.0]] and b.tolist() == [-0.5, -3.0]
    assert (W @ torch.tensor([2.0, -3.0]) + b).tolist() == [-6.5, -11.0]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=2, max_size=7), st.integers(0, 2**31 - 1))
def test_compose_affine_equals_the_stack(widths, seed):
    g = torch.Generator().manual_seed(seed)
    Ws = [torch.randn(widths[i + 1], widths[i], generator=g, dtype=F64) for i in range(len(widths) - 1)]
    bs = [torch.randn(widths[i + 1], generator=g, dtype=F64) for i in range(len(widths) - 1)]
    x = torch.randn(widths[0], generator=g, dtype=F64)
    h = x
    for W, b in zip(Ws, bs):
        h = W @ h + b
    W, b = compose_affine(Ws, bs)
    assert W.shape == (widths[-1], widths[0])
    assert torch.allclose(W @ x + b, h, rtol=1e-12, atol=1e-12)


def test_compose_affine_argument_errors():
    with pytest.raises(ValueError, match="at least one matrix"):
        compose_affine([], [])
    with pytest.raises(ValueError, match="same length"):
        compose_affine([torch.eye(2)], [])
    with pytest.raises(ValueError, match=r"weights\[1\] must have shape"):
        compose_affine([torch.eye(2), torch.eye(3)], [torch.zeros(2), torch.zeros(3)])
    with pytest.raises(ValueError, match=r"biases\[0\] must have shape \(2,\)"):
        compose_affine([torch.eye(2)], [torch.zeros(3)])
    with pytest.raises(TypeError, match="weights must be a list"):
        compose_affine(torch.eye(2), [torch.zeros(2)])


def test_compose_affine_rejects_mixed_dtypes_with_a_value_error():
    W = torch.eye(2, dtype=torch.float32)
    b = torch.zeros(2, dtype=torch.float64)
    with pytest.raises(ValueError, match="dtype"):
        compose_affine([W], [b])
    with pytest.raises(ValueError, match="dtype"):
        compose_affine([W, W.double()], [b.float(), b])
