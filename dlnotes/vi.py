"""The evidence lower bound, computed exactly (chapter *The evidence lower bound*).

Two latent-variable models small enough that every term of the ELBO identity

    log p(x) = ELBO(q) + KL(q(z|x) || p(z|x)),
    ELBO(q)  = E_q[log p(x|z)] - KL(q(z|x) || p(z)),

is available in closed form: a model with a finite latent variable
(:func:`discrete_elbo`) and a scalar linear-Gaussian model
(:func:`linear_gaussian_elbo`).  :func:`gaussian_kl` is the KL divergence between
diagonal Gaussians that both use.
"""

from __future__ import annotations

import math

import torch

from dlnotes._validate import (
    as_tensor,
    require_finite,
    require_ndim,
    require_nonempty,
    require_real,
    require_same_device,
)

__all__ = ["gaussian_kl", "discrete_elbo", "linear_gaussian_elbo"]

#: How far a probability vector's sum may stray from one (rounding in float32 inputs).
_SUM_TOL = 1e-6


def gaussian_kl(
    mu_q: torch.Tensor, var_q: torch.Tensor, mu_p: torch.Tensor, var_p: torch.Tensor
) -> torch.Tensor:
    """KL(N(mu_q, diag var_q) || N(mu_p, diag var_p)), summed over the last dimension.

    Per coordinate the divergence is
    ``0.5 * (log(var_p / var_q) + (var_q + (mu_q - mu_p)**2) / var_p - 1)``
    (chapter *The evidence lower bound*, eq. ``eq-elbo-gaussian-kl``).

    Args:
        mu_q, var_q: mean and variance of the first Gaussian, shape ``(..., d)``.
        mu_p, var_p: mean and variance of the second Gaussian, shape ``(..., d)``.
            The four arguments must broadcast together; numbers are accepted and
            treated as ``d = 1``.  Variances must be positive.

    Returns:
        Tensor of shape ``(...)`` (the broadcast shape without its last
        dimension; a 0-d tensor for vector or scalar inputs), non-negative.

    Raises:
        TypeError: a non-floating argument.
        ValueError: non-finite values, a variance that is not positive, shapes
            that do not broadcast, or tensors on different devices.
    """
    raw = {"mu_q": mu_q, "var_q": var_q, "mu_p": mu_p, "var_p": var_p}
    args = {name: as_tensor(name, value) for name, value in raw.items()}
    for name, t in args.items():
        require_nonempty(name, t)
        require_finite(name, t)
    for name in ("var_q", "var_p"):
        if not bool((args[name] > 0).all()):
            raise ValueError(f"{name} must be positive (a variance), got a value <= 0")
    # Plain numbers adopt the device of the tensor arguments; tensors must agree.
    given = {name: args[name] for name, value in raw.items() if isinstance(value, torch.Tensor)}
    if given:
        require_same_device(**given)
    dev = next(iter(given.values())).device if given else torch.device("cpu")
    # Plain numbers also adopt the tensors' dtype (float64 when all are numbers).
    dtypes = [t.dtype for t in (given or args).values()]
    dtype = dtypes[0]
    for other in dtypes[1:]:
        dtype = torch.promote_types(dtype, other)
    mq, vq, mp, vp = (t.to(device=dev, dtype=dtype) for t in args.values())
    try:
        shape = torch.broadcast_shapes(mq.shape, vq.shape, mp.shape, vp.shape)
    except RuntimeError:
        shapes = ", ".join(f"{n} {tuple(t.shape)}" for n, t in args.items())
        raise ValueError(f"mu_q, var_q, mu_p and var_p must broadcast to one shape (..., d), got {shapes}") from None
    # log(vp/vq) + vq/vp - 1 = expm1(t) - t with t = log(vq/vp): written this way the
    # variance part does not cancel catastrophically when q is close to p (the direct
    # form loses about 1e-16 / t^2 in relative accuracy, this one about 1e-16 / t).
    t = torch.log(vq) - torch.log(vp)
    per_coord = 0.5 * ((torch.expm1(t) - t) + (mq - mp) ** 2 / vp)
    per_coord = per_coord.expand(shape)
    # Each coordinate is >= 0 mathematically and, in this form, up to one rounding
    # of expm1; the clamp only guards that last rounding.  At q = p, where it can
    # act, the true gradient is zero as well, so it hides no gradient.
    if per_coord.ndim == 0:
        return per_coord.clamp_min(0.0)
    return per_coord.clamp_min(0.0).sum(-1)


def _probability_vector(name: str, value: object) -> torch.Tensor:
    t = as_tensor(name, value, dtype=torch.float64)
    require_ndim(name, t, 1, "(K,)")
    require_nonempty(name, t)
    require_finite(name, t)
    if bool((t < 0).any()):
        raise ValueError(f"{name} must be a probability vector of shape (K,): it has a negative entry")
    total = float(t.sum())
    if abs(total - 1.0) > _SUM_TOL:
        raise ValueError(f"{name} must be a probability vector of shape (K,) summing to one, but it sums to {total:.10g}")
    return t


