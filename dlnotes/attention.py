"""Attention as a soft lookup (chapter *Attention as a soft lookup*).

Shapes follow the book's notation: a query ``q`` of size ``d`` is compared with
``T_k`` keys of size ``d``; the resulting weights mix ``T_k`` values of size
``d_v``.  Leading dimensions (batch, heads) are carried along unchanged.
"""

from __future__ import annotations

import math
import numbers

import torch

from dlnotes._validate import (
    as_tensor,
    require_finite,
    require_int,
    require_min_ndim,
    require_ndim,
    require_nonempty,
    require_real,
    require_same_device,
)

__all__ = ["softmax", "attention"]


def softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Softmax along ``dim``, stable for inputs of any size (book eq. ``softmax``).

    Subtracting the maximum before exponentiating changes nothing mathematically,
    since softmax(x) = softmax(x - c) for any constant c, but keeps every
    exponent at or below 0 so that ``exp`` cannot overflow.

    Args:
        x: real tensor of any shape ``(...)``; finite or ``-inf`` (a masked
            score) entries.  Every slice along ``dim`` needs one finite entry.
        dim: the dimension to normalise over.

    Returns:
        Tensor of the same shape whose slices along ``dim`` are positive where
        ``x`` is finite and sum to one.
    """
    x = as_tensor("x", x)
    require_nonempty("x", x)
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    if not -x.ndim <= dim < max(x.ndim, 1):
        raise ValueError(f"dim must be in [{-x.ndim}, {x.ndim - 1}] for x of shape {tuple(x.shape)}, got {dim}")
    if bool(torch.isnan(x).any()) or bool((x == math.inf).any()):
        raise ValueError("x must not contain NaN or +inf (use -inf only for masked entries)")
    if x.ndim == 0:
        return torch.ones_like(x)
    shift = x.amax(dim=dim, keepdim=True)
    if bool((shift == -math.inf).any()):
        raise ValueError(f"every slice of x along dim={dim} needs at least one finite entry; some are all -inf")
    exps = torch.exp(x - shift)
    return exps / exps.sum(dim=dim, keepdim=True)


def attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    mask: torch.Tensor | None = None,
    scale: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Scaled dot-product attention, ``softmax(q kᵀ · scale) v`` (book eq. ``attention``).

    Args:
        q: queries ``(..., T_q, d)``.
        k: keys ``(..., T_k, d)``.
        v: values ``(..., T_k, d_v)``.
        mask: optional boolean tensor broadcastable to ``(..., T_q, T_k)``,
            ``True`` where query i may attend to key j.  Every query must be
            allowed at least one key.
        scale: factor applied to the scores, a positive finite real scalar
            (a Python or NumPy int or float, or a 0-d real tensor); ``None``
            means ``1/sqrt(d)``.  Pass ``1.0`` for unscaled attention.

    Returns:
        ``(output, weights)``: output ``(..., T_q, d_v)``; weights
        ``(..., T_q, T_k)``, each row a probability distribution over keys.

    Raises:
        ValueError: shapes do not fit together (the message names the argument).
        TypeError: non-floating inputs, a non-boolean mask, or a ``scale`` that
            is not a real scalar.
    """
    q, k, v = _validate_qkv(q, k, v)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else _positive_scale(scale)

    scores = (q @ k.transpose(-2, -1)) * scale
    if mask is not None:
        if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
            raise TypeError("mask must be a boolean tensor (True where attending is allowed)")
        try:
            target = torch.broadcast_shapes(mask.shape, scores.shape)
        except RuntimeError:
            target = None
        if target != scores.shape:
            raise ValueError(
                f"mask must broadcast to the score shape {tuple(scores.shape)} (..., T_q, T_k), "
                f"got mask of shape {tuple(mask.shape)}"
            )
        if not bool(mask.any(dim=-1).all()):
            raise ValueError("mask leaves some query with no key to attend to (a row of all False)")
        scores = scores.masked_fill(~mask.to(scores.device), -math.inf)
    weights = softmax(scores, dim=-1)
    return weights @ v, weights


# --------------------------------------------------------------------------- the attention-part chapters
#
# Helpers for the chapters *The average of two values*, *Counting the parameters
# of multi-head attention*, *Hard attention*, *Self-attention on orthogonal
# inputs*, *Sinusoidal positional encoding* and *What mixes tokens*.


def _positive_scale(scale: object) -> float:
    """``scale`` as a positive finite float; accepts Python/NumPy real scalars and 0-d real tensors."""
    if isinstance(scale, torch.Tensor):
        if scale.ndim != 0 or scale.is_complex() or scale.dtype == torch.bool:
            raise TypeError(f"scale must be a real scalar (a 0-d real tensor at most), got a tensor of shape "
                            f"{tuple(scale.shape)} and dtype {scale.dtype}")
        scale = scale.item()
    elif isinstance(scale, bool) or not isinstance(scale, numbers.Real):
        # numpy.bool_ is not a numbers.Real, so it lands here too.
        raise TypeError(f"scale must be a real scalar (int, float, NumPy scalar or 0-d tensor) or None, "
                        f"got {type(scale).__name__}")
    value = float(scale)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"scale must be a positive finite number or None, got {value!r}")
    return value


