"""Perceptrons, stacked affine layers and the sigmoid's derivative.

Used by the chapters *A perceptron cannot compute XOR* (``linearly_separable``,
``separating_hyperplane``, ``perceptron_train``, ``step``), *Depth without
nonlinearity* (``compose_affine``) and *Vanishing gradients* (``sigmoid_grad``).

Shapes: a labelled point set is ``X`` of shape ``(N, d)`` with labels ``y`` of
shape ``(N,)`` taking the values 0 and 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import torch

from dlnotes._validate import as_tensor, require_finite, require_ndim, require_nonempty, require_real

__all__ = [
    "step",
    "sigmoid_grad",
    "linearly_separable",
    "separating_hyperplane",
    "PerceptronRun",
    "perceptron_train",
    "compose_affine",
]


# --------------------------------------------------------------------------- activations


def step(x: torch.Tensor) -> torch.Tensor:
    """Heaviside step with ``step(0) = 0``: 1 where ``x > 0``, else 0 (chapter *A perceptron cannot compute XOR*).

    Args:
        x: real tensor of any shape ``(...)``, no NaN.

    Returns:
        Tensor of the same shape, dtype and device, holding 0.0 and 1.0.
    """
    x = as_tensor("x", x)
    if bool(torch.isnan(x).any()):
        raise ValueError("x must not contain NaN")
    return (x > 0).to(x.dtype)


def sigmoid_grad(x: torch.Tensor) -> torch.Tensor:
    """Derivative of the logistic sigmoid, ``σ'(x) = σ(x)(1 - σ(x))`` (chapter *Vanishing gradients*).

    The value is at most 1/4, reached only at ``x = 0``, and decays like
    ``exp(-|x|)`` for large ``|x|``.  It is computed as ``σ(x) σ(-x)``, which
    equals ``σ(x)(1 - σ(x))`` but keeps full relative accuracy for large ``x``.

    Args:
        x: real tensor of any shape ``(...)``; ``±inf`` is allowed (derivative 0), NaN is not.

    Returns:
        Tensor of the same shape, dtype and device.
    """
    x = as_tensor("x", x)
    if bool(torch.isnan(x).any()):
        raise ValueError("x must not contain NaN")
    # 1 - σ(x) = σ(-x); computing it directly avoids the cancellation in 1 - σ(x)
    # for large positive x, so the result has full relative accuracy everywhere.
    return torch.sigmoid(x) * torch.sigmoid(-x)


# --------------------------------------------------------------------------- input checks


def _points(X: object) -> torch.Tensor:
    X = as_tensor("X", X)
    require_ndim("X", X, 2, "(N, d)")
    require_nonempty("X", X)
    return require_finite("X", X)


def _labels(y: object, n: int) -> list[int]:
    """Labels as a list of 0/1 ints; ``y`` of shape ``(N,)`` (tensor of any real/bool dtype, or a sequence)."""
    if isinstance(y, torch.Tensor):
        if y.is_complex():
            raise TypeError("y must hold real labels 0 and 1, got a complex tensor")
        if y.ndim != 1:
            raise ValueError(f"y must have shape (N,) = ({n},), got {tuple(y.shape)}")
        values = y.detach().cpu().tolist()
    elif isinstance(y, Sequence) and not isinstance(y, (str, bytes)):
        values = list(y)
    else:
        raise TypeError(f"y must be a tensor or a sequence of labels 0 and 1, got {type(y).__name__}")
    if len(values) != n:
        raise ValueError(f"y must have shape (N,) = ({n},) to match X, got {len(values)} labels")
    labels = []
    for v in values:
        if isinstance(v, bool):
            v = int(v)
        if not isinstance(v, (int, float)) or v not in (0, 1):
            raise ValueError(f"y must contain only the labels 0 and 1, got {v!r}")
        labels.append(int(v))
    return labels


# --------------------------------------------------------------------------- exact separability


def _phase_one(rows: list[list[Fraction]], rhs: list[Fraction]) -> list[Fraction] | None:
    """A point ``x >= 0`` with ``rows @ x = rhs`` (all ``rhs >= 0``), or ``None`` if there is none.

    Phase one of the simplex method in exact rational arithmetic: one artificial
    variable per row, minimise their sum.  Bland's rule (lowest-index entering
    column, lowest-index leaving basic variable on ties) guarantees termination.
    """
    m, n = len(rows), len(rows[0])
    width = n + m
    tableau = [row[:] + [Fraction(int(i == j)) for j in range(m)] + [rhs[i]] for i, row in enumerate(rows)]
    basis = [n + i for i in range(m)]
    # reduced costs of the phase-one objective (sum of artificials) for the initial basis
    cost = [Fraction(0)] * (width + 1)
    for j in range(n):
        cost[j] = -sum((tableau[i][j] for i in range(m)), Fraction(0))
    while True:
        entering = next((j for j in range(width) if cost[j] < 0), None)
        if entering is None:
            break
        best: tuple[Fraction, int, int] | None = None
        for i in range(m):
            a = tableau[i][entering]
            if a > 0:
                key = (tableau[i][-1] / a, basis[i], i)
                if best is None or key < best:
                    best = key
        assert best is not None, "phase one is bounded below, so a leaving row exists"
        p = best[2]
        pivot_row = tableau[p]
        pivot = pivot_row[entering]
        pivot_row[:] = [v / pivot for v in pivot_row]
        for i in range(m):
            if i != p and tableau[i][entering] != 0:
                f = tableau[i][entering]
                tableau[i] = [a - f * b for a, b in zip(tableau[i], pivot_row)]
        f = cost[entering]
        cost = [a - f * b for a, b in zip(cost, pivot_row)]
        basis[p] = entering
    x = [Fraction(0)] * width
    for i, j in enumerate(basis):
        x[j] = tableau[i][-1]
    if any(x[j] != 0 for j in range(n, width)):
        return None
    return x[:n]


def _hyperplane_exact(X: torch.Tensor, labels: list[int]) -> tuple[list[Fraction], Fraction] | None:
    n_points, d = X.shape
    if all(v == labels[0] for v in labels):
        # one class only: a constant classifier separates it
        return [Fraction(0)] * d, Fraction(1 if labels[0] == 1 else -1)
    points = [[Fraction(v) for v in row] for row in X.detach().cpu().to(torch.float64).tolist()]
    # variables: w+ (d), w- (d), b+, b-, surplus t (N); all >= 0
    rows, rhs = [], []
    for i, (x, label) in enumerate(zip(points, labels)):
        s = 1 if label == 1 else -1
        row = [s * v for v in x] + [-s * v for v in x] + [Fraction(s), Fraction(-s)]
        row += [Fraction(-1 if k == i else 0) for k in range(n_points)]
        rows.append(row)
        rhs.append(Fraction(1))
    solution = _phase_one(rows, rhs)
    if solution is None:
        return None
    w = [solution[k] - solution[d + k] for k in range(d)]
    b = solution[2 * d] - solution[2 * d + 1]
    return w, b


def separating_hyperplane(X: torch.Tensor, y: object) -> tuple[torch.Tensor, float] | None:
    """A hyperplane that separates the two classes, or ``None`` when none exists (chapter *A perceptron cannot compute XOR*).

    Method: the classes are strictly separable exactly when the linear system
    ``s_i (w·x_i + b) >= 1`` (with ``s_i = +1`` for label 1 and ``-1`` for
    label 0) has a solution, because any strict separator can be rescaled to
    margin 1.  Feasibility is decided by phase one of the simplex method in
    exact rational arithmetic (``fractions.Fraction``) on the exact binary
    values of the inputs, with Bland's anti-cycling rule.  There is no
    floating-point tolerance anywhere, so the yes/no answer is exact for the
    points as stored; the worst-case cost is exponential, but for the small sets
    used in the book (tens of points, a few dimensions) it is immediate.

    Args:
        X: points ``(N, d)``, finite.
        y: labels ``(N,)``, each 0 or 1 (tensor of any real or bool dtype, or a sequence).

    Returns:
        ``(w, b)`` with ``w`` a float64 tensor ``(d,)`` on ``X``'s device, such that
        ``w·x + b >= 1`` for label 1 and ``<= -1`` for label 0 (exactly in
        rational arithmetic; ``w`` and ``b`` are rounded to float64 on return),
        or ``None`` if no hyperplane separates the classes.
    """
    X = _points(X)
    labels = _labels(y, X.shape[0])
    found = _hyperplane_exact(X, labels)
    if found is None:
        return None
    w, b = found
    return torch.tensor([float(v) for v in w], dtype=torch.float64, device=X.device), float(b)


def linearly_separable(X: torch.Tensor, y: object) -> bool:
    """Whether some hyperplane puts every label-1 point strictly on one side and every label-0 point strictly on the other.

    Exact (no tolerance) for the float64 values of the input: see
    :func:`separating_hyperplane` for the method.  Inputs are first converted to
    float64, so integers beyond 2**53 (Python or NumPy) are rounded before the exact
    test sees them.  Equivalently, whether a perceptron ``step(w·x + b)`` can reproduce the labels
    (chapter *A perceptron cannot compute XOR*).  A set with a single class counts as separable.

    Args:
        X: points ``(N, d)``, finite.
        y: labels ``(N,)``, each 0 or 1.
    """
    X = _points(X)
    labels = _labels(y, X.shape[0])
    return _hyperplane_exact(X, labels) is not None


# --------------------------------------------------------------------------- the perceptron rule


@dataclass(frozen=True)
class PerceptronRun:
    """The outcome of :func:`perceptron_train`.

    Attributes:
        weights: final weights, ``d`` floats.
        bias: final bias.
        converged: an epoch passed with no mistake, so every point is classified correctly.
        cycled: the weights at the start of an epoch repeated an earlier state, so
            the (deterministic) rule would repeat the same epochs forever.
        epochs: epochs run (the last one included).
        updates: total number of weight updates.
        cycle_length: epochs between the two equal states when ``cycled``, else ``None``.
    """

    weights: tuple[float, ...]
    bias: float
    converged: bool
    cycled: bool
    epochs: int
    updates: int
    cycle_length: int | None = None


def perceptron_train(X: torch.Tensor, y: object, *, lr: float = 1.0, max_epochs: int = 1000) -> PerceptronRun:
    """Rosenblatt's perceptron rule, visiting the points in order, from zero weights (chapter *A perceptron cannot compute XOR*).

    For each point the prediction is ``step(w·x + b)`` (``step(0) = 0``); on a
    mistake ``w += lr (y - ŷ) x`` and ``b += lr (y - ŷ)``.  Training stops when
    an epoch makes no mistake (``converged``), when the state ``(w, b)`` at the
    start of an epoch equals the state at the start of an earlier epoch
    (``cycled``: the rule is deterministic, so it would loop forever), or after
    ``max_epochs``.  With integer points and ``lr = 1`` the weights stay
    integers, and on non-separable data they stay bounded, so one of the first
    two outcomes always occurs eventually.

    Arithmetic is in Python floats so that states compare exactly.

    Args:
        X: points ``(N, d)``, finite.
        y: labels ``(N,)``, each 0 or 1.
        lr: positive learning rate.
        max_epochs: at least 1.
    """
    X = _points(X)
    labels = _labels(y, X.shape[0])
    lr = require_real("lr", lr, positive=True)
    if isinstance(max_epochs, bool) or not isinstance(max_epochs, int):
        raise TypeError(f"max_epochs must be an int, got {type(max_epochs).__name__}")
    if max_epochs < 1:
        raise ValueError(f"max_epochs must be at least 1, got {max_epochs}")
    points = X.detach().cpu().to(torch.float64).tolist()
    d = X.shape[1]
    w, b = [0.0] * d, 0.0
    seen: dict[tuple[float, ...], int] = {}
    updates = 0
    for epoch in range(1, max_epochs + 1):
        state = (*w, b)
        if state in seen:
            return PerceptronRun(tuple(w), b, False, True, epoch - 1, updates, epoch - seen[state])
        seen[state] = epoch
        mistakes = 0
        for x, label in zip(points, labels):
            predicted = 1 if math.fsum(wi * xi for wi, xi in zip(w, x)) + b > 0 else 0
            if predicted != label:
                delta = lr * (label - predicted)
                w = [wi + delta * xi for wi, xi in zip(w, x)]
                b += delta
                mistakes += 1
                updates += 1
        if mistakes == 0:
            return PerceptronRun(tuple(w), b, True, False, epoch, updates)
    return PerceptronRun(tuple(w), b, False, False, max_epochs, updates)


# --------------------------------------------------------------------------- stacked affine layers


def compose_affine(
    weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Collapse ``x ↦ W_L(⋯(W_1 x + b_1)⋯) + b_L`` into one affine map ``x ↦ W x + b`` (chapter *Depth without nonlinearity*).

    ``W = W_L ⋯ W_1`` and ``b = Σ_l W_L ⋯ W_{l+1} b_l``.

    Args:
        weights: ``L >= 1`` matrices, ``W_l`` of shape ``(n_l, n_{l-1})``.
        biases: ``L`` vectors, ``b_l`` of shape ``(n_l,)``.

    Returns:
        ``(W, b)`` with ``W`` of shape ``(n_L, n_0)`` and ``b`` of shape ``(n_L,)``.

    Raises:
        TypeError: ``weights`` or ``biases`` is not a list of tensors.
        ValueError: lengths, shapes, devices or dtypes that do not fit together.
    """
    for label, seq in (("weights", weights), ("biases", biases)):
        if isinstance(seq, torch.Tensor) or not isinstance(seq, Sequence):
            raise TypeError(f"{label} must be a list of tensors, got {type(seq).__name__}")
    if len(weights) == 0:
        raise ValueError("weights must hold at least one matrix")
    if len(weights) != len(biases):
        raise ValueError(f"weights and biases must have the same length, got {len(weights)} and {len(biases)}")
    Ws = [as_tensor(f"weights[{i}]", w) for i, w in enumerate(weights)]
    bs = [as_tensor(f"biases[{i}]", b) for i, b in enumerate(biases)]
    for i, (w, b) in enumerate(zip(Ws, bs)):
        require_ndim(f"weights[{i}]", w, 2, f"(n_{i + 1}, n_{i})")
        require_ndim(f"biases[{i}]", b, 1, f"(n_{i + 1},)")
        if b.shape[0] != w.shape[0]:
            raise ValueError(f"biases[{i}] must have shape ({w.shape[0]},) to match weights[{i}], got {tuple(b.shape)}")
        if i > 0 and w.shape[1] != Ws[i - 1].shape[0]:
            raise ValueError(
                f"weights[{i}] must have shape (n_{i + 1}, {Ws[i - 1].shape[0]}) to follow weights[{i - 1}], "
                f"got {tuple(w.shape)}"
            )
        if w.device != Ws[0].device or b.device != Ws[0].device:
            raise ValueError("weights and biases must all be on one device")
        if w.dtype != Ws[0].dtype or b.dtype != Ws[0].dtype:
            raise ValueError(
                f"weights and biases must all have one dtype: weights[0] is {Ws[0].dtype}, "
                f"but weights[{i}] is {w.dtype} and biases[{i}] is {b.dtype}"
            )
    W, b = Ws[0], bs[0]
    for w_next, b_next in zip(Ws[1:], bs[1:]):
        W, b = w_next @ W, w_next @ b + b_next
    return W, b
