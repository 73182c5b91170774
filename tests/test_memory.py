"""dlnotes.memory: the peak-live-bytes meter and the streaming / cached models (chapter: What sequence models cost)."""

import weakref

import pytest
import torch

from dlnotes.complexity import init_rnn, init_transformer, reference_rnn
from dlnotes.memory import PeakLiveBytes, decode_with_cache, decode_without_cache, streaming_rnn

F64 = dict(dtype=torch.float64)


def _batched_product_live_bytes(meter_class) -> tuple[int, int]:
    x3, W = torch.randn(4, 8, 16, **F64), torch.randn(16, 16, **F64)
    with torch.no_grad(), meter_class([x3, W]) as meter:
        y = x3 @ W.T  # (4, 8, 16) float64: 4,096 bytes, alive
        alive = meter.current
        del y
        after = meter.current
    return alive, after


def test_a_batched_product_is_counted_while_its_result_lives():
    assert _batched_product_live_bytes(PeakLiveBytes) == (4096, 0)


class _FreesOnFirstTensor(PeakLiveBytes):
    """The planted defect: a storage leaves the account when the first tensor seen on it dies."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if isinstance(out, torch.Tensor):
            key = out.untyped_storage().data_ptr()
            if key not in self.existing and key not in self.live:
                self.live[key] = out.untyped_storage().nbytes()
                self.current += self.live[key]
                self.peak = max(self.peak, self.current)
                weakref.finalize(out, self._free, key)
        return out


def test_the_batched_product_test_catches_a_meter_that_frees_on_the_first_tensor():
    assert _batched_product_live_bytes(_FreesOnFirstTensor) != (4096, 0)


def test_views_of_existing_tensors_cost_nothing():
    W = torch.randn(16, 16, **F64)
    with PeakLiveBytes([W]) as meter:
        W.T, W[0], W.reshape(-1)
    assert meter.peak == 0


@pytest.mark.parametrize("t", [2, 7, 64, 200])
def test_reference_rnn_holds_four_layers_of_states(t):
    # at the stack of a layer (t >= 2): the layer below's stacked states, this layer's input products,
    # the list of its t states and their stack, t n numbers each
    n, params = 16, init_rnn(16, 3, **F64)
    x = torch.randn(1, t, n, **F64)
    with torch.no_grad(), PeakLiveBytes([x, *params.values()]) as meter:
        reference_rnn(x, params)
    assert meter.peak == 4 * t * n * 8


def test_streaming_rnn_equals_reference_and_its_peak_does_not_grow_with_t():
    params = init_rnn(16, 3, **F64)
    x = torch.randn(2, 50, 16, **F64)
    torch.testing.assert_close(streaming_rnn(x, params), reference_rnn(x, params)[:, -1], atol=1e-12, rtol=0)
    peaks = []
    for t in (8, 64, 256):
        xt = torch.randn(1, t, 16, **F64)
        with torch.no_grad(), PeakLiveBytes([xt, *params.values()]) as meter:
            streaming_rnn(xt, params)
        peaks.append(meter.peak)
    assert len(set(peaks)) == 1 and 0 < peaks[0] <= 8 * 16 * 8


def test_decoding_with_a_cache_equals_decoding_without_and_its_memory_is_linear_in_t():
    params = init_transformer(16, 2, **F64)
    x = torch.randn(10, 16, **F64)
    torch.testing.assert_close(decode_with_cache(x, params), decode_without_cache(x, params), atol=1e-12, rtol=0)
    peaks = {}
    for t in (32, 64, 128):
        xt = torch.randn(t, 16, **F64)
        with torch.no_grad(), PeakLiveBytes([xt, *params.values()]) as meter:
            decode_with_cache(xt, params)
        peaks[t] = meter.peak
    # the cache adds 2 n L numbers per position, so doubling t from 64 adds 64 * 2 * 16 * 2 * 8 bytes at least
    assert peaks[128] - peaks[64] >= 64 * 2 * 16 * 2 * 8
    # linear in t: 64 more positions cost twice what 32 more did
    assert peaks[128] - peaks[64] == pytest.approx(2 * (peaks[64] - peaks[32]), rel=0.1)


def test_bad_input_names_the_argument():
    params = init_rnn(4, 1, **F64)
    with pytest.raises(ValueError, match="x must have shape"):
        streaming_rnn(torch.zeros(5, 4, **F64), params)
    with pytest.raises(ValueError, match="x must have shape"):
        decode_with_cache(torch.zeros(1, 5, 4, **F64), init_transformer(4, 1, **F64))
    with pytest.raises(TypeError, match="existing"):
        PeakLiveBytes([1.0])
