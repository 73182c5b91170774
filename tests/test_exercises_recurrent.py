"""Audit of the recurrent part's exercise checker against brute force and closed forms.

Every reference, every ``accepts=`` predicate and every registered mistake of the chapters
rnn_shapes, bptt, alternating_rnn and sequence_model_cost is recomputed here independently
(autograd, an actual network run, a scan or a simulation), not copied from the registry.
"""

from __future__ import annotations

import itertools
import math

import pytest
import torch

import dlnotes
from dlnotes.exercises import check_answer
from dlnotes.exercises.engine import REGISTRY
from dlnotes.rnn import alternating_rnn, rnn_forward

f64 = dict(dtype=torch.float64)


def _mistake_answers(ex_id: str) -> list:
    return [m.sample for m in REGISTRY[ex_id].mistakes]


# ------------------------------------------------------------------ rnn_shapes


def test_count_reference_is_a_run_of_a_recurrent_language_model():
    # K^T by enumeration for small sizes, then the formula at K = 10,000, T = 3
    for K, T in [(2, 3), (3, 4), (5, 2)]:
        assert len(list(itertools.product(range(K), repeat=T))) == K ** T
    K, T, n = 10_000, 3, 3
    gen = dlnotes.generator(0)
    W_xh, W_hh = dlnotes.randn(n, K + 1, generator=gen, **f64), dlnotes.randn(n, n, generator=gen, **f64)
    W_hy = dlnotes.randn(K, n, generator=gen, **f64)
    inputs = torch.zeros(T, K + 1, **f64)
    inputs[torch.arange(T), torch.tensor([K, 5, 7])] = 1.0
    log_p = torch.log_softmax(rnn_forward(inputs, torch.zeros(n, **f64), W_xh, W_hh) @ W_hy.T, dim=-1)
    assert check_answer("rnn-shapes-count", (K ** T, log_p.numel()))
    assert check_answer("rnn-shapes-count", (K ** T - 1, log_p.numel()))
    for wrong in _mistake_answers("rnn-shapes-count") + [(K ** T, T), (K * T, K * T)]:
        assert not check_answer("rnn-shapes-count", wrong)


def _measured_zero_blocks(T: int, D: int) -> int:
    """Zero blocks of d y_t / d x_s for y_t read from h_(t+D) of an actual random RNN."""
    gen = dlnotes.generator(1)
    n = 3
    W_xh, W_hh = dlnotes.randn(n, 2, generator=gen, **f64), dlnotes.randn(n, n, generator=gen, **f64)

    def outputs(x: torch.Tensor) -> torch.Tensor:
        padded = torch.cat([x, torch.zeros(D, 2, **f64)])
        return rnn_forward(padded, torch.zeros(n, **f64), W_xh, W_hh)[D:].sum(-1)

    jac = torch.autograd.functional.jacobian(outputs, dlnotes.randn(T, 2, generator=gen, **f64))  # (T, T, 2)
    return int((jac.abs().sum(-1) == 0).sum())


