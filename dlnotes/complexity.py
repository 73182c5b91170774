"""Cost of sequence models: operation counts, reference models and scaling fits.

Measuring instruments (saved activation bytes, timing sweeps, kernel counts) are in
``dlnotes.measurement`` and re-exported here.

Chapters *What sequence models cost* (``chap-sequence-model-cost``) and
*Linear attention* (``chap-linear-attention``).

Notation: ``t`` sequence length, ``n`` width, ``L`` layers, ``h`` heads.

What is counted.  :func:`count_flops` reports what
``torch.utils.flop_counter.FlopCounterMode`` counts: matrix products only
(``mm``, ``addmm``, ``bmm``, ``matmul``, convolutions, ...), with a product of an
``(m, k)`` by a ``(k, p)`` matrix counted as ``2 m k p`` FLOPs (one multiply and
one add per multiply-accumulate).  Element-wise work (biases, nonlinearities,
softmax, layer norm) is not counted; it is ``Theta(t n L + h t^2 L)``, of lower
order than the products.  The formulas :func:`rnn_flops` and
:func:`transformer_flops` count exactly the same thing for the reference models
:func:`reference_rnn` and :func:`reference_transformer`, so they agree with
:func:`count_flops` to the last FLOP.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from dlnotes._validate import as_tensor, require_finite, require_int, require_ndim, require_nonempty

__all__ = [
    "count_flops", "rnn_flops", "transformer_flops", "attention_flops", "restricted_attention_flops",
    "fit_exponent", "init_rnn", "reference_rnn", "init_transformer", "reference_transformer",
    "restricted_attention", "saved_activation_bytes", "time_sweep", "count_matmul_calls",
]


# --------------------------------------------------------------------------- counting


def count_flops(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> int:
    """FLOPs that ``FlopCounterMode`` counts for one call ``fn(*args, **kwargs)``.

    A matrix product ``(m, k) @ (k, p)`` counts ``2 m k p``; element-wise
    operations count 0 (see the module docstring).
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    counter = FlopCounterMode(display=False)
    with counter:
        fn(*args, **kwargs)
    return int(counter.get_total_flops())


def _sizes(t: object, n: object, L: object, batch: object = 1) -> tuple[int, int, int, int]:
    return (require_int("t", t, minimum=1), require_int("n", n, minimum=1),
            require_int("L", L, minimum=1), require_int("batch", batch, minimum=1))


def rnn_flops(t: int, n: int, L: int, *, batch: int = 1) -> int:
    """Forward FLOPs of :func:`reference_rnn`: ``4 t n^2 L`` per sequence.

    Each layer multiplies its ``t`` inputs by ``U`` (``2 t n^2``) and, at each of
    the ``t`` steps, the previous state by ``W`` (``2 n^2`` per step).  In
    multiply-accumulates (MACs) this is ``2 t n^2 L``.
    """
    t, n, L, batch = _sizes(t, n, L, batch)
    return 4 * t * n * n * L * batch


def attention_flops(t: int, n: int, *, batch: int = 1) -> int:
    """FLOPs of the two attention products of one layer, ``Q K^T`` and ``A V``: ``4 t^2 n``.

    Independent of the number of heads ``h``: ``h`` heads of size ``n / h`` cost
    ``h * 2 t^2 (n / h)`` for each product.
    """
    t, n, _, batch = _sizes(t, n, 1, batch)
    return 4 * t * t * n * batch


def transformer_flops(t: int, n: int, L: int, *, batch: int = 1) -> int:
    """Forward FLOPs of :func:`reference_transformer`: ``L (24 t n^2 + 4 t^2 n)``.

    Per layer: the projections ``Q, K, V`` and the output projection
    (``4 * 2 t n^2``), the feed-forward block of width ``4 n`` (``2 * 2 t n (4 n)
    = 16 t n^2``) and the two attention products (``4 t^2 n``,
    :func:`attention_flops`).  In MACs: ``L (12 t n^2 + 2 t^2 n)``.
    """
    t, n, L, batch = _sizes(t, n, L, batch)
    return L * (24 * t * n * n + 4 * t * t * n) * batch


