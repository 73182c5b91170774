"""Tests for dlnotes.complexity (chapters sequence_model_cost, linear_attention)."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlnotes.complexity import (
    attention_flops, count_flops, count_matmul_calls, fit_exponent, init_rnn, init_transformer, reference_rnn,
    reference_transformer, restricted_attention, restricted_attention_flops, rnn_flops, saved_activation_bytes,
    time_sweep, transformer_flops,
)

META = torch.device("meta")


def test_reference_values():
    assert rnn_flops(100, 256, 4) // 2 == 52_428_800
    assert transformer_flops(100, 256, 4) // 2 == 335_052_800
    assert attention_flops(1000, 512) // 4 == 512_000_000
    assert restricted_attention_flops(1000, 512, 64) // 4 == 32_768_000


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 40), st.sampled_from([4, 8, 16, 32]), st.integers(1, 3), st.sampled_from([1, 2, 4]),
       st.integers(1, 3), st.booleans())
def test_formulas_equal_counts(t, n, L, heads, batch, causal):
    x = torch.empty(batch, t, n, device=META)
    assert count_flops(reference_rnn, x, init_rnn(n, L, device=META)) == rnn_flops(t, n, L, batch=batch)
    counted = count_flops(reference_transformer, x, init_transformer(n, L, device=META), heads, causal=causal)
    assert counted == transformer_flops(t, n, L, batch=batch)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 60), st.integers(1, 16), st.sampled_from([2, 8]))
def test_restricted_attention_flops_and_values(t, r, n):
    q = torch.empty(t, n, device=META)
    assert count_flops(restricted_attention, q, q, q, r) == restricted_attention_flops(t, n, r)
    g = torch.Generator().manual_seed(t * 100 + r)
    q, k, v = (torch.randn(t, n, generator=g, dtype=torch.float64) for _ in range(3))
    i, j = torch.arange(t).unsqueeze(1), torch.arange(t)
    allowed = (j <= i) & (j > i - r)
    scores = (q @ k.T / math.sqrt(n)).masked_fill(~allowed, -math.inf)
    assert torch.allclose(restricted_attention(q, k, v, r), torch.softmax(scores, -1) @ v, atol=1e-12)


def test_reference_models_run_on_values():
    x = torch.randn(2, 5, 8, dtype=torch.float64)
    assert reference_rnn(x, init_rnn(8, 2, dtype=torch.float64)).shape == (2, 5, 8)
    out = reference_transformer(x, init_transformer(8, 2, dtype=torch.float64), 2, causal=True)
    assert out.shape == (2, 5, 8) and bool(torch.isfinite(out).all())


def test_init_is_reproducible_and_device_independent():
    a = init_rnn(4, 2, generator=torch.Generator().manual_seed(3))
    b = init_rnn(4, 2, generator=torch.Generator().manual_seed(3))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_fit_exponent():
    sizes = [2.0, 4.0, 8.0, 16.0]
    assert abs(fit_exponent(sizes, [3 * s ** 2.5 for s in sizes]) - 2.5) < 1e-12
    assert abs(fit_exponent(torch.tensor(sizes), torch.tensor(sizes)) - 1.0) < 1e-12
    with pytest.raises(ValueError, match="at least 2 points"):
        fit_exponent([1.0], [1.0])
    with pytest.raises(ValueError, match="positive"):
        fit_exponent([1.0, 2.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="not all be equal"):
        fit_exponent([2.0, 2.0], [1.0, 3.0])
    with pytest.raises(ValueError, match="same shape"):
        fit_exponent([1.0, 2.0], [1.0, 2.0, 3.0])


def test_saved_activation_bytes_rnn_formula():
    for B, t, n, L in [(1, 4, 3, 1), (2, 8, 5, 2), (3, 5, 2, 3)]:
        params = {k: w.requires_grad_() for k, w in init_rnn(n, L, dtype=torch.float64).items()}
        x = torch.randn(B, t, n, dtype=torch.float64)
        saved = saved_activation_bytes(reference_rnn, x, params, exclude=[x, *params.values()])
        assert saved == 8 * B * n * ((2 * L - 1) * t + L)
    with torch.no_grad(), pytest.raises(ValueError, match="gradients enabled"):
        saved_activation_bytes(reference_rnn, x, params)
    with torch.inference_mode(), pytest.raises(ValueError, match="gradients enabled"):
        saved_activation_bytes(reference_rnn, x, params)
    meta = torch.empty(3, 4, device="meta", requires_grad=True)
    with pytest.raises(ValueError, match="meta"):
        saved_activation_bytes(lambda a: (a * a).sum(), meta)


def test_stack_validation_checks_trailing_dimensions():
    params = init_transformer(8, 2, dtype=torch.float64)
    params["W1"] = torch.zeros(2, 16, 8, dtype=torch.float64)          # FFN width 2n, not 4n
    with pytest.raises(ValueError, match="W1"):
        reference_transformer(torch.zeros(5, 8, dtype=torch.float64), params)
    rnn = init_rnn(8, 2, dtype=torch.float64)
    rnn["W"] = torch.zeros(2, 8, 6, dtype=torch.float64)
    with pytest.raises(ValueError, match="W"):
        reference_rnn(torch.zeros(5, 8, dtype=torch.float64), rnn)


def test_time_sweep_makes_an_untimed_call_before_each_timed_one():
    log: list[str] = []
    make = lambda size: (lambda: log.append(size))
    time_sweep(make, ["a", "b"], repeats=2, warmup=1)
    assert log == ["a", "b"] + ["a", "a", "b", "b"] * 2


def test_public_api_stays_importable_from_complexity():
    import dlnotes.complexity as complexity
    import dlnotes.measurement as measurement

    for name in ("saved_activation_bytes", "time_sweep", "count_matmul_calls"):
        assert getattr(complexity, name) is getattr(measurement, name)


def test_count_matmul_calls():
    x = torch.empty(30, 8, device=META)
    assert count_matmul_calls(reference_rnn, x, init_rnn(8, 2, device=META)) == 2 * (30 + 1)
    assert count_matmul_calls(restricted_attention, x, x, x, 4) == 2


def test_time_sweep_returns_one_median_per_size():
    times = time_sweep(lambda n: (lambda: torch.ones(n).sum()), [10, 100], repeats=3, warmup=1)
    assert len(times) == 2 and all(t > 0 for t in times)
    with pytest.raises(TypeError, match="make_call must be callable"):
        time_sweep(3, [1])
    with pytest.raises(ValueError, match="repeats must be at least 1"):
        time_sweep(lambda n: (lambda: None), [1], repeats=0)


@pytest.mark.parametrize("call, error, match", [
    (lambda: rnn_flops(0, 4, 1), ValueError, "t must be at least 1"),
    (lambda: rnn_flops(3, 4.0, 1), TypeError, "n must be an int"),
    (lambda: transformer_flops(3, 4, True), TypeError, "L must be an int"),
    (lambda: restricted_attention_flops(3, 4, 0), ValueError, "r must be at least 1"),
    (lambda: count_flops(3), TypeError, "fn must be callable"),
    (lambda: reference_rnn(torch.zeros(3, 5), init_rnn(4, 1)), ValueError, r"x must have shape .* with n=4"),
    (lambda: reference_rnn(torch.zeros(3, 4), {"U": torch.zeros(1, 4, 4)}), TypeError, "keys"),
    (lambda: reference_transformer(torch.zeros(3, 4), init_transformer(4, 1), 3), ValueError,
     "heads must divide n=4"),
    (lambda: restricted_attention(torch.zeros(3, 4), torch.zeros(2, 4), torch.zeros(3, 4), 2), ValueError,
     r"k must have the shape \(t, n\)"),
    (lambda: init_rnn(4, 1, dtype=torch.int64), TypeError, "dtype must be a floating"),
])
def test_validation(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_fit_exponent_theil_sen_ignores_one_outlier():
    sizes = [1.0, 2.0, 4.0, 8.0, 16.0]
    costs = [s ** 2 for s in sizes]
    costs[0] *= 5.0                                   # one disturbed measurement
    assert fit_exponent(sizes, costs, method="theil-sen") == pytest.approx(2.0, abs=1e-12)
    assert abs(fit_exponent(sizes, costs) - 2.0) > 0.3
    assert fit_exponent([1.0, 2.0, 4.0, 8.0], [1.0, 8.0, 64.0, 512.0], method="theil-sen") == pytest.approx(3.0)
    with pytest.raises(ValueError, match="method must be"):
        fit_exponent(sizes, costs, method="ransac")


@pytest.mark.parametrize("statistic, clock", [("median", "wall"), ("min", "cpu")])
def test_time_sweep_options(statistic, clock):
    times = time_sweep(lambda n: (lambda: torch.randn(n, n) @ torch.randn(n, n)), [8, 64], repeats=3,
                       statistic=statistic, clock=clock)
    assert len(times) == 2 and all(t >= 0 for t in times)


def test_time_sweep_option_validation():
    with pytest.raises(ValueError, match="statistic must be"):
        time_sweep(lambda n: (lambda: None), [1], statistic="mean")
    with pytest.raises(ValueError, match="clock must be"):
        time_sweep(lambda n: (lambda: None), [1], clock="gpu")
