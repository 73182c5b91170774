"""Audit of the answer checker for the parts Foundations and Generative models.

Every reference answer, every ``accepts=`` predicate and every registered ``Mistake`` of the
chapters perceptron_xor, linear_depth, vanishing_gradients, elbo and gan_dynamics is compared
here with a computation that does not reuse the checker's own formulas: brute-force
enumeration, quadrature, the library functions the chapters verify, or a simulation.
A mistake must never fire on a right answer, and a right answer found by brute force must be
accepted.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from dlnotes.basics import compose_affine, linearly_separable
from dlnotes.exercises import check_answer
from dlnotes.exercises.engine import REGISTRY
from dlnotes.gan import gda
from dlnotes.vi import discrete_elbo, linear_gaussian_elbo

CORNERS = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
CUBE = torch.tensor(list(itertools.product([0.0, 1.0], repeat=3)), dtype=torch.float64)
XOR = [0, 1, 1, 0]


def _mistakes(exercise_id: str):
    return REGISTRY[exercise_id].mistakes


def _is_flagged_with(exercise_id: str, answer, hint: str) -> bool:
    verdict = check_answer(exercise_id, answer)
    return verdict.status == "incorrect" and verdict.message == hint


# ------------------------------------------------------------------------------------ perceptron_xor


def test_three_inputs_count_and_its_mistakes_by_brute_force():
    count = sum(linearly_separable(CUBE, list(table)) for table in itertools.product([0, 1], repeat=8))
    two_inputs = sum(linearly_separable(CORNERS, list(table)) for table in itertools.product([0, 1], repeat=4))
    with_zero_at_origin = sum(linearly_separable(CUBE, [0, *rest]) for rest in itertools.product([0, 1], repeat=7))
    assert check_answer("perceptron-xor-three-inputs", count)
    values = {m.value for m in _mistakes("perceptron-xor-three-inputs")}
    assert values == {with_zero_at_origin, 2**8, two_inputs}
    assert count not in values
    for m in _mistakes("perceptron-xor-three-inputs"):
        assert _is_flagged_with("perceptron-xor-three-inputs", m.value, m.hint)


def _lifted_outputs(w, b) -> list[int]:
    lifted = torch.cat([CORNERS, CORNERS[:, :1] * CORNERS[:, 1:]], dim=1)
    return (lifted @ torch.tensor(w, dtype=torch.float64) + b > 0).long().tolist()


HALF_STEPS = [-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0]


@pytest.mark.parametrize("w3", [-2.0, -1.0, 0.0, 1.0])
def test_feature_accepts_exactly_the_weights_that_compute_xor(w3):
    # every (w1, w2, b) on a half-integer grid, for a few product weights; step(0) = 0
    for w1, w2, b in itertools.product(HALF_STEPS, HALF_STEPS, HALF_STEPS):
        answer = ((w1, w2, w3), b)
        right = _lifted_outputs((w1, w2, w3), b) == XOR
        verdict = check_answer("perceptron-xor-feature", answer)
        assert bool(verdict) == right, answer
        if not right:
            continue
        assert w3 != 0  # without the product feature no perceptron computes XOR
        assert linearly_separable(CORNERS, XOR) is False


def test_feature_mistakes_fire_only_on_wrong_answers():
    for m in _mistakes("perceptron-xor-feature"):
        w, b = m.sample
        assert _lifted_outputs(w, b) != XOR
        assert _is_flagged_with("perceptron-xor-feature", m.sample, m.hint)


def _parity_by_hand(W1, b1, w2, b2) -> list[int]:
    out = []
    for x in itertools.product([0, 1], repeat=3):
        hidden = [1 if sum(wi * xi for wi, xi in zip(row, x)) + bias > 0 else 0 for row, bias in zip(W1, b1)]
        out.append(1 if sum(a * h for a, h in zip(w2, hidden)) + b2 > 0 else 0)
    return out


PARITY = [sum(x) % 2 for x in itertools.product([0, 1], repeat=3)]


def test_parity_accepts_a_network_iff_it_computes_parity():
    gen = np.random.default_rng(7)
    for trial in range(3000):
        h = int(gen.integers(1, 4))
        W1 = gen.integers(-1, 2, size=(h, 3)).astype(float).tolist()
        b1 = (gen.integers(-3, 3, size=h) + 0.5).tolist()
        w2 = gen.integers(-1, 2, size=h).astype(float).tolist()
        b2 = float(gen.integers(-2, 2) + 0.5)
        right = _parity_by_hand(W1, b1, w2, b2) == PARITY
        assert bool(check_answer("perceptron-xor-parity", (W1, b1, w2, b2))) == right
    reference = REGISTRY["perceptron-xor-parity"].reference
    assert _parity_by_hand(*reference) == PARITY and check_answer("perceptron-xor-parity", reference)
    # right answers of other shapes: hidden units permuted and rescaled, plus an unused extra unit
    W1, b1, w2, b2 = (np.array(t, dtype=float) for t in reference)
    for _ in range(50):
        order, scale = gen.permutation(3), gen.uniform(0.2, 5.0, size=3)
        variant = ((W1[order] * scale[order, None]).tolist() + [[1.0, -1.0, 0.5]],
                   (b1[order] * scale[order]).tolist() + [0.25], w2[order].tolist() + [0.0], float(b2))
        assert _parity_by_hand(*variant) == PARITY
        assert check_answer("perceptron-xor-parity", variant)


def test_parity_mistakes_fire_only_on_wrong_answers():
    for m in _mistakes("perceptron-xor-parity"):
        assert _parity_by_hand(*m.sample) != PARITY
        assert _is_flagged_with("perceptron-xor-parity", m.sample, m.hint)


# ------------------------------------------------------------------------------------ linear_depth


def _random_layers(gen: torch.Generator, d: int, n: int):
    return [t for _ in range(n) for t in (torch.randn(d, d, generator=gen, dtype=torch.float64),
                                          torch.randn(d, generator=gen, dtype=torch.float64))]


def test_three_layers_reference_and_mistakes_against_compose_affine():
    gen = torch.Generator().manual_seed(3)
    reference = REGISTRY["linear-depth-three"].reference
    for _ in range(20):
        args = _random_layers(gen, 3, 3)
        _, b = compose_affine(args[0::2], args[1::2])
        torch.testing.assert_close(reference(*args), b, rtol=1e-12, atol=1e-12)
        for m in _mistakes("linear-depth-three"):
            assert (m.value(*args) - b).abs().max() > 1e-6
    assert check_answer("linear-depth-three", reference)
    for m in _mistakes("linear-depth-three"):
        assert _is_flagged_with("linear-depth-three", m.value, m.hint)


def _network(W1, b1, W2, b2, x):
    return W2 @ (2 * (W1 @ x + b1) + 1) + b2


def test_affine_activation_reference_and_mistakes_against_the_network():
    gen = torch.Generator().manual_seed(4)
    reference = REGISTRY["linear-depth-affine-activation"].reference
    for _ in range(20):
        W1, b1 = torch.randn(4, 3, generator=gen, dtype=torch.float64), torch.randn(4, generator=gen, dtype=torch.float64)
        W2, b2 = torch.randn(2, 4, generator=gen, dtype=torch.float64), torch.randn(2, generator=gen, dtype=torch.float64)
        # the affine map read off the network itself: b at x = 0, columns of W from the unit vectors
        b_net = _network(W1, b1, W2, b2, torch.zeros(3, dtype=torch.float64))
        W_net = torch.stack([_network(W1, b1, W2, b2, e) - b_net for e in torch.eye(3, dtype=torch.float64)], dim=1)
        W_ref, b_ref = reference(W1, b1, W2, b2)
        torch.testing.assert_close(W_ref, W_net, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(b_ref, b_net, rtol=1e-12, atol=1e-12)
        for m in _mistakes("linear-depth-affine-activation"):
            W_m, b_m = m.value(W1, b1, W2, b2)
            assert max((W_m - W_net).abs().max(), (b_m - b_net).abs().max()) > 1e-6
    for m in _mistakes("linear-depth-affine-activation"):
        assert _is_flagged_with("linear-depth-affine-activation", m.value, m.hint)


def test_parameter_counts_against_torch():
    sizes = [784, 512, 512, 10]
    stack = sum(p.numel() for i in range(3) for p in torch.nn.Linear(sizes[i], sizes[i + 1], device="meta").parameters())
    single = sum(p.numel() for p in torch.nn.Linear(784, 10, device="meta").parameters())
    assert check_answer("linear-depth-parameters", (stack, single))
    for m in _mistakes("linear-depth-parameters"):
        assert m.value != (stack, single)
        assert _is_flagged_with("linear-depth-parameters", m.value, m.hint)


# ------------------------------------------------------------------------------------ vanishing_gradients


def test_tanh_slope_maximum_numerically():
    z = torch.linspace(-5, 5, 100001, dtype=torch.float64, requires_grad=True)
    (slope,) = torch.autograd.grad(torch.tanh(z).sum(), z)
    top = slope.max().item()
    assert check_answer("vanishing-gradients-tanh", top)
    for m in _mistakes("vanishing-gradients-tanh"):
        assert abs(m.value - top) > 0.1
        assert _is_flagged_with("vanishing-gradients-tanh", m.value, m.hint)


def test_depth_by_brute_force():
    fewest = next(k for k in itertools.count(1) if 0.25**k < 1e-6)
    assert check_answer("vanishing-gradients-depth", fewest)
    assert 0.25 ** (fewest - 1) >= 1e-6  # the "one layer short" mistake really is short
    for m in _mistakes("vanishing-gradients-depth"):
        assert m.value != fewest
        assert _is_flagged_with("vanishing-gradients-depth", m.value, m.hint)


def test_one_percent_by_bisection():
    def slope(z: float) -> float:
        s = 1 / (1 + math.exp(-z))
        return s * (1 - s)

    lo, hi = 0.0, 20.0  # slope decreases on z > 0 from 1/4 to 0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if slope(mid) > 0.01 else (lo, mid)
    assert check_answer("vanishing-gradients-one-percent", lo)
    for m in _mistakes("vanishing-gradients-one-percent"):
        assert abs(m.value - lo) > 0.1
        assert _is_flagged_with("vanishing-gradients-one-percent", m.value, m.hint)


# ------------------------------------------------------------------------------------ elbo


def _brute_discrete(prior, likelihood, q):
    joint = [a * b for a, b in zip(prior, likelihood)]
    evidence = sum(joint)
    posterior = [j / evidence for j in joint]
    elbo = sum(qi * math.log(j / qi) for qi, j in zip(q, joint))
    gap = sum(qi * math.log(qi / pi) for qi, pi in zip(q, posterior))
    kl_prior = sum(qi * math.log(qi / pi) for qi, pi in zip(q, prior))
    return elbo, gap, kl_prior, posterior


def test_prior_as_q_by_brute_force():
    elbo, gap, kl_prior, posterior = _brute_discrete([0.4, 0.6], [0.7, 0.2], [0.4, 0.6])
    assert abs(kl_prior) < 1e-15  # the regulariser is the term that vanishes
    assert check_answer("elbo-prior-as-q", (elbo, gap, "regulariser"))
    entropy = -(0.4 * math.log(0.4) + 0.6 * math.log(0.6))
    reversed_gap = sum(p * math.log(p / q) for p, q in zip(posterior, [0.4, 0.6]))
    wrong_parts = {0: [elbo + entropy], 1: [reversed_gap], 2: ["entropy", "reconstruction"]}
    for m in _mistakes("elbo-prior-as-q"):
        assert m.value in wrong_parts[m.part] or any(
            isinstance(v, float) and abs(v - m.value) < 1e-12 for v in wrong_parts[m.part])
        assert not check_answer("elbo-prior-as-q", m.sample)
        assert _is_flagged_with("elbo-prior-as-q", m.sample, m.hint)
    assert abs(reversed_gap - gap) > 1e-3 and entropy > 0.1


def test_fixed_variance_by_scan_and_quadrature():
    means = np.arange(-1000, 2001) / 1000
    elbos = [linear_gaussian_elbo(1.0, m, 1.0)["elbo"] for m in means]
    best = float(means[int(np.argmax(elbos))])
    z = np.linspace(-12, 12, 48001)
    q = np.exp(-(z - best) ** 2 / 2) / math.sqrt(2 * math.pi)
    post = np.exp(-(z - 0.5) ** 2 / (2 * 0.5)) / math.sqrt(2 * math.pi * 0.5)
    gap = float(np.trapezoid(q * np.log(q / post), z))
    assert check_answer("elbo-fixed-variance", (best, gap))
    for m in _mistakes("elbo-fixed-variance"):
        wrong = m.sample
        assert abs(wrong[0] - best) > 1e-3 or abs(wrong[1] - gap) > 1e-3
        assert _is_flagged_with("elbo-fixed-variance", wrong, m.hint)


def test_samples_from_the_variance_by_quadrature():
    z = np.linspace(-12, 12, 48001)
    m, v = 0.3, 0.64
    log_q = -0.5 * np.log(2 * math.pi * v) - (z - m) ** 2 / (2 * v)
    log_joint = -np.log(2 * math.pi) - z**2 / 2 - (1 - z) ** 2 / 2
    q = np.exp(log_q)
    g = log_joint - log_q
    mean = np.trapezoid(q * g, z)
    variance = float(np.trapezoid(q * (g - mean) ** 2, z))
    samples = round(variance / 1e-6)
    assert abs(variance - 0.1416) < 1e-10
    assert check_answer("elbo-samples", samples)
    for mistake in _mistakes("elbo-samples"):
        assert mistake.value != samples
        assert _is_flagged_with("elbo-samples", mistake.value, mistake.hint)


def _posterior_cov(W: np.ndarray) -> np.ndarray:
    return np.linalg.inv(np.eye(W.shape[1]) + W.T @ W)


def test_diagonal_accepts_exactly_the_matrices_with_a_non_diagonal_posterior():
    gen = np.random.default_rng(11)
    for _ in range(300):
        d, k = int(gen.integers(2, 6)), int(gen.integers(2, 4))
        if k > d:
            continue
        W = gen.normal(size=(d, k))
        cov = _posterior_cov(W)
        non_diagonal = np.abs(cov - np.diag(np.diag(cov))).max() > 1e-9
        assert bool(check_answer("elbo-diagonal", W)) == non_diagonal
        Q, _ = np.linalg.qr(W)  # orthogonal columns, scaled: a diagonal posterior, so not an answer
        W_orth = Q * gen.uniform(0.5, 3.0, size=k)
        assert np.abs(_posterior_cov(W_orth) - np.diag(np.diag(_posterior_cov(W_orth)))).max() < 1e-12
        assert not check_answer("elbo-diagonal", W_orth)
    assert check_answer("elbo-diagonal", REGISTRY["elbo-diagonal"].reference)
    for m in _mistakes("elbo-diagonal"):
        W = np.array(m.sample)
        cov = _posterior_cov(W)
        assert np.abs(cov - np.diag(np.diag(cov))).max() < 1e-12  # a diagonal encoder can be exact there
        assert _is_flagged_with("elbo-diagonal", m.sample, m.hint)


def test_discrete_elbo_agrees_with_the_brute_force_used_above():
    elbo, gap, kl_prior, _ = _brute_discrete([0.4, 0.6], [0.7, 0.2], [0.4, 0.6])
    terms = discrete_elbo([0.4, 0.6], [0.7, 0.2], [0.4, 0.6])
    assert abs(terms["elbo"] - elbo) < 1e-14 and abs(terms["kl_posterior"] - gap) < 1e-14
    assert abs(terms["kl_prior"] - kl_prior) < 1e-14


# ------------------------------------------------------------------------------------ gan_dynamics


def test_doubling_by_simulation():
    z = gda(1, 1, lr=0.1, steps=300, device="cpu")
    ratios = (z.norm(dim=1) / z[0].norm()).tolist()
    first = next(t for t, r in enumerate(ratios) if r >= 2)
    assert check_answer("gan-dynamics-doubling", first)
    for m in _mistakes("gan-dynamics-doubling"):
        assert m.value != first
        assert _is_flagged_with("gan-dynamics-doubling", m.value, m.hint)


def test_period_by_simulation():
    def returns_after_four(step: float) -> bool:
        z = gda(0.3, -1.2, lr=step, steps=4, method="alternating", device="cpu")
        return bool(torch.allclose(z[4], z[0], atol=1e-9))

    assert returns_after_four(math.sqrt(2)) and check_answer("gan-dynamics-period", math.sqrt(2))
    for m in _mistakes("gan-dynamics-period"):
        assert not returns_after_four(m.value)
        assert _is_flagged_with("gan-dynamics-period", m.value, m.hint)


def test_extragradient_step_by_scan_of_the_spectral_radius():
    steps = np.linspace(0.01, 0.99, 9801)
    J = np.array([[0.0, -1.0], [1.0, 0.0]])
    radius = [np.abs(np.linalg.eigvals(np.eye(2) + s * J + s**2 * J @ J)).max() for s in steps]
    best = int(np.argmin(radius))
    assert check_answer("gan-dynamics-eg-step", (float(steps[best]), float(radius[best])))
    for m in _mistakes("gan-dynamics-eg-step"):
        assert not check_answer("gan-dynamics-eg-step", m.sample)
        assert _is_flagged_with("gan-dynamics-eg-step", m.sample, m.hint)