def restricted_attention_flops(t: int, n: int, r: int, *, batch: int = 1) -> int:
    """FLOPs of the two products of :func:`restricted_attention` (window ``r``): ``4 t r n``."""
    t, n, _, batch = _sizes(t, n, 1, batch)
    r = require_int("r", r, minimum=1)
    return 4 * t * r * n * batch


def fit_exponent(sizes: Sequence[float], costs: Sequence[float], *, method: str = "lstsq") -> float:
    """Least-squares slope of ``log(cost)`` against ``log(size)``.

    If ``cost = c * size^p`` exactly, the result is ``p``.

    Args:
        sizes, costs: sequences (or 1-D tensors) of the same length, at least 2,
            of positive finite numbers; the sizes not all equal.
        method: ``"lstsq"`` (least squares, the default) or ``"theil-sen"``:
            the median of the slopes between all pairs of points with different
            sizes, which one disturbed measurement cannot move far (used for
            timings on a shared machine).
    """
    if method not in ("lstsq", "theil-sen"):
        raise ValueError(f"method must be 'lstsq' or 'theil-sen', got {method!r}")
    x = as_tensor("sizes", [float(s) for s in sizes] if not isinstance(sizes, torch.Tensor) else sizes,
                  dtype=torch.float64)
    y = as_tensor("costs", [float(c) for c in costs] if not isinstance(costs, torch.Tensor) else costs,
                  dtype=torch.float64)
    require_ndim("sizes", x, 1, "(m,)")
    require_ndim("costs", y, 1, "(m,)")
    if x.shape != y.shape:
        raise ValueError(f"costs must have the same shape (m,) = {tuple(x.shape)} as sizes, got {tuple(y.shape)}")
    if x.shape[0] < 2:
        raise ValueError(f"sizes must hold at least 2 points, got {x.shape[0]}")
    require_finite("sizes", x)
    require_finite("costs", y)
    if bool((x <= 0).any()) or bool((y <= 0).any()):
        raise ValueError("sizes and costs must be positive (their logarithms are fitted)")
    lx, ly = x.log(), y.log()
    dx = lx - lx.mean()
    if float((dx * dx).sum()) == 0.0:
        raise ValueError("sizes must not all be equal: the slope is undefined")
    if method == "theil-sen":
        i, j = torch.triu_indices(len(lx), len(lx), offset=1)
        keep = lx[i] != lx[j]
        pairwise = (ly[j] - ly[i])[keep] / (lx[j] - lx[i])[keep]
        return float(pairwise.median()) if pairwise.numel() % 2 else float(pairwise.sort().values[
            pairwise.numel() // 2 - 1: pairwise.numel() // 2 + 1].mean())
    return float((dx * (ly - ly.mean())).sum() / (dx * dx).sum())


# --------------------------------------------------------------------------- reference models


def _factory(dtype: torch.dtype, device: object, generator: torch.Generator | None) -> dict[str, Any]:
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype, got {dtype!r}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    return dict(dtype=dtype, device=torch.device("cpu") if device is None else torch.device(device))


def _randn(shape, scale, fk, generator):
    # draw on the CPU so the values do not depend on the device, then move
    w = torch.randn(*shape, dtype=fk["dtype"], generator=generator) * scale
    return w.to(fk["device"])


def init_rnn(n: int, L: int, *, dtype: torch.dtype = torch.float32, device: object = None,
             generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """Weights of an ``L``-layer RNN of width ``n``: ``{"U": (L, n, n), "W": (L, n, n)}``."""
    n, L = require_int("n", n, minimum=1), require_int("L", L, minimum=1)
    fk = _factory(dtype, device, generator)
    return {"U": _randn((L, n, n), n ** -0.5, fk, generator), "W": _randn((L, n, n), 0.5 * n ** -0.5, fk, generator)}


def _check_sequence(x: object, n: int) -> torch.Tensor:
    x = as_tensor("x", x)
    require_ndim("x", x, (2, 3), f"(t, n) or (batch, t, n) with n={n}")
    require_nonempty("x", x)
    if x.shape[-1] != n:
        raise ValueError(f"x must have shape (t, n) or (batch, t, n) with n={n}, got {tuple(x.shape)}")
    return x


def _check_stack(name: str, params: object, keys: dict[str, tuple[str, int, int]]) -> tuple[int, int]:
    """``keys`` maps each weight to (shape text, rows / n, columns / n); the first key fixes L and n.

    The trailing dimensions are checked too: the FLOP formulas assume them (an FFN of width 4n, say).
    """
    if not isinstance(params, dict) or set(params) != set(keys):
        raise TypeError(f"{name} must be a dict with keys {sorted(keys)} (from init_{name.split('_')[0]})")
    L = n = None
    for key, (shape, rows, cols) in keys.items():
        w = as_tensor(f"{name}[{key!r}]", params[key])
        if n is None and w.ndim == 3:
            L, n = w.shape[0], w.shape[-1]
        if w.ndim != 3 or tuple(w.shape) != (L, rows * n, cols * n) or n == 0:
            raise ValueError(f"{name}[{key!r}] must have shape {shape} with L={L}, n={n} "
                             f"(from the first weight), got {tuple(w.shape)}")
    return int(L), int(n)


def reference_rnn(x: torch.Tensor, params: dict[str, torch.Tensor]) -> torch.Tensor:
    """Forward pass of the stacked RNN ``h^l_t = tanh(W_l h^l_{t-1} + U_l h^{l-1}_t)``, ``h^l_0 = 0``.

    Chapter *What sequence models cost*.  Its FLOPs are :func:`rnn_flops`.

    Args:
        x: inputs ``(t, n)`` or ``(batch, t, n)``.
        params: ``{"U": (L, n, n), "W": (L, n, n)}`` from :func:`init_rnn`.

    Returns:
        The top layer's states, the same shape as ``x``.

    Memory: every state of a layer is kept (a list, then ``torch.stack``), even
    without gradients, so a call holds ``Theta(t n)`` numbers; an RNN that
    streams its input needs only the ``L`` current states, ``Theta(n L)``
    (the chapter measures both).
    """
    L, n = _check_stack("rnn_params", params, {"U": ("(L, n, n)", 1, 1), "W": ("(L, n, n)", 1, 1)})
    x = _check_sequence(x, n)
    U, W = params["U"], params["W"]
    h_seq = x
    for layer in range(L):
        inputs = h_seq @ U[layer].T                   # all time steps at once: 2 t n^2
        h = torch.zeros_like(inputs[..., 0, :])
        states = []
        for s in range(inputs.shape[-2]):             # t dependent steps: 2 n^2 each
            h = torch.tanh(inputs[..., s, :] + h @ W[layer].T)
            states.append(h)
        h_seq = torch.stack(states, dim=-2)
    return h_seq


_TRANSFORMER_KEYS = {"Wq": ("(L, n, n)", 1, 1), "Wk": ("(L, n, n)", 1, 1), "Wv": ("(L, n, n)", 1, 1),
                     "Wo": ("(L, n, n)", 1, 1), "W1": ("(L, 4n, n)", 4, 1), "W2": ("(L, n, 4n)", 1, 4)}


def init_transformer(n: int, L: int, *, dtype: torch.dtype = torch.float32, device: object = None,
                     generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """Weights of an ``L``-layer encoder of width ``n`` (keys ``Wq Wk Wv Wo``: ``(L, n, n)``,
    ``W1``: ``(L, 4n, n)``, ``W2``: ``(L, n, 4n)``)."""
    n, L = require_int("n", n, minimum=1), require_int("L", L, minimum=1)
    fk = _factory(dtype, device, generator)
    p = {key: _randn((L, n, n), n ** -0.5, fk, generator) for key in ("Wq", "Wk", "Wv", "Wo")}
    p["W1"] = _randn((L, 4 * n, n), n ** -0.5, fk, generator)
    p["W2"] = _randn((L, n, 4 * n), (4 * n) ** -0.5, fk, generator)
    return p


def _split_heads(x: torch.Tensor, h: int) -> torch.Tensor:
    *lead, t, n = x.shape
    return x.reshape(*lead, t, h, n // h).transpose(-3, -2)       # (..., h, t, n/h)


def _merge_heads(x: torch.Tensor) -> torch.Tensor:
    *lead, h, t, d = x.shape
    return x.transpose(-3, -2).reshape(*lead, t, h * d)


def reference_transformer(x: torch.Tensor, params: dict[str, torch.Tensor], heads: int = 1, *,
                          causal: bool = False) -> torch.Tensor:
    """Forward pass of a stack of ``L`` Transformer encoder layers (post-norm, no biases).

    Chapter *What sequence models cost*.  Each layer computes
    ``x <- LN(x + MHA(x))`` with ``heads`` heads of size ``n / heads`` (output
    projection ``Wo`` included), then ``x <- LN(x + W2 relu(W1 x))`` (layer norm
    without parameters, post-norm as in Vaswani et al.).  Its FLOPs are
    :func:`transformer_flops` whatever ``heads``.

    Args:
        x: ``(t, n)`` or ``(batch, t, n)``.
        params: from :func:`init_transformer`.
        heads: number of heads ``h``, dividing ``n``.
        causal: mask so that position ``i`` attends only to ``j <= i`` (decoder
            training with teacher forcing).

    Returns:
        The same shape as ``x``.
    """
    L, n = _check_stack("transformer_params", params, _TRANSFORMER_KEYS)
    x = _check_sequence(x, n)
    heads = require_int("heads", heads, minimum=1)
    if n % heads:
        raise ValueError(f"heads must divide n={n}, got heads={heads}")
    if not isinstance(causal, bool):
        raise TypeError(f"causal must be a bool, got {type(causal).__name__}")
    t = x.shape[-2]
    d = n // heads
    mask = None
    if causal:
        mask = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
    for layer in range(L):
        q = _split_heads(x @ params["Wq"][layer].T, heads)
        k = _split_heads(x @ params["Wk"][layer].T, heads)
        v = _split_heads(x @ params["Wv"][layer].T, heads)
        scores = (q @ k.transpose(-2, -1)) * d ** -0.5                # (..., h, t, t): 2 t^2 n
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        a = torch.softmax(scores, dim=-1) @ v                         # 2 t^2 n
        x = torch.nn.functional.layer_norm(x + _merge_heads(a) @ params["Wo"][layer].T, (n,))
        ff = torch.relu(x @ params["W1"][layer].T) @ params["W2"][layer].T
        x = torch.nn.functional.layer_norm(x + ff, (n,))
    return x


def restricted_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, r: int) -> torch.Tensor:
    """Attention in which query ``i`` sees only the ``r`` positions ``i - r + 1, ..., i``.

    Chapter *What sequence models cost* (restricted self-attention of
    Vaswani et al., Table 1).  Only the ``t r`` allowed scores are computed, so
    the two products cost :func:`restricted_attention_flops` ``= 4 t r n``.
    Positions before the start are padded and masked out.

    Args:
        q, k, v: ``(t, n)`` each (one head, scale ``1/sqrt(n)``).
        r: window size, ``1 <= r``.

    Returns:
        ``(t, n)``.
    """
    q, k, v = as_tensor("q", q), as_tensor("k", k), as_tensor("v", v)
    require_ndim("q", q, 2, "(t, n)")
    for name, w in (("k", k), ("v", v)):
        if w.shape != q.shape:
            raise ValueError(f"{name} must have the shape (t, n) = {tuple(q.shape)} of q, got {tuple(w.shape)}")
    require_nonempty("q", q)
    r = require_int("r", r, minimum=1)
    t, n = q.shape
    pad = torch.zeros(r - 1, n, dtype=q.dtype, device=q.device)
    kw = torch.cat([pad, k]).unfold(0, r, 1)                    # (t, n, r): keys i-r+1..i
    vw = torch.cat([pad, v]).unfold(0, r, 1).transpose(-2, -1)  # (t, r, n)
    scores = (q.unsqueeze(-2) @ kw).squeeze(-2) * n ** -0.5     # (t, r): 2 t r n
    valid = torch.arange(t, device=q.device).unsqueeze(-1) + torch.arange(r, device=q.device) >= r - 1
    scores = scores.masked_fill(~valid, float("-inf"))
    return (torch.softmax(scores, dim=-1).unsqueeze(-2) @ vw).squeeze(-2)   # 2 t r n


# Measurement (saved activations, timing, kernel counts) lives in dlnotes.measurement;
# re-exported so that ``dlnotes.complexity.*`` keeps working.
from dlnotes.measurement import count_matmul_calls, saved_activation_bytes, time_sweep  # noqa: E402
