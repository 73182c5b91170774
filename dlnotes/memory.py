"""Test-time memory of sequence models: a peak-live-bytes meter and two models that need little.

Chapter *What sequence models cost* (``chap-sequence-model-cost``), section
"Test memory, measured while the model runs".

* :class:`PeakLiveBytes` follows every tensor storage that the operations run
  inside it create, through torch's dispatcher, and drops a storage from the
  account when the storage itself is freed (not when the first tensor seen on
  it dies: ``y = x3 @ W.T`` makes an ``mm`` result that dies at once while its
  storage lives on in ``y``).
* :func:`streaming_rnn` reads one input at a time and keeps only the ``L``
  current states: ``Theta(n L)`` numbers, against ``Theta(t n)`` for
  :func:`dlnotes.complexity.reference_rnn`, which stacks a layer's states.
* :func:`decode_with_cache` generates with a key-value cache, one token at a
  time; :func:`decode_without_cache` recomputes every prefix.  Both give the
  outputs of :func:`dlnotes.complexity.reference_transformer` with a causal mask.
"""

from __future__ import annotations

import gc
import weakref

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from dlnotes._validate import require_ndim
from dlnotes.complexity import reference_transformer

__all__ = ["PeakLiveBytes", "streaming_rnn", "decode_with_cache", "decode_without_cache"]


class PeakLiveBytes(TorchDispatchMode):
    """Peak bytes of the tensor storages created inside the ``with`` block and alive at the same time.

    ``existing``: tensors that exist before the block (inputs, weights); storages
    they use are never counted, also when an operation returns a view of them.
    Python's cyclic garbage collector is paused inside the block, so storages are
    freed by reference counting only, at the same points on every run; the
    account is exact for the storages the dispatcher sees (CPU or GPU).
    ``peak`` and ``current`` are in bytes.
    """

    def __init__(self, existing: list[torch.Tensor] | tuple[torch.Tensor, ...] = ()):
        super().__init__()
        if not all(isinstance(t, torch.Tensor) for t in existing):
            raise TypeError("existing must be a list of tensors")
        self.existing = {t.untyped_storage().data_ptr() for t in existing}
        self.live: dict[int, int] = {}
        self.current = 0
        self.peak = 0

    def __enter__(self):
        self._gc_was_enabled = gc.isenabled()
        gc.disable()
        return super().__enter__()

    def __exit__(self, *exc):
        if self._gc_was_enabled:
            gc.enable()
        return super().__exit__(*exc)

    def _free(self, key: int) -> None:
        self.current -= self.live.pop(key, 0)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for tensor in tree_flatten(out)[0]:
            if not isinstance(tensor, torch.Tensor):
                continue
            storage = tensor.untyped_storage()
            key = storage.data_ptr()
            if key == 0 or key in self.existing or key in self.live:
                continue
            self.live[key] = storage.nbytes()
            self.current += self.live[key]
            self.peak = max(self.peak, self.current)
            # torch keeps one Python object per storage while any tensor uses it,
            # so this runs when the storage itself is freed
            weakref.finalize(storage, self._free, key)
        return out


def streaming_rnn(x: torch.Tensor, params: dict[str, torch.Tensor]) -> torch.Tensor:
    """Top-layer state at the last step of the stacked RNN of :func:`dlnotes.complexity.reference_rnn`.

    ``x``: ``(batch, t, n)``; ``params``: ``{"U": (L, n, n), "W": (L, n, n)}``.
    Returns ``(batch, n)``, equal to ``reference_rnn(x, params)[:, -1]``, keeping
    only the ``L`` current states while it reads the sequence.
    """
    x = require_ndim("x", x, 3, "(batch, t, n)")
    U, W = params["U"], params["W"]
    states = [x.new_zeros(x.shape[0], x.shape[-1]) for _ in range(U.shape[0])]
    for step in range(x.shape[1]):
        below = x[:, step]
        for layer in range(U.shape[0]):
            states[layer] = torch.tanh(below @ U[layer].T + states[layer] @ W[layer].T)
            below = states[layer]
    return states[-1]


def decode_without_cache(x: torch.Tensor, params: dict[str, torch.Tensor]) -> torch.Tensor:
    """Causal encoder outputs ``(t, n)`` for ``x`` ``(t, n)``, recomputing the whole prefix for each position."""
    x = require_ndim("x", x, 2, "(t, n)")
    return torch.stack([reference_transformer(x[: i + 1], params, causal=True)[-1] for i in range(x.shape[0])])


def decode_with_cache(x: torch.Tensor, params: dict[str, torch.Tensor]) -> torch.Tensor:
    """The outputs of :func:`decode_without_cache`, one position at a time with a key-value cache.

    ``x``: ``(t, n)``; ``params`` from :func:`dlnotes.complexity.init_transformer`
    (one head, post-norm, no biases).  Each new position computes its own query,
    key and value per layer, appends the key and value to that layer's cache
    (``(i + 1, n)`` after position ``i``) and attends to the cache.
    """
    x = require_ndim("x", x, 2, "(t, n)")
    n, depth = x.shape[-1], params["Wq"].shape[0]
    keys: list[list[torch.Tensor]] = [[] for _ in range(depth)]
    values: list[list[torch.Tensor]] = [[] for _ in range(depth)]
    out = []
    for i in range(x.shape[0]):
        h = x[i : i + 1]  # (1, n): the new position
        for layer in range(depth):
            keys[layer].append(h @ params["Wk"][layer].T)
            values[layer].append(h @ params["Wv"][layer].T)
            cached_keys, cached_values = torch.cat(keys[layer]), torch.cat(values[layer])
            scores = (h @ params["Wq"][layer].T) @ cached_keys.T * n**-0.5
            attended = torch.softmax(scores, dim=-1) @ cached_values
            h = torch.nn.functional.layer_norm(h + attended @ params["Wo"][layer].T, (n,))
            hidden = torch.relu(h @ params["W1"][layer].T) @ params["W2"][layer].T
            h = torch.nn.functional.layer_norm(h + hidden, (n,))
        out.append(h[0])
    return torch.stack(out)
