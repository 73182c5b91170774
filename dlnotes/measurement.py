"""Measuring what a model costs: saved activation bytes, timing sweeps and kernel counts.

Chapters *What sequence models cost* (``chap-sequence-model-cost``) and
*Linear attention* (``chap-linear-attention``).  The counting formulas and the
reference models are in ``dlnotes.complexity``, which re-exports these
functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from dlnotes._validate import require_int

__all__ = ["saved_activation_bytes", "time_sweep", "count_matmul_calls"]


# --------------------------------------------------------------------------- memory


def saved_activation_bytes(fn: Callable[..., torch.Tensor], *args: Any,
                           exclude: Sequence[torch.Tensor] = (), **kwargs: Any) -> int:
    """Bytes of the distinct tensors autograd saves for the backward pass of one call.

    Every tensor that autograd packs during ``fn(*args, **kwargs)`` is recorded
    through ``torch.autograd.graph.saved_tensors_hooks``; tensors sharing one
    storage are counted once, and the tensors in ``exclude`` (typically the
    parameters, which exist whether or not we train) are not counted.  The
    result is exact and deterministic: it is the activation memory that
    training must keep alive between the forward and the backward pass.

    Raises:
        ValueError: gradients are disabled (``torch.no_grad()`` or inference
            mode): autograd then saves nothing for any function, so the count
            would be 0 whatever ``fn`` does; and when a saved tensor is on the
            ``meta`` device, whose storages have no addresses to tell apart.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    if isinstance(exclude, (str, bytes)) or not isinstance(exclude, (list, tuple)) \
            or not all(isinstance(w, torch.Tensor) for w in exclude):
        raise TypeError(f"exclude must be a list or tuple of tensors, got {type(exclude).__name__}")
    if not torch.is_grad_enabled() or torch.is_inference_mode_enabled():
        raise ValueError("saved_activation_bytes needs gradients enabled: under torch.no_grad() or inference "
                         "mode autograd saves nothing, so the count would be 0 for any fn")
    excluded = {w.untyped_storage().data_ptr() for w in exclude}
    storages: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        if tensor.device.type == "meta":
            raise ValueError("saved_activation_bytes cannot tell meta tensors apart (their storages have no "
                             "address); run fn on real tensors")
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in excluded:
            storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        out = fn(*args, **kwargs)
    del out
    return int(sum(storages.values()))


# --------------------------------------------------------------------------- timing


def time_sweep(make_call: Callable[[Any], Callable[[], Any]], sizes: Sequence[Any], *, repeats: int = 5,
               warmup: int = 1, device: object = None, statistic: str = "median",
               clock: str = "wall") -> list[float]:
    """Time in seconds of one call (median or minimum over repeats), for each size.

    ``make_call(size)`` returns a function of no arguments (inputs prepared in
    advance).  The sizes are *interleaved*: each of the ``repeats`` rounds times
    every size once, so a burst of load from other processes hits all sizes
    alike instead of distorting one of them.  ``warmup`` untimed rounds come
    first, and every timed call is preceded by one untimed call of the same
    size, so that caches (and, on a GPU, the allocator) are warm for that size
    rather than left over from the previous size.  On CUDA the device is
    synchronised before each timer is read.

    ``statistic`` is ``"median"`` or ``"min"``.  Interference from other
    processes only ever adds time, so on a shared machine the minimum over the
    repeats is the estimate least affected by it.

    ``clock`` is ``"wall"`` (``time.perf_counter``) or ``"cpu"``
    (``time.thread_time``: the processor time of the calling thread only).  On
    a CPU shared with other processes, with torch limited to one thread
    (``torch.set_num_threads(1)``) so that all the work runs in the calling
    thread, ``"cpu"`` measures the computation without the time the thread
    spends waiting for a core: long calls are not penalised for being
    preempted more often than short ones.  Use ``"wall"`` on CUDA.

    Returns:
        A list of times, one per size, in the order of ``sizes``.
    """
    import time

    if not callable(make_call):
        raise TypeError(f"make_call must be callable, got {type(make_call).__name__}")
    sizes = list(sizes)
    if not sizes:
        raise ValueError("sizes must not be empty")
    repeats = require_int("repeats", repeats, minimum=1)
    warmup = require_int("warmup", warmup, minimum=0)
    if clock not in ("wall", "cpu"):
        raise ValueError(f"clock must be 'wall' or 'cpu', got {clock!r}")
    timer = time.perf_counter if clock == "wall" else time.thread_time
    if statistic not in ("median", "min"):
        raise ValueError(f"statistic must be 'median' or 'min', got {statistic!r}")
    dev = torch.device("cpu") if device is None else torch.device(device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    calls = [make_call(size) for size in sizes]
    for call in calls:
        if not callable(call):
            raise TypeError("make_call(size) must return a callable of no arguments")
    times: list[list[float]] = [[] for _ in sizes]
    for round_ in range(warmup + repeats):
        for i, call in enumerate(calls):
            if round_ >= warmup:
                call()                       # untimed: warm this size's caches just before timing it
            sync()
            start = timer()
            call()
            sync()
            if round_ >= warmup:
                times[i].append(timer() - start)
    reduce = (lambda ts: ts.median()) if statistic == "median" else (lambda ts: ts.min())
    return [float(reduce(torch.tensor(ts, dtype=torch.float64))) for ts in times]


_MATMUL_OPS = ("mm", "addmm", "bmm", "baddbmm", "addbmm", "mv", "addmv", "dot", "vdot", "convolution")


def count_matmul_calls(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> int:
    """Number of matrix-product kernels (``mm``, ``bmm``, ``addmm``, convolutions, ...) one call launches.

    Chapter *What sequence models cost*: in the reference RNN each step's product
    needs the previous step's result, so this count is the number of
    *sequential* operations; in attention it stays constant as ``t`` grows.
    """
    from torch.utils._python_dispatch import TorchDispatchMode

    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")

    class _Counter(TorchDispatchMode):
        calls = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func.overloadpacket.__name__ in _MATMUL_OPS:
                _Counter.calls += 1
            return func(*args, **(kwargs or {}))

    with _Counter():
        fn(*args, **kwargs)
    return _Counter.calls