def _validate_qkv(q: object, k: object, v: object) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Shared argument checks for ``(q, k, v)`` triples (same rules as :func:`attention`)."""
    q, k, v = as_tensor("q", q), as_tensor("k", k), as_tensor("v", v)
    require_min_ndim("q", q, 2, "(..., T_q, d)")
    require_min_ndim("k", k, 2, "(..., T_k, d)")
    require_min_ndim("v", v, 2, "(..., T_k, d_v)")
    for name, t in (("q", q), ("k", k), ("v", v)):
        require_nonempty(name, t)
        require_finite(name, t)
    require_same_device(q=q, k=k, v=v)
    if q.dtype != k.dtype or k.dtype != v.dtype:
        raise TypeError(f"q, k and v must share one dtype, got {q.dtype}, {k.dtype}, {v.dtype}")
    if k.shape[-1] != q.shape[-1]:
        raise ValueError(f"k must have the same last dimension d={q.shape[-1]} as q, got k of shape {tuple(k.shape)}")
    if v.shape[-2] != k.shape[-2]:
        raise ValueError(
            f"v must have T_k={k.shape[-2]} rows like k, got v of shape {tuple(v.shape)} "
            f"and k of shape {tuple(k.shape)}"
        )
    try:
        torch.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except RuntimeError:
        raise ValueError(
            f"leading (batch) dimensions of q {tuple(q.shape[:-2])}, k {tuple(k.shape[:-2])} "
            f"and v {tuple(v.shape[:-2])} do not broadcast"
        ) from None
    return q, k, v


def query_for_average(keys: torch.Tensor, a: int, b: int, beta: float) -> torch.Tensor:
    """The query that makes attention average the values ``a`` and ``b`` (chapter *The average of two values*).

    Returns ``beta * (k_a / ||k_a||² + k_b / ||k_b||²)``.  When the keys are
    mutually orthogonal, this query scores keys ``a`` and ``b`` with exactly
    ``beta`` and every other key with 0, so (unscaled) attention gives ``a`` and
    ``b`` the weight ``e^beta / (2 e^beta + n - 2)`` each.

    Args:
        keys: the keys as rows, shape ``(n, d)`` with ``n >= 2``; rows ``a`` and
            ``b`` must be non-zero.
        a, b: two different row indices in ``[0, n)``.
        beta: the common score of the two keys, a finite real number.

    Returns:
        The query, shape ``(d,)``, with the dtype and device of ``keys``.
    """
    keys = as_tensor("keys", keys)
    require_ndim("keys", keys, 2, "(n, d)")
    require_nonempty("keys", keys)
    require_finite("keys", keys)
    n = keys.shape[0]
    if n < 2:
        raise ValueError(f"keys must have shape (n, d) with n >= 2, got {tuple(keys.shape)}")
    a = require_int("a", a, minimum=0)
    b = require_int("b", b, minimum=0)
    for name, index in (("a", a), ("b", b)):
        if index >= n:
            raise ValueError(f"{name} must be a row index in [0, {n}) of keys with shape (n, d), got {index}")
    if a == b:
        raise ValueError(f"a and b must be different rows of keys, got a = b = {a}")
    beta = require_real("beta", beta)
    sq_norms = (keys[[a, b]] ** 2).sum(-1)
    if bool((sq_norms == 0).any()):
        raise ValueError("keys[a] and keys[b] must be non-zero (their squared norms divide the query)")
    return beta * (keys[a] / sq_norms[0] + keys[b] / sq_norms[1])


def mha_param_count(d_model: int, n_heads: int, *, bias: bool = True, out_proj: bool = True) -> int:
    """Number of parameters of one multi-head attention layer.

    Used in the chapter *Counting the parameters of multi-head attention*.

    Each of the ``n_heads`` heads projects to ``d_head = d_model / n_heads``
    dimensions, so the per-head query, key and value matrices together form
    three ``(d_model, d_model)`` matrices, whatever ``n_heads`` is.  The count is
    ``3 d² (+ 3 d biases) (+ d² output projection (+ d bias))`` with
    ``d = d_model``, which matches ``torch.nn.MultiheadAttention``.

    The count assumes that queries, keys and values all have width
    ``d_model`` (``kdim = vdim = d_model`` in ``torch.nn.MultiheadAttention``).
    With other key or value widths the key and value projections are
    ``(kdim, d_model)`` and ``(vdim, d_model)`` and this formula does not apply.

    Args:
        d_model: model width, a positive int divisible by ``n_heads``.
        n_heads: number of heads, a positive int.
        bias: count the biases of the projections.
        out_proj: count the output projection ``W_O``.

    Raises:
        ValueError: ``d_model`` is not a multiple of ``n_heads``.
    """
    d_model = require_int("d_model", d_model, minimum=1)
    n_heads = require_int("n_heads", n_heads, minimum=1)
    for name, flag in (("bias", bias), ("out_proj", out_proj)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be a bool, got {type(flag).__name__}")
    if d_model % n_heads != 0:
        raise ValueError(f"d_model must be divisible by n_heads, got d_model={d_model} and n_heads={n_heads}")
    count = 3 * d_model * d_model + (3 * d_model if bias else 0)
    if out_proj:
        count += d_model * d_model + (d_model if bias else 0)
    return count


def hard_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Argmax ("hard") attention: each query returns the value of its best-scoring key (chapter *Hard attention*).

    The weights are the one-hot vector of ``argmax_j k_jᵀ q``; on a tie the
    first (lowest) index wins.  A positive scale of the scores changes nothing,
    so none is applied.

    The weights are structurally detached: they are built from the integer
    index returned by ``argmax``, so autograd reports a gradient of exactly 0
    for ``q`` and ``k`` everywhere, even at a tie where the true derivative
    does not exist.  An autograd zero is therefore no evidence about the
    derivative; the chapter checks it with finite differences instead.  The
    output is differentiable in ``v`` (it selects the winning row).

    Args:
        q: queries ``(..., T_q, d)``.
        k: keys ``(..., T_k, d)``.
        v: values ``(..., T_k, d_v)``.

    Returns:
        ``(output, weights)``: output ``(..., T_q, d_v)``; weights
        ``(..., T_q, T_k)``, one-hot rows in the dtype of ``q``.
    """
    q, k, v = _validate_qkv(q, k, v)
    scores = q @ k.transpose(-2, -1)
    winner = scores.argmax(dim=-1, keepdim=True)
    # A comparison rather than one_hot/scatter: elementwise, so it is deterministic on every device.
    positions = torch.arange(scores.shape[-1], device=scores.device)
    weights = (positions == winner).to(q.dtype)
    return weights @ v, weights


