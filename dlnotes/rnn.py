"""Recurrent networks: shapes, backpropagation through time and a hand-built RNN.

Used by the chapters *RNN shapes* (``chap-rnn-shapes``), *Backpropagation
through time* (``chap-bptt``) and *An RNN that compares sums*
(``chap-alternating-rnn``).

Shapes follow the book: a sequence ``x`` has ``T`` rows, one per time step; a
hidden state has ``n`` entries; weights act on column vectors, so
``h_t = phi(W_hh h_{t-1} + W_xh x_t + b)`` with ``W_hh`` of shape ``(n, n)`` and
``W_xh`` of shape ``(n, n_in)``.
"""

from __future__ import annotations

import torch

from dlnotes._validate import (
    as_tensor,
    require_finite,
    require_ndim,
    require_nonempty,
    require_real,
    require_same_device,
)

__all__ = ["alternating_rnn", "alternating_closed_form", "rnn_forward", "bptt_gradients", "NONLINEARITIES"]

#: The nonlinearities :func:`rnn_forward` accepts.
NONLINEARITIES = {
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "identity": lambda z: z,
}


def _sequence_1d(x: object) -> torch.Tensor:
    x = as_tensor("x", x)
    require_ndim("x", x, 1, "(T,)")
    require_nonempty("x", x)
    return require_finite("x", x)


def _scalar(name: str, value: object, like: torch.Tensor) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1 or not value.is_floating_point():
            raise ValueError(f"{name} must be a real number or a one-element floating tensor, got shape "
                             f"{tuple(value.shape)}")
        require_finite(name, value)
        return value.reshape(()).to(device=like.device, dtype=like.dtype)
    return torch.tensor(require_real(name, value), dtype=like.dtype, device=like.device)


