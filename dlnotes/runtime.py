"""Device choice and seeding: the two things every notebook does first (preface, *Running the notebooks*)."""

from __future__ import annotations

import os
import random
from typing import Any

import numpy as np
import torch

__all__ = ["device", "generator", "numpy_rng", "rand", "randint", "randn", "seed", "seed_offset"]


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


_OFFSET_VARIABLE = "DLNOTES_SEED_OFFSET"


def seed_offset() -> int:
    """The offset added to every seed, from ``DLNOTES_SEED_OFFSET`` (default 0).

    The book's stored outputs are made with offset 0.  ``make test-seeds`` runs
    every notebook again with other offsets, which changes every random draw of
    the chapter, so that a claim that holds only for one draw is caught
    (preface, *How results are verified*).

    Raises:
        ValueError: the variable is set but is not a non-negative integer.
    """
    raw = os.environ.get(_OFFSET_VARIABLE, "").strip()
    if not raw:
        return 0
    try:
        offset = int(raw)
    except ValueError:
        raise ValueError(f"{_OFFSET_VARIABLE} must be a non-negative integer, got {raw!r}") from None
    if not 0 <= offset < 2**20:
        raise ValueError(f"{_OFFSET_VARIABLE} must be in [0, 2**20), got {offset}")
    return offset


def _seed_value(n: Any, what: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{what} must be an int, got {type(n).__name__}")
    if not 0 <= n < 2**32 - 2**20:
        raise ValueError(f"{what} must be in [0, 2**32 - 2**20), got {n}")
    # Offsets are spread far apart so that seeds 0 and 1 under offset 1 do not
    # repeat seeds 1 and 2 under offset 0.
    return (n + 7919 * seed_offset()) % 2**32


def seed(n: int) -> None:
    """Seed Python, NumPy and torch (all devices), and make torch deterministic.

    The seed actually used is ``n`` shifted by :func:`seed_offset`.
    Deterministic algorithms are switched on so that a notebook prints the same
    digits on every run; cuBLAS needs ``CUBLAS_WORKSPACE_CONFIG`` for that, which
    is set here unless the caller already chose a value.
    """
    value = _seed_value(n)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(value)
    np.random.seed(value)
    torch.manual_seed(value)
    torch.use_deterministic_algorithms(True)


def generator(n: int) -> torch.Generator:
    """A CPU torch generator seeded with ``n`` (shifted by :func:`seed_offset`).

    Use it for a stream of draws that must not depend on what else the notebook
    drew; pass it to :func:`randn`, :func:`rand` or :func:`randint`.  It is a
    CPU generator, so the numbers are the same whatever device they move to.
    """
    return torch.Generator().manual_seed(_seed_value(n))


def numpy_rng(n: int) -> np.random.Generator:
    """A NumPy generator seeded with ``n`` (shifted by :func:`seed_offset`)."""
    return np.random.default_rng(_seed_value(n))


def _target_device(device: torch.device | str | None) -> torch.device:
    if device is None:
        return globals()["device"]()
    if isinstance(device, torch.device):
        return device
    if isinstance(device, str):
        try:
            return torch.device(device)
        except RuntimeError:
            raise ValueError(f"device must name a torch device such as 'cpu' or 'cuda', got {device!r}") from None
    raise TypeError(f"device must be a torch.device, a string or None, got {type(device).__name__}")


def _check_shape(shape: tuple) -> None:
    for size in shape:
        if isinstance(size, bool) or not isinstance(size, int):
            raise TypeError(f"shape must be ints, got {shape!r}")
        if size < 0:
            raise ValueError(f"shape must be non-negative, got {shape!r}")


def _check_generator(gen: Any) -> None:
    if gen is not None and not (isinstance(gen, torch.Generator) and gen.device.type == "cpu"):
        raise TypeError(f"generator must be a CPU torch.Generator (see dlnotes.generator) or None, got {gen!r}")


def _check_float_dtype(dtype: Any) -> None:
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch dtype, got {dtype!r}")


def randn(*shape: int, dtype: torch.dtype = torch.float64, device: torch.device | str | None = None,
          generator: torch.Generator | None = None) -> torch.Tensor:
    """Standard normal numbers of the given shape, the same on every device.

    The numbers are drawn on the CPU, from ``generator`` or else torch's global
    (seeded) generator, and then moved to ``device`` (default: :func:`device`).
    Drawing directly on a GPU would use a different generator, so a notebook
    would see other inputs there than on the CPU.

    Raises:
        TypeError: a size is not an int, ``dtype`` is not a floating dtype, or
            ``generator`` is not a CPU generator.
        ValueError: a size is negative.
    """
    _check_shape(shape)
    _check_float_dtype(dtype)
    _check_generator(generator)
    target = _target_device(device)
    return torch.randn(*shape, dtype=dtype, generator=generator).to(target)


def rand(*shape: int, dtype: torch.dtype = torch.float64, device: torch.device | str | None = None,
         generator: torch.Generator | None = None) -> torch.Tensor:
    """Uniform numbers in [0, 1) of the given shape, drawn on the CPU and moved (see :func:`randn`)."""
    _check_shape(shape)
    _check_float_dtype(dtype)
    _check_generator(generator)
    target = _target_device(device)
    return torch.rand(*shape, dtype=dtype, generator=generator).to(target)


def randint(low: int, high: int, shape: tuple[int, ...], *, device: torch.device | str | None = None,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """Uniform integers in ``[low, high)`` of the given shape (int64), drawn on the CPU and moved.

    Raises:
        TypeError: a bound or size is not an int, or ``generator`` is not a CPU generator.
        ValueError: ``low >= high`` or a size is negative.
    """
    for label, bound in (("low", low), ("high", high)):
        if isinstance(bound, bool) or not isinstance(bound, int):
            raise TypeError(f"{label} must be an int, got {type(bound).__name__}")
    if low >= high:
        raise ValueError(f"low must be smaller than high, got low={low}, high={high}")
    if not isinstance(shape, tuple):
        raise TypeError(f"shape must be a tuple of ints, got {type(shape).__name__}")
    _check_shape(shape)
    _check_generator(generator)
    target = _target_device(device)
    return torch.randint(low, high, shape, generator=generator).to(target)