def sinusoidal_encoding(n_positions: int, d_model: int, *, device: torch.device | str | None = None) -> torch.Tensor:
    """The Transformer's sinusoidal positional encoding (chapter *Sinusoidal positional encoding*).

    ``PE[pos, 2i] = sin(pos / 10000^(2i/d_model))`` and
    ``PE[pos, 2i+1] = cos(pos / 10000^(2i/d_model))``: even columns hold the
    sines, odd columns the cosines of the same frequency.

    Args:
        n_positions: number of positions ``0, 1, ..., n_positions - 1``, at least 1.
        d_model: encoding width, a positive even int.
        device: where to create the tensor (default: the CPU).

    Returns:
        Tensor of shape ``(n_positions, d_model)``, dtype float64.
    """
    n_positions = require_int("n_positions", n_positions, minimum=1)
    d_model = require_int("d_model", d_model, minimum=2)
    if d_model % 2 != 0:
        raise ValueError(f"d_model must be even (sine and cosine columns come in pairs), got {d_model}")
    pos = torch.arange(n_positions, dtype=torch.float64, device=device).unsqueeze(-1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64, device=device)
    angles = pos / torch.pow(torch.tensor(10000.0, dtype=torch.float64, device=device), two_i / d_model)
    pe = torch.empty(n_positions, d_model, dtype=torch.float64, device=device)
    pe[:, 0::2] = torch.sin(angles)
    pe[:, 1::2] = torch.cos(angles)
    return pe


def layer_norm(x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Layer normalisation over the last dimension, without gain and bias (chapter *What mixes tokens*).

    Each row ``x_i`` becomes ``(x_i - mean(x_i)) / sqrt(var(x_i) + eps)``, with
    the biased variance over the row's ``n`` features.  Rows never see each
    other.

    Args:
        x: real tensor ``(..., n)`` with ``n >= 1``, finite.
        eps: non-negative number added to the variance.  With ``eps = 0`` every
            row must have positive variance.

    Returns:
        Tensor of the shape, dtype and device of ``x``.
    """
    x = as_tensor("x", x)
    require_min_ndim("x", x, 1, "(..., n)")
    require_nonempty("x", x)
    require_finite("x", x)
    eps = require_real("eps", eps, nonnegative=True)
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    if eps == 0 and bool((var == 0).any()):
        raise ValueError("with eps=0 every row of x (last dimension) needs positive variance; some row is constant")
    return (x - mean) / torch.sqrt(var + eps)


__all__ += ["query_for_average", "mha_param_count", "hard_attention", "sinusoidal_encoding", "layer_norm"]


# Linear attention lives in its own module (its own chapter) and is offered here
# with the rest of the attention family.
from dlnotes.linear_attention import linear_attention  # noqa: E402

__all__ += ["linear_attention"]