def alternating_rnn(x: torch.Tensor, h0: float | torch.Tensor = 0.0,
                    gain: float = 1000.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Run ``H_t = X_t - H_{t-1}`` over ``x`` and read out ``Y_T = sigmoid(gain * H_T)``.

    The hand-built network of chapter *An RNN that compares sums*.  The state is
    updated step by step (no closed form is used), so the function can be
    checked against the closed form derived in the chapter.

    Args:
        x: the inputs ``X_1, ..., X_T``, shape ``(T,)``, real and finite.
        h0: the initial state ``H_0``, a real number (or one-element tensor).
        gain: the factor inside the sigmoid, a positive real number.

    Returns:
        ``(h_T, y_T)``: two 0-dimensional tensors with the dtype and device of ``x``.
    """
    x = _sequence_1d(x)
    h = _scalar("h0", h0, x)
    gain = require_real("gain", gain, positive=True)
    for x_t in x:
        h = x_t - h
    return h, torch.sigmoid(gain * h)


def alternating_closed_form(x: torch.Tensor, h0: float | torch.Tensor = 0.0) -> torch.Tensor:
    """``H_T = sum_k (-1)^(T-k) X_k + (-1)^T H_0`` for ``x`` of shape ``(T,)`` (0-dim result).

    Chapter *An RNN that compares sums*, equation ``eq-alternating-closed``.
    """
    x = _sequence_1d(x)
    h = _scalar("h0", h0, x)
    T = x.shape[0]
    k = torch.arange(1, T + 1, device=x.device)
    signs = torch.where((T - k) % 2 == 0, 1.0, -1.0).to(x.dtype)
    return (signs * x).sum() + (-1.0) ** T * h


def _check_rnn_args(x, h0, W_xh, W_hh, b):
    x = as_tensor("x", x)
    require_ndim("x", x, 2, "(T, n_in)")
    require_nonempty("x", x)
    W_xh = as_tensor("W_xh", W_xh)
    require_ndim("W_xh", W_xh, 2, "(n, n_in)")
    require_nonempty("W_xh", W_xh)
    n, n_in = W_xh.shape
    if x.shape[1] != n_in:
        raise ValueError(f"x must have shape (T, n_in) with n_in={n_in} (the columns of W_xh), "
                         f"got x of shape {tuple(x.shape)}")
    W_hh = as_tensor("W_hh", W_hh)
    if tuple(W_hh.shape) != (n, n):
        raise ValueError(f"W_hh must have shape (n, n) = ({n}, {n}), got {tuple(W_hh.shape)}")
    h0 = as_tensor("h0", h0)
    if tuple(h0.shape) != (n,):
        raise ValueError(f"h0 must have shape (n,) = ({n},), got {tuple(h0.shape)}")
    tensors = dict(x=x, h0=h0, W_xh=W_xh, W_hh=W_hh)
    if b is not None:
        b = as_tensor("b", b)
        if tuple(b.shape) != (n,):
            raise ValueError(f"b must have shape (n,) = ({n},), got {tuple(b.shape)}")
        tensors["b"] = b
    require_same_device(**tensors)
    dtypes = {t.dtype for t in tensors.values()}
    if len(dtypes) > 1:
        raise TypeError("x, h0, W_xh, W_hh and b must share one dtype, got "
                        + ", ".join(f"{k} {v.dtype}" for k, v in tensors.items()))
    for name, t in tensors.items():
        require_finite(name, t)
    return x, h0, W_xh, W_hh, b


def rnn_forward(x: torch.Tensor, h0: torch.Tensor, W_xh: torch.Tensor, W_hh: torch.Tensor,
                b: torch.Tensor | None = None, nonlinearity: str = "tanh") -> torch.Tensor:
    """Hidden states of the Elman RNN ``h_t = phi(W_hh h_{t-1} + W_xh x_t + b)``.

    Chapters *RNN shapes* and *Backpropagation through time*.  Differentiable
    with autograd.

    Args:
        x: inputs, shape ``(T, n_in)``.
        h0: initial state, shape ``(n,)``.
        W_xh: input weights, shape ``(n, n_in)``.
        W_hh: recurrent weights, shape ``(n, n)``.
        b: optional bias, shape ``(n,)``.
        nonlinearity: ``"tanh"``, ``"sigmoid"``, ``"relu"`` or ``"identity"``.

    Returns:
        The states ``h_1, ..., h_T`` as the rows of a ``(T, n)`` tensor.
    """
    if not isinstance(nonlinearity, str) or nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {sorted(NONLINEARITIES)}, got {nonlinearity!r}")
    x, h, W_xh, W_hh, b = _check_rnn_args(x, h0, W_xh, W_hh, b)
    phi = NONLINEARITIES[nonlinearity]
    states = []
    for x_t in x:
        z = W_hh @ h + W_xh @ x_t
        if b is not None:
            z = z + b
        h = phi(z)
        states.append(h)
    return torch.stack(states)


def bptt_gradients(x: torch.Tensor, targets: torch.Tensor, h0: torch.Tensor, W_xh: torch.Tensor,
                   W_hh: torch.Tensor, W_hy: torch.Tensor) -> dict[str, torch.Tensor]:
    """Loss and gradients of a sigmoid RNN with softmax outputs, by backpropagation through time.

    Chapter *Backpropagation through time*.  The model is
    ``h_t = sigmoid(z_t)``, ``z_t = W_hh h_{t-1} + W_xh x_t``,
    ``p_t = softmax(W_hy h_t)``, and the loss ``L = -sum_t log p_t[y_t]``.  The
    gradients are computed with the backward recursion derived there, not by
    autograd.

    Args:
        x: inputs ``(T, n_in)``.
        targets: class indices ``(T,)``, an integer tensor with entries in ``[0, K)``.
        h0: initial state ``(n,)``.
        W_xh: ``(n, n_in)``; W_hh: ``(n, n)``; W_hy: ``(K, n)``.

    Returns:
        ``{"loss": 0-dim, "W_xh": (n, n_in), "W_hh": (n, n), "W_hy": (K, n), "h0": (n,)}``.
    """
    x, h0, W_xh, W_hh, _ = _check_rnn_args(x, h0, W_xh, W_hh, None)
    W_hy = as_tensor("W_hy", W_hy)
    n = W_hh.shape[0]
    require_ndim("W_hy", W_hy, 2, f"(K, n) with n={n}")
    if W_hy.shape[1] != n or W_hy.shape[0] == 0:
        raise ValueError(f"W_hy must have shape (K, n) with n={n}, got {tuple(W_hy.shape)}")
    require_same_device(x=x, W_hy=W_hy)
    if W_hy.dtype != x.dtype:
        raise TypeError(f"W_hy must have dtype {x.dtype} like x, got {W_hy.dtype}")
    require_finite("W_hy", W_hy)
    if not isinstance(targets, torch.Tensor) or targets.is_floating_point() or targets.dtype == torch.bool \
            or targets.is_complex():
        raise TypeError("targets must be an integer tensor of class indices, shape (T,)")
    T, K = x.shape[0], W_hy.shape[0]
    if tuple(targets.shape) != (T,):
        raise ValueError(f"targets must have shape (T,) = ({T},), got {tuple(targets.shape)}")
    if bool((targets < 0).any()) or bool((targets >= K).any()):
        raise ValueError(f"targets must lie in [0, K) = [0, {K}), got values outside")
    targets = targets.to(x.device)

    # forward pass, keeping what the backward pass needs
    hs = [h0]
    for x_t in x:
        hs.append(torch.sigmoid(W_hh @ hs[-1] + W_xh @ x_t))
    H = torch.stack(hs[1:])                                  # (T, n)
    logits = H @ W_hy.T                                      # (T, K)
    logp = torch.log_softmax(logits, dim=-1)
    loss = -logp[torch.arange(T, device=x.device), targets].sum()
    e = logp.exp()
    e[torch.arange(T, device=x.device), targets] -= 1.0      # p_t - y_t, (T, K)

    g_hy = e.T @ H
    g_hh = torch.zeros_like(W_hh)
    g_xh = torch.zeros_like(W_xh)
    carry = torch.zeros_like(h0)                             # W_hh^T r_{t+1}
    for t in range(T - 1, -1, -1):
        delta = W_hy.T @ e[t] + carry                        # dL/dh_t
        r = hs[t + 1] * (1 - hs[t + 1]) * delta              # dL/dz_t
        g_hh += torch.outer(r, hs[t])
        g_xh += torch.outer(r, x[t])
        carry = W_hh.T @ r
    return {"loss": loss, "W_xh": g_xh, "W_hh": g_hh, "W_hy": g_hy, "h0": carry}
