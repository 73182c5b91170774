"""Argument checks shared by every public function.

Each helper raises ``TypeError`` or ``ValueError`` whose message names the
argument and says what was expected, so bad input never reaches torch and
surfaces as a deep traceback or a silent NaN.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch


def _shape(t: torch.Tensor) -> str:
    return "(" + ", ".join(str(s) for s in t.shape) + ")"


def as_tensor(name: str, value: object, *, dtype: torch.dtype | None = None) -> torch.Tensor:
    """Return ``value`` as a floating tensor, or raise ``TypeError`` naming ``name``.

    Tensors keep their device; numbers and nested lists become float64 tensors.
    Integer and boolean tensors are rejected: the math here is real-valued and
    silently rounding would hide mistakes.
    """
    if isinstance(value, torch.Tensor):
        tensor = value
    elif isinstance(value, bool):
        raise TypeError(f"{name} must be a real tensor or number, got a bool")
    elif isinstance(value, (int, float)) or (
        isinstance(value, Sequence) and not isinstance(value, (str, bytes))
    ):
        try:
            tensor = torch.as_tensor(value, dtype=torch.float64)
        except (TypeError, ValueError, RuntimeError) as err:
            raise TypeError(f"{name} must be a tensor or a nested list of numbers ({err})") from None
    else:
        try:
            import numpy as np
        except ImportError:  # pragma: no cover - numpy is a dependency
            np = None
        if np is not None and isinstance(value, np.ndarray):
            if value.dtype.kind not in "fiu":
                raise TypeError(f"{name} must hold real numbers, got numpy dtype {value.dtype}")
            tensor = torch.from_numpy(value.astype(np.float64, copy=False))
        else:
            raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not tensor.is_floating_point():
        raise TypeError(f"{name} must have a floating dtype, got {tensor.dtype}")
    if dtype is not None:
        tensor = tensor.to(dtype)
    return tensor


def require_finite(name: str, tensor: torch.Tensor) -> torch.Tensor:
    """Raise ``ValueError`` if ``tensor`` holds NaN or infinity."""
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"{name} must be finite, but it contains NaN or infinity")
    return tensor


def require_ndim(name: str, tensor: torch.Tensor, ndim: int | tuple[int, ...], expected: str) -> torch.Tensor:
    """Raise ``ValueError`` unless ``tensor.ndim`` is ``ndim`` (or one of them).

    ``expected`` is the shape as the docstring writes it, e.g. ``"(n, d)"``.
    """
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if tensor.ndim not in allowed:
        raise ValueError(f"{name} must have shape {expected}, got {_shape(tensor)}")
    return tensor


def require_min_ndim(name: str, tensor: torch.Tensor, ndim: int, expected: str) -> torch.Tensor:
    """Raise ``ValueError`` unless ``tensor`` has at least ``ndim`` dimensions."""
    if tensor.ndim < ndim:
        raise ValueError(f"{name} must have shape {expected}, got {_shape(tensor)}")
    return tensor


def require_nonempty(name: str, tensor: torch.Tensor) -> torch.Tensor:
    """Raise ``ValueError`` if any dimension of ``tensor`` has size zero."""
    if tensor.numel() == 0:
        raise ValueError(f"{name} must not be empty, got shape {_shape(tensor)}")
    return tensor


def require_same_device(**tensors: torch.Tensor) -> None:
    """Raise ``ValueError`` if the named tensors live on different devices."""
    devices = {name: t.device for name, t in tensors.items()}
    if len(set(devices.values())) > 1:
        listing = ", ".join(f"{n} on {d}" for n, d in devices.items())
        raise ValueError(f"tensors must share one device, got {listing}")


def require_int(name: str, value: object, *, minimum: int | None = None) -> int:
    """Return ``value`` as an ``int`` or raise ``TypeError``/``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def require_real(name: str, value: object, *, positive: bool = False, nonnegative: bool = False) -> float:
    """Return ``value`` as a finite ``float`` or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, torch.Tensor) and value.numel() == 1 and value.is_floating_point():
            value = float(value)
        else:
            raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    if nonnegative and value < 0:
        raise ValueError(f"{name} must be non-negative, got {value}")
    return value
