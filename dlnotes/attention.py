"""Attention as a soft lookup (chapter *Attention as a soft lookup*).

Shapes follow the book's notation: a query ``q`` of size ``d`` is compared with
``T_k`` keys of size ``d``; the resulting weights mix ``T_k`` values of size
``d_v``.  Leading dimensions (batch, heads) are carried along unchanged.
"""

from __future__ import annotations

import math

import torch

from dlnotes._validate import as_tensor, require_finite, require_min_ndim, require_nonempty, require_same_device

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
        scale: factor applied to the scores; ``None`` means ``1/sqrt(d)``.
            Pass ``1.0`` for unscaled attention.

    Returns:
        ``(output, weights)``: output ``(..., T_q, d_v)``; weights
        ``(..., T_q, T_k)``, each row a probability distribution over keys.

    Raises:
        ValueError: shapes do not fit together (the message names the argument).
        TypeError: non-floating inputs or a non-boolean mask.
    """
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
            f"v must have T_k={k.shape[-2]} rows like k, got v of shape {tuple(v.shape)} and k of shape {tuple(k.shape)}"
        )
    try:
        torch.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except RuntimeError:
        raise ValueError(
            f"leading (batch) dimensions of q {tuple(q.shape[:-2])}, k {tuple(k.shape[:-2])} "
            f"and v {tuple(v.shape[:-2])} do not broadcast"
        ) from None
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    elif isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive finite number or None, got {scale!r}")

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