def discrete_elbo(prior: torch.Tensor, likelihood: torch.Tensor, q: torch.Tensor) -> dict[str, float]:
    """Every term of the ELBO identity for a latent variable with ``K`` values.

    The model is ``z ~ prior`` on ``{0, ..., K-1}`` and an observed ``x`` whose
    likelihood under each latent value is ``likelihood[z] = p(x | z)``; ``q`` is
    an approximate posterior over ``z``.  Every expectation is an exact finite
    sum, computed in float64 (chapter *The evidence lower bound*).

    Args:
        prior: ``p(z)``, shape ``(K,)``, non-negative and summing to one.
        likelihood: ``p(x | z)`` for the observed ``x``, shape ``(K,)``,
            non-negative (a probability or a density value) with
            ``sum_z p(z) p(x|z) > 0``.
        q: ``q(z | x)``, shape ``(K,)``, non-negative and summing to one.

    Returns:
        dict[str, float]: the terms of the ELBO identity, as Python floats.

        * ``log_evidence``: ``log p(x) = log sum_z p(z) p(x|z)``;
        * ``elbo``: ``E_q[log p(x, z) - log q(z)]`` (``-inf`` when ``q`` puts
          mass where ``p(x, z) = 0``);
        * ``kl_posterior``: ``KL(q || p(z|x))``, so that
          ``log_evidence = elbo + kl_posterior``;
        * ``reconstruction``: ``E_q[log p(x|z)]``;
        * ``kl_prior``: ``KL(q || p(z))``, so that ``elbo = reconstruction - kl_prior``.

        Terms with ``q(z) = 0`` contribute nothing (``0 log 0 = 0``).

    Raises:
        TypeError, ValueError: an argument of the wrong type or shape, a
            probability vector that is negative or does not sum to one, or a
            model under which ``x`` has probability zero.
    """
    prior = _probability_vector("prior", prior)
    q = _probability_vector("q", q)
    likelihood = as_tensor("likelihood", likelihood, dtype=torch.float64)
    require_ndim("likelihood", likelihood, 1, "(K,)")
    require_finite("likelihood", likelihood)
    if bool((likelihood < 0).any()):
        raise ValueError("likelihood must be non-negative (p(x|z) for each z), got a negative entry")
    prior, likelihood, q = prior.cpu(), likelihood.cpu(), q.cpu()
    k = prior.shape[0]
    if likelihood.shape[0] != k or q.shape[0] != k:
        raise ValueError(
            f"prior, likelihood and q must all have shape (K,) with one K, got {tuple(prior.shape)}, "
            f"{tuple(likelihood.shape)} and {tuple(q.shape)}"
        )
    joint = prior * likelihood
    evidence = float(joint.sum())
    if evidence <= 0:
        raise ValueError("the observation has probability zero under prior and likelihood (sum_z p(z) p(x|z) = 0)")
    posterior = joint / evidence
    neg_entropy = float(torch.xlogy(q, q).sum())
    reconstruction = float(torch.xlogy(q, likelihood).sum())
    # KL terms are >= 0; max(0, .) only removes rounding below zero.
    kl_prior = max(0.0, neg_entropy - float(torch.xlogy(q, prior).sum()))
    kl_posterior = max(0.0, neg_entropy - float(torch.xlogy(q, posterior).sum()))
    elbo = float(torch.xlogy(q, joint).sum()) - neg_entropy
    return {
        "log_evidence": math.log(evidence),
        "elbo": elbo,
        "kl_posterior": kl_posterior,
        "reconstruction": reconstruction,
        "kl_prior": kl_prior,
    }


def linear_gaussian_elbo(
    x: float,
    q_mean: float,
    q_var: float,
    *,
    w: float = 1.0,
    prior_var: float = 1.0,
    noise_var: float = 1.0,
) -> dict[str, float]:
    """Every term of the ELBO identity, in closed form, for a scalar linear-Gaussian model.

    Model: ``z ~ N(0, prior_var)`` and ``x | z ~ N(w z, noise_var)``; the
    approximate posterior is ``q = N(q_mean, q_var)``.  Then
    ``x ~ N(0, w² prior_var + noise_var)`` and the exact posterior is Gaussian
    with precision ``1/prior_var + w²/noise_var`` (chapter *The evidence lower
    bound*, eqs. ``eq-elbo-lg-evidence`` to ``eq-elbo-lg-recon``).

    Args:
        x: the observation, a finite real number (or a one-element tensor).
        q_mean, q_var: mean and (positive) variance of ``q``.
        w: the loading, any finite real number.
        prior_var, noise_var: positive variances.

    Returns:
        dict[str, float]: the terms as Python floats, under the keys of :func:`discrete_elbo`,
        ``log_evidence``, ``elbo``, ``kl_posterior``, ``reconstruction``,
        ``kl_prior``.

    Raises:
        TypeError: an argument that is not a real number.
        ValueError: a non-finite argument or a variance that is not positive.
    """
    x = require_real("x", x)
    q_mean = require_real("q_mean", q_mean)
    q_var = require_real("q_var", q_var, positive=True)
    w = require_real("w", w)
    prior_var = require_real("prior_var", prior_var, positive=True)
    noise_var = require_real("noise_var", noise_var, positive=True)

    marginal_var = w * w * prior_var + noise_var
    log_evidence = -0.5 * math.log(2 * math.pi * marginal_var) - x * x / (2 * marginal_var)
    post_var = 1.0 / (1.0 / prior_var + w * w / noise_var)
    post_mean = post_var * w * x / noise_var
    reconstruction = -0.5 * math.log(2 * math.pi * noise_var) - ((x - w * q_mean) ** 2 + w * w * q_var) / (
        2 * noise_var
    )
    kl_prior = _kl1(q_mean, q_var, 0.0, prior_var)
    kl_posterior = _kl1(q_mean, q_var, post_mean, post_var)
    return {
        "log_evidence": log_evidence,
        "elbo": reconstruction - kl_prior,
        "kl_posterior": kl_posterior,
        "reconstruction": reconstruction,
        "kl_prior": kl_prior,
    }


def _kl1(mq: float, vq: float, mp: float, vp: float) -> float:
    """KL(N(mq, vq) || N(mp, vp)) for scalars, in the same cancellation-free form as :func:`gaussian_kl`."""
    t = math.log(vq) - math.log(vp)
    return max(0.0, 0.5 * ((math.expm1(t) - t) + (mq - mp) ** 2 / vp))
