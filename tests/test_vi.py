"""Tests for dlnotes.vi (chapter *The evidence lower bound*)."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlnotes.vi import discrete_elbo, gaussian_kl, linear_gaussian_elbo

KEYS = {"log_evidence", "elbo", "kl_posterior", "reconstruction", "kl_prior"}


# --------------------------------------------------------------------------- reference values


def test_discrete_reference_values():
    r = discrete_elbo([0.4, 0.6], [0.7, 0.2], [0.5, 0.5])
    assert set(r) == KEYS
    assert r["log_evidence"] == pytest.approx(-0.9162907319, abs=1e-9)
    assert r["elbo"] == pytest.approx(-1.0034674254, abs=1e-9)
    assert r["kl_posterior"] == pytest.approx(0.0871766936, abs=1e-9)
    assert r["reconstruction"] == pytest.approx(-0.9830564282, abs=1e-9)
    assert r["kl_prior"] == pytest.approx(0.0204109973, abs=1e-9)


def test_linear_gaussian_reference_values():
    r = linear_gaussian_elbo(1.0, 0.3, 0.64)
    assert set(r) == KEYS
    assert r["log_evidence"] == pytest.approx(-1.5155121235, abs=1e-9)
    assert r["elbo"] == pytest.approx(-1.5720820845, abs=1e-9)
    assert r["kl_posterior"] == pytest.approx(0.0565699610, abs=1e-9)


def test_linear_gaussian_gap_vanishes_at_posterior():
    # w = 2, prior_var = 1, noise_var = 0.5: posterior precision 1 + 8 = 9
    x = 0.7
    r = linear_gaussian_elbo(x, (1 / 9) * 2 * x / 0.5, 1 / 9, w=2.0, noise_var=0.5)
    assert r["kl_posterior"] == pytest.approx(0.0, abs=1e-15)
    assert r["elbo"] == pytest.approx(r["log_evidence"], abs=1e-14)


def test_discrete_gap_vanishes_at_posterior():
    r = discrete_elbo([0.4, 0.6], [0.7, 0.2], [0.7, 0.3])
    assert r["kl_posterior"] == pytest.approx(0.0, abs=1e-15)
    assert r["elbo"] == pytest.approx(r["log_evidence"], abs=1e-15)


def test_discrete_zero_mass_conventions():
    # q puts no mass on z = 1: 0 log 0 = 0
    r = discrete_elbo([0.5, 0.5], [0.2, 0.0], [1.0, 0.0])
    assert r["elbo"] == pytest.approx(math.log(0.1), abs=1e-15)
    assert r["kl_posterior"] == 0.0
    # q puts mass where p(x, z) = 0: the bound is -inf
    r = discrete_elbo([0.5, 0.5], [0.2, 0.0], [0.5, 0.5])
    assert r["elbo"] == -math.inf and r["kl_posterior"] == math.inf


def test_gaussian_kl_values_and_shapes():
    kl = gaussian_kl(torch.zeros(4, 3), torch.ones(4, 3), torch.zeros(3), torch.ones(3))
    assert kl.shape == (4,) and torch.equal(kl, torch.zeros(4))
    one = gaussian_kl(0.3, 0.64, 0.5, 0.5)
    assert one.shape == () and float(one) == pytest.approx(0.0565699610, abs=1e-9)
    # a sum over the last dimension of per-coordinate divergences
    two = gaussian_kl(torch.tensor([0.3, 0.3], dtype=torch.float64), torch.tensor([0.64, 0.64], dtype=torch.float64), 0.5, 0.5)
    assert float(two) == pytest.approx(2 * 0.0565699610, abs=1e-9)
    assert gaussian_kl(torch.zeros(2, dtype=torch.float32), torch.ones(2), 1.0, 2.0).dtype == torch.float32


# --------------------------------------------------------------------------- properties


probs = st.lists(st.floats(0.01, 1.0), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(probs, st.data())
def test_discrete_identity_and_bound(raw_prior, data):
    k = len(raw_prior)
    prior = torch.tensor(raw_prior, dtype=torch.float64)
    prior = prior / prior.sum()
    lik = torch.tensor(data.draw(st.lists(st.floats(0.01, 1.0), min_size=k, max_size=k)), dtype=torch.float64)
    raw_q = torch.tensor(data.draw(st.lists(st.floats(0.0, 1.0), min_size=k, max_size=k)), dtype=torch.float64)
    q = raw_q / raw_q.sum() if float(raw_q.sum()) > 0 else torch.full((k,), 1.0 / k, dtype=torch.float64)
    r = discrete_elbo(prior, lik, q)
    assert r["kl_posterior"] >= 0 and r["kl_prior"] >= 0
    assert r["elbo"] <= r["log_evidence"] + 1e-12
    assert r["elbo"] + r["kl_posterior"] == pytest.approx(r["log_evidence"], abs=1e-12)
    assert r["reconstruction"] - r["kl_prior"] == pytest.approx(r["elbo"], abs=1e-12)


reals = st.floats(-5.0, 5.0)
variances = st.floats(0.05, 5.0)


@settings(max_examples=80, deadline=None)
@given(reals, reals, variances, reals, variances, variances)
def test_linear_gaussian_identity_and_bound(x, m, v, w, prior_var, noise_var):
    r = linear_gaussian_elbo(x, m, v, w=w, prior_var=prior_var, noise_var=noise_var)
    assert r["kl_posterior"] >= 0 and r["kl_prior"] >= 0
    assert r["elbo"] <= r["log_evidence"] + 1e-12
    assert r["elbo"] + r["kl_posterior"] == pytest.approx(r["log_evidence"], abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(reals, variances, reals, variances), min_size=1, max_size=5))
def test_gaussian_kl_nonnegative_and_zero_on_itself(rows):
    mq, vq, mp, vp = (torch.tensor(c, dtype=torch.float64) for c in zip(*rows))
    assert float(gaussian_kl(mq, vq, mp, vp)) >= 0
    assert float(gaussian_kl(mq, vq, mq, vq)) == 0.0


def test_gaussian_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mq, mp = torch.randn(5, 3, generator=g, dtype=torch.float64), torch.randn(5, 3, generator=g, dtype=torch.float64)
    vq, vp = torch.rand(5, 3, generator=g, dtype=torch.float64) + 0.1, torch.rand(5, 3, generator=g, dtype=torch.float64) + 0.1
    ref = torch.distributions.kl_divergence(
        torch.distributions.Normal(mq, vq.sqrt()), torch.distributions.Normal(mp, vp.sqrt())
    ).sum(-1)
    torch.testing.assert_close(gaussian_kl(mq, vq, mp, vp), ref, atol=1e-12, rtol=0)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "args, error, match",
    [
        (([0.4, 0.7], [0.7, 0.2], [0.5, 0.5]), ValueError, "prior"),
        (([0.4, 0.6], [0.7, 0.2], [1.5, -0.5]), ValueError, "q"),
        (([0.4, 0.6], [0.7, -0.2], [0.5, 0.5]), ValueError, "likelihood"),
        (([0.4, 0.6], [0.7, 0.2, 0.1], [0.5, 0.5]), ValueError, "shape"),
        (([[0.4, 0.6]], [0.7, 0.2], [0.5, 0.5]), ValueError, "prior"),
        (([0.4, 0.6], [0.0, 0.0], [0.5, 0.5]), ValueError, "probability zero"),
        (([0.4, 0.6], [float("nan"), 0.2], [0.5, 0.5]), ValueError, "likelihood"),
        (("ab", [0.7, 0.2], [0.5, 0.5]), TypeError, "prior"),
        ((torch.tensor([1, 0]), [0.7, 0.2], [0.5, 0.5]), TypeError, "prior"),
    ],
)
def test_discrete_validation(args, error, match):
    with pytest.raises(error, match=match):
        discrete_elbo(*args)


def test_linear_gaussian_validation():
    with pytest.raises(ValueError, match="q_var"):
        linear_gaussian_elbo(1.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="noise_var"):
        linear_gaussian_elbo(1.0, 0.0, 1.0, noise_var=-1.0)
    with pytest.raises(ValueError, match="x"):
        linear_gaussian_elbo(float("inf"), 0.0, 1.0)
    with pytest.raises(TypeError, match="w"):
        linear_gaussian_elbo(1.0, 0.0, 1.0, w="2")


def test_gaussian_kl_validation():
    with pytest.raises(ValueError, match="var_q"):
        gaussian_kl(0.0, -1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="var_p"):
        gaussian_kl(0.0, 1.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="broadcast"):
        gaussian_kl(torch.zeros(3), torch.ones(2), 0.0, 1.0)
    with pytest.raises(ValueError, match="mu_p"):
        gaussian_kl(0.0, 1.0, float("nan"), 1.0)
    with pytest.raises(TypeError, match="mu_q"):
        gaussian_kl(None, 1.0, 0.0, 1.0)


def test_gaussian_kl_is_accurate_when_q_is_close_to_p():
    # KL(N(0, e^t) || N(0, 1)) = (e^t - 1 - t) / 2 = t^2/4 + t^3/12 + t^4/48 + ... for small t
    for t in (1e-3, 1e-5, 1e-7):
        exact = t**2 / 4 + t**3 / 12 + t**4 / 48
        kl = gaussian_kl(torch.tensor([0.0], dtype=torch.float64), torch.tensor([math.exp(t)], dtype=torch.float64),
                         torch.tensor([0.0], dtype=torch.float64), torch.tensor([1.0], dtype=torch.float64)).item()
        assert kl == pytest.approx(exact, rel=1e-6)
    assert gaussian_kl(0.3, 0.64, 0.3, 0.64).item() == 0.0
