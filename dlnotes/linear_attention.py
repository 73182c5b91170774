"""Linear attention (chapter *Linear attention*, ``chap-linear-attention``); re-exported from :mod:`dlnotes.attention`.

Softmax attention weighs value ``v_j`` for query ``q_i`` by ``exp(q_i . k_j)``.
Linear attention (Katharopoulos et al., 2020) replaces that similarity
by ``phi(q_i) . phi(k_j)`` for a feature map ``phi`` with positive values, so that

    y_i = phi(q_i)^T S / phi(q_i)^T z,   S = sum_j phi(k_j) v_j^T,   z = sum_j phi(k_j),

and ``S`` (shape ``(d, d_v)``) and ``z`` (shape ``(d,)``) are computed once for all
queries: ``Theta(T d d_v)`` time instead of ``Theta(T^2 d)``.  In the causal case
the sums run over ``j <= i`` and are kept as running (cumulative) sums.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from dlnotes._validate import as_tensor, require_finite, require_min_ndim, require_nonempty, require_same_device

__all__ = ["linear_attention", "elu_feature_map"]


def elu_feature_map(x: torch.Tensor) -> torch.Tensor:
    """``elu(x) + 1``, the default feature map: positive everywhere, shape unchanged.

    Computed as ``x + 1`` for ``x > 0`` and ``exp(x)`` otherwise, the same function
    without the cancellation of ``(exp(x) - 1) + 1``: that form loses all relative
    accuracy for negative ``x`` and rounds to exactly 0 in float32 below about
    ``x = -17.4`` (about ``-37.5`` in float64).  ``exp(x)`` stays positive in float32
    down to about ``x = -103`` (below about ``-87`` as a subnormal number, with
    fewer significant bits, as any float32 value of ``e^x`` there must be).
    """
    x = as_tensor("x", x)
    if x.device.type != "meta":  # meta tensors (used to count FLOPs) hold no values to check
        require_finite("x", x)
    # clamp inside exp so the branch not taken cannot overflow (inf would poison gradients)
    return torch.where(x > 0, x + 1.0, torch.exp(torch.clamp(x, max=0.0)))


def linear_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *,
                     feature_map: Callable[[torch.Tensor], torch.Tensor] | None = None,
                     causal: bool = False) -> torch.Tensor:
    """Attention with the kernel ``phi(q) . phi(k)`` computed in linear time in ``T``.

    Args:
        q: queries ``(..., T, d)``.
        k: keys ``(..., T, d)`` (the same ``T`` as ``q`` when ``causal``, else
            any ``T_k``).
        v: values ``(..., T_k, d_v)``.
        feature_map: callable mapping ``(..., T, d)`` to ``(..., T, m)`` with
            positive entries; ``None`` means ``elu(x) + 1``.
        causal: if ``True``, query ``i`` only uses keys and values ``j <= i``
            (running sums of ``phi(k_j) v_j^T`` and ``phi(k_j)``).

    Returns:
        ``(..., T, d_v)``: row ``i`` is ``phi(q_i)^T S_i / phi(q_i)^T z_i``.

    Cost: the causal path materialises the running sums ``S_i`` as a
    ``(..., T, m, d_v)`` tensor (``Theta(T m d_v)`` memory), built by an elementwise
    outer product and a cumulative sum.  ``torch.utils.flop_counter.FlopCounterMode``
    (hence :func:`dlnotes.complexity.count_flops`) counts only the matrix products:
    for the causal path that is the batched product ``phi(q_i)^T S_i`` (``2 T m d_v``),
    not the outer product, the cumulative sums or the normaliser.

    Raises:
        TypeError: non-floating inputs, mismatched dtypes, a non-callable
            feature map or a non-bool ``causal``.
        ValueError: shapes that do not fit (the message names the argument),
            non-finite inputs, or a feature map giving non-positive values.
            (Tensors on the ``meta`` device, which carry no values, skip the
            value checks so that operations can be counted without computing.)
    """
    q, k, v = as_tensor("q", q), as_tensor("k", k), as_tensor("v", v)
    require_min_ndim("q", q, 2, "(..., T, d)")
    require_min_ndim("k", k, 2, "(..., T_k, d)")
    require_min_ndim("v", v, 2, "(..., T_k, d_v)")
    require_same_device(q=q, k=k, v=v)
    has_values = q.device.type != "meta"      # meta tensors (used to count FLOPs) carry no values
    for name, t in (("q", q), ("k", k), ("v", v)):
        require_nonempty(name, t)
        if has_values:
            require_finite(name, t)
    if q.dtype != k.dtype or k.dtype != v.dtype:
        raise TypeError(f"q, k and v must share one dtype, got {q.dtype}, {k.dtype}, {v.dtype}")
    if not isinstance(causal, bool):
        raise TypeError(f"causal must be a bool, got {type(causal).__name__}")
    if k.shape[-1] != q.shape[-1]:
        raise ValueError(f"k must have the same last dimension d={q.shape[-1]} as q, got k of shape {tuple(k.shape)}")
    if v.shape[-2] != k.shape[-2]:
        raise ValueError(f"v must have T_k={k.shape[-2]} rows like k, got v of shape {tuple(v.shape)}")
    if causal and k.shape[-2] != q.shape[-2]:
        raise ValueError(f"causal attention needs k with T={q.shape[-2]} rows like q, got k of shape {tuple(k.shape)}")
    try:
        torch.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except RuntimeError:
        raise ValueError(f"leading (batch) dimensions of q {tuple(q.shape[:-2])}, k {tuple(k.shape[:-2])} "
                         f"and v {tuple(v.shape[:-2])} do not broadcast") from None
    if feature_map is None:
        feature_map = elu_feature_map
    elif not callable(feature_map):
        raise TypeError(f"feature_map must be callable or None, got {type(feature_map).__name__}")

    fq, fk = feature_map(q), feature_map(k)
    for name, f, src in (("feature_map(q)", fq, q), ("feature_map(k)", fk, k)):
        if not isinstance(f, torch.Tensor) or f.shape[:-1] != src.shape[:-1]:
            raise ValueError(f"{name} must return a tensor of shape (..., T, m) matching the input's leading shape "
                             f"{tuple(src.shape[:-1])}")
        if has_values and not bool((f > 0).all()):
            raise ValueError(f"{name} must be positive everywhere so the normaliser cannot vanish")
    if fq.shape[-1] != fk.shape[-1]:
        raise ValueError(f"feature_map must give q and k the same feature size, got {fq.shape[-1]} and {fk.shape[-1]}")

    if not causal:
        S = fk.transpose(-2, -1) @ v                          # (..., m, d_v)
        z = fk.sum(dim=-2)                                    # (..., m)
        numerator = fq @ S                                    # (..., T, d_v)
        denominator = (fq * z.unsqueeze(-2)).sum(-1, keepdim=True)
        return numerator / denominator
    # running sums S_i = sum_{j<=i} phi(k_j) v_j^T and z_i = sum_{j<=i} phi(k_j)
    S = torch.cumsum(fk.unsqueeze(-1) * v.unsqueeze(-2), dim=-3)   # (..., T, m, d_v)
    z = torch.cumsum(fk, dim=-2)                                   # (..., T, m)
    numerator = (fq.unsqueeze(-2) @ S).squeeze(-2)                 # (..., T, d_v)
    denominator = (fq * z).sum(-1, keepdim=True)
    return numerator / denominator