@pytest.mark.parametrize("T, D", [(1, 0), (4, 0), (5, 1), (7, 2), (6, 5), (4, 4), (3, 6)])
def test_delay_reference_and_mistakes_against_autograd(T, D):
    measured = _measured_zero_blocks(T, D)
    reference = REGISTRY["rnn-shapes-delay"].reference
    assert reference(T, D) == measured
    assert check_answer("rnn-shapes-delay", lambda T, D: (T - D) * (T - D - 1) // 2 if D < T else 0)


def test_delay_mistakes_are_wrong_somewhere_by_autograd():
    cases = [(T, D) for T in range(1, 7) for D in range(0, 7)]
    truth = {c: _measured_zero_blocks(*c) for c in cases}
    for mistake in REGISTRY["rnn-shapes-delay"].mistakes:
        assert any(mistake.value(*c) != truth[c] for c in cases), mistake.hint


# ------------------------------------------------------------------ bptt


def test_ten_sigmoids_reference_is_autograd():
    h0 = torch.zeros((), requires_grad=True, **f64)
    h = h0
    for _ in range(10):
        h = torch.sigmoid(h)
    (grad,) = torch.autograd.grad(h, h0)
    assert check_answer("bptt-ten-sigmoids", grad.item())
    for wrong in _mistake_answers("bptt-ten-sigmoids"):
        assert abs(wrong - grad.item()) > 1e-6 * abs(grad.item())
        assert not check_answer("bptt-ten-sigmoids", wrong)


def test_horizon_reference_is_a_scan_of_measured_norms():
    Q, _ = torch.linalg.qr(dlnotes.randn(6, 6, generator=dlnotes.generator(2), **f64))
    product, first = torch.eye(6, **f64), None
    for k in range(1, 40):
        product = product @ (0.5 * Q)
        if torch.linalg.matrix_norm(product, ord=2).item() < 1e-6:
            first = k
            break
    assert check_answer("bptt-horizon", first)
    for wrong in _mistake_answers("bptt-horizon"):
        assert wrong != first and not check_answer("bptt-horizon", wrong)


def test_h0_gradient_reference_is_autograd():
    gen = dlnotes.generator(3)
    n = 4
    W_hh = dlnotes.randn(n, n, generator=gen, **f64)
    h0 = dlnotes.randn(n, generator=gen, **f64).requires_grad_()
    z1 = W_hh @ h0
    r1 = dlnotes.randn(n, generator=gen, **f64)       # dL/dz_1
    (grad,) = torch.autograd.grad(z1, h0, grad_outputs=r1)
    assert torch.allclose(REGISTRY["bptt-h0"].reference(W_hh, r1), grad, atol=1e-12)
    for mistake in REGISTRY["bptt-h0"].mistakes:
        assert not torch.allclose(mistake.value(W_hh, r1), grad, atol=1e-6)


# ------------------------------------------------------------------ alternating_rnn


def test_running_sum_weight_by_simulation():
    x = dlnotes.randn(6, generator=dlnotes.generator(4), **f64)
    for w in (1.0, 0.0, -1.0):
        h = torch.zeros((), **f64)
        for x_t in x:
            h = x_t + w * h
        is_sum = torch.isclose(h, x.sum(), atol=1e-12).item()
        assert bool(check_answer("alternating-rnn-running-sum", w)) == is_sum


def test_smallest_gain_by_bisection():
    lo, hi = 0.0, 100.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if 1 / (1 + math.exp(-mid)) >= 1 - 1e-6 else (mid, hi)
    assert check_answer("alternating-rnn-gain", hi)
    for wrong in _mistake_answers("alternating-rnn-gain"):
        assert not check_answer("alternating-rnn-gain", wrong)


def _h0_works(h0: float) -> bool:
    """Brute force over integer inputs with even T: tie -> >= 0.99, E - O <= -1 -> <= 0.01, E - O >= 1 -> >= 0.99."""
    for values in itertools.product(range(-2, 3), repeat=4):
        x = torch.tensor(values, **f64)
        even_minus_odd = (x[1::2].sum() - x[0::2].sum()).item()   # positions 2, 4 are even (1-based)
        out = alternating_rnn(x, h0=h0)[1].item()
        if even_minus_odd >= 0 and out < 0.99:
            return False
        if even_minus_odd < 0 and out > 0.01:
            return False
    return True


@pytest.mark.parametrize("h0", [-0.5, -1e-3, 0.0, 0.001, 0.004, 0.0046, 0.005, 0.01, 0.3, 0.5, 0.9, 0.99,
                                0.995, 0.9954, 0.996, 0.999, 1.0, 1.5])
def test_h0_accepts_exactly_the_initial_states_that_work(h0):
    assert bool(check_answer("alternating-rnn-h0", h0)) == _h0_works(h0), h0


def test_h0_margin_is_ln99_over_1000():
    margin = math.log(99) / 1000
    assert check_answer("alternating-rnn-h0", margin + 1e-9)
    assert check_answer("alternating-rnn-h0", 1 - margin - 1e-9)
    assert not check_answer("alternating-rnn-h0", margin * 0.9)
    assert not check_answer("alternating-rnn-h0", 1 - margin * 0.9)
    for wrong in _mistake_answers("alternating-rnn-h0"):
        assert not _h0_works(wrong)


# ------------------------------------------------------------------ sequence_model_cost


def test_crossover_by_scan_of_the_two_costs():
    t = 1000
    attention = lambda n: 4 * t * t * n      # the two t x t products of one attention layer, FLOPs
    recurrence = lambda n: 4 * t * n * n     # W_hh h and W_xh x at every step, FLOPs
    smallest = next(n for n in range(1, 10 * t) if attention(n) < recurrence(n))
    assert check_answer("cost-crossover", smallest)
    for wrong in _mistake_answers("cost-crossover"):
        assert not check_answer("cost-crossover", wrong)


def test_window_costs_by_flop_counter():
    from torch.utils.flop_counter import FlopCounterMode

    # count 2 r n per query and key-value product on a small case, then scale by the closed form
    t, r, n = 64, 8, 16
    q = torch.zeros(t, 1, n, **f64)
    keys = torch.zeros(t, r, n, **f64)
    with FlopCounterMode(display=False) as counter:
        scores = (q @ keys.transpose(1, 2))                 # (t, 1, r)
        _ = scores @ keys                                   # (t, 1, n)
    assert counter.get_total_flops() == 4 * t * r * n
    with FlopCounterMode(display=False) as counter:
        h = torch.zeros(n, 1, **f64)
        W = torch.zeros(n, n, **f64)
        for _ in range(t):
            h = W @ h + W @ h
    assert counter.get_total_flops() == 4 * t * n * n
    T, width = 4096, 256
    assert check_answer("cost-window-n", (4 * T * width * width, 4 * T * width * width))
    for wrong in _mistake_answers("cost-window-n"):
        assert not check_answer("cost-window-n", wrong)


def test_pipeline_waves_by_simulation():
    layers, steps = 4, 100
    wave = {}
    for layer in range(1, layers + 1):
        for step in range(1, steps + 1):
            wave[layer, step] = 1 + max(wave.get((layer - 1, step), 0), wave.get((layer, step - 1), 0))
    assert check_answer("cost-pipeline", wave[layers, steps])
    for wrong in _mistake_answers("cost-pipeline"):
        assert wrong != wave[layers, steps] and not check_answer("cost-pipeline", wrong)
