"""Device choice and seeding: the two things every notebook does first (preface, *Running the notebooks*)."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["device", "randn", "seed"]


def device() -> torch.device:
    """The device the notebooks compute on.

    CUDA when it is available, else the CPU.  The environment variable
    ``DLNOTES_DEVICE`` (``cpu``, ``cuda``, ``cuda:1``, ...) overrides the choice.
    With ``DLNOTES_REQUIRE_GPU=1`` a missing GPU is an error, so a GPU job can
    never pass by silently running on the CPU.

    Raises:
        ValueError: ``DLNOTES_DEVICE`` names no valid device.
        RuntimeError: a GPU is required or requested but CUDA is not available.
    """
    requested = os.environ.get("DLNOTES_DEVICE", "").strip()
    require_gpu = os.environ.get("DLNOTES_REQUIRE_GPU", "").strip() not in ("", "0", "false", "False")
    if requested:
        try:
            chosen = torch.device(requested)
        except RuntimeError as err:
            raise ValueError(f"DLNOTES_DEVICE must name a torch device such as 'cpu' or 'cuda', got {requested!r}") \
                from err
    else:
        chosen = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"DLNOTES_DEVICE={requested!r} asks for CUDA, but CUDA is not available")
    if require_gpu and chosen.type != "cuda":
        raise RuntimeError(
            "DLNOTES_REQUIRE_GPU=1 but the chosen device is "
            f"{chosen} (CUDA available: {torch.cuda.is_available()})"
        )
    return chosen


def seed(n: int) -> None:
    """Seed Python, NumPy and torch (all devices), and make torch deterministic.

    Deterministic algorithms are switched on so that a notebook prints the same
    digits on every run; cuBLAS needs ``CUBLAS_WORKSPACE_CONFIG`` for that, which
    is set here unless the caller already chose a value.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if not 0 <= n < 2**32:
        raise ValueError(f"n must be in [0, 2**32), got {n}")
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(n)
    np.random.seed(n)
    torch.manual_seed(n)
    torch.use_deterministic_algorithms(True)


def randn(*shape: int, dtype: torch.dtype = torch.float64, device: torch.device | str | None = None) -> torch.Tensor:
    """Standard normal numbers of the given shape, the same on every device.

    The numbers are drawn on the CPU from torch's global (seeded) generator and
    then moved to ``device`` (default: :func:`device`).  Drawing directly on a
    GPU would use a different generator, so a notebook would see other inputs
    there than on the CPU.

    Raises:
        TypeError: a size is not an int, or ``dtype`` is not a floating dtype.
        ValueError: a size is negative.
    """
    for size in shape:
        if isinstance(size, bool) or not isinstance(size, int):
            raise TypeError(f"shape must be ints, got {shape!r}")
        if size < 0:
            raise ValueError(f"shape must be non-negative, got {shape!r}")
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch dtype, got {dtype!r}")
    if device is None:
        target = globals()["device"]()
    elif isinstance(device, torch.device):
        target = device
    elif isinstance(device, str):
        try:
            target = torch.device(device)
        except RuntimeError:
            raise ValueError(f"device must name a torch device such as 'cpu' or 'cuda', got {device!r}") from None
    else:
        raise TypeError(f"device must be a torch.device, a string or None, got {type(device).__name__}")
    return torch.randn(*shape, dtype=dtype).to(target)
