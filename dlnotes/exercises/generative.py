"""Exercises of the part Generative models: elbo, gan_dynamics.

Registered in book order: the chapters as ``_toc.yml`` lists them, the exercises as each
chapter writes them.  References are computed, not typed in, where a formula exists.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .engine import Mistake, register
from .kinds import Choice, Count, Kind, Number, Tuple, as_array

# --------------------------------------------------------------- Generative models: elbo

_CH = "elbo"


def _kl(p: Sequence[float], q: Sequence[float]) -> float:
    return sum(a * math.log(a / b) for a, b in zip(p, q) if a > 0)


_RECON = 0.4 * math.log(0.7) + 0.6 * math.log(0.2)
_ENTROPY = -(0.4 * math.log(0.4) + 0.6 * math.log(0.6))

register(
    "elbo-prior-as-q", _CH, "The prior as the approximate posterior",
    Tuple("(ELBO, gap, the term of eq-elbo-split that vanishes)",
           Number("the ELBO", decimals=3), Number("the gap", decimals=3),
           Choice("the vanishing term", {"reconstruction": ("recon", "likelihood"),
                                          "regulariser": ("regularizer", "kl", "kl to the prior", "prior kl"),
                                          "entropy": ("h(q)",)})),
    (_RECON, _kl((0.4, 0.6), (0.7, 0.3)), "regulariser"),
    "Not yet. With q equal to the prior, evaluate both terms of eq-elbo-split; the gap is the KL divergence "
    "from q to the exact posterior.",
    [
        Mistake("The entropy of q = (0.4, 0.6) is far from zero, and it is not a term of eq-elbo-split: the "
                 "regulariser there is -KL(q || p(z)) = H(q) + E_q[log p(z)]. Ask which term compares q with "
                 "the prior.",
                 part=2, value="entropy", example=(_RECON, _kl((0.4, 0.6), (0.7, 0.3)), "entropy")),
        Mistake("That ELBO adds the entropy of q to the reconstruction term and drops E_q[log p(z)]: the "
                 "regulariser is -KL(q || p(z)) = H(q) + E_q[log p(z)].",
                 part=0, value=_RECON + _ENTROPY,
                 example=(_RECON + _ENTROPY, _kl((0.4, 0.6), (0.7, 0.3)), "regulariser")),
        Mistake("The gap is KL(q || p(z | x)), with q first; the KL divergence is not symmetric.",
                 part=1, value=_kl((0.7, 0.3), (0.4, 0.6)),
                 example=(_RECON, _kl((0.7, 0.3), (0.4, 0.6)), "regulariser")),
        Mistake("Nothing in the reconstruction term vanishes: log p(x | z) is negative for both z.",
                 part=2, value="reconstruction", example=(_RECON, _kl((0.4, 0.6), (0.7, 0.3)), "reconstruction")),
    ],
)

_GAP_FIXED = 0.5 * (math.log(0.5) + 1 / 0.5 - 1)

register(
    "elbo-fixed-variance", _CH, "A variance that is fixed too wide",
    Tuple("(the best mean m, the smallest gap)", Number("the best mean m", decimals=3),
           Number("the smallest gap", decimals=3)),
    (0.5, _GAP_FIXED),
    "Not yet. Maximising the ELBO over m minimises KL(N(m, 1) || p(z | x)); find the exact posterior first.",
    [
        Mistake("The posterior mean is shrunk toward the prior's mean 0: it is not the observation x.",
                 part=0, value=1.0, example=(1.0, _GAP_FIXED)),
        Mistake("q's variance is fixed at 1 while the posterior's is smaller, so the gap cannot vanish.",
                 part=1, value=0.0, example=(0.5, 0.0)),
        Mistake("Check the sign of the log-variance term in the Gaussian KL divergence.",
                 part=1, value=0.5 * (1 + math.log(2)), example=(0.5, 0.5 * (1 + math.log(2)))),
        Mistake("The gap is KL(q || p(z | x)), with q first; the KL divergence is not symmetric.",
                 part=1, value=0.5 * (math.log(2) + 0.5 - 1), example=(0.5, 0.5 * (math.log(2) + 0.5 - 1))),
    ],
)

register(
    "elbo-samples", _CH, "How many samples for three decimals?",
    Count("the number of samples S"), round(0.1416 / 1e-3**2),
    "Not yet. The RMSE of the Monte Carlo mean is sigma_g / sqrt(S); take sigma_g^2 from eq-elbo-mc-var.",
    [
        Mistake("The RMSE is sigma_g / sqrt(S): square the target error as well as sigma_g.",
                 value=round(0.1416 / 1e-3)),
        Mistake("Use the variance sigma_g^2 over the squared error, not the standard deviation sigma_g.",
                 value=round(math.sqrt(0.1416) / 1e-3**2)),
    ],
)


def _columns_correlated(W: np.ndarray) -> bool:
    """Whether W^T W has an off-diagonal entry that is not zero up to rounding, relative to its columns.

    The test is scale-free: G_ij against sqrt(G_ii G_jj), the cosine of the angle between columns i and
    j, so a matrix of tiny entries is judged like the same matrix scaled up.  A zero column is
    orthogonal to every column.
    """
    G = W.T @ W
    norms = np.sqrt(np.diag(G))
    cosines = np.abs(G) / np.maximum(np.outer(norms, norms), np.finfo(np.float64).tiny)
    np.fill_diagonal(cosines, 0.0)
    return bool((cosines > 1e-9).any())


class _Matrix(Kind):
    expects = "a matrix W of shape (d, k) with k >= 2 latent dimensions (tensor, array or nested list)"

    def normalise(self, x: Any) -> np.ndarray:
        return as_array(x, "a matrix W of shape (d, k)", ndim=2)


register(
    "elbo-diagonal", _CH, "When can a diagonal encoder be exact?",
    _Matrix(), ((1.0, 1.0), (0.0, 1.0)),
    "Not yet. The posterior covariance is diagonal exactly when W^T W is; compute W^T W for your matrix.",
    [
        Mistake("With a single latent dimension every covariance is a 1 x 1 matrix, which is diagonal: a "
                 "diagonal encoder is exact there. Take at least two latent dimensions.",
                 predicate=lambda W: W.shape[1] < 2, example=((1.0,), (2.0,))),
        Mistake("Your W has orthogonal columns, so W^T W is diagonal and so is the posterior covariance: a "
                 "diagonal encoder can be exact for it.",
                 predicate=lambda W: W.shape[1] >= 2 and not _columns_correlated(W), example=((2.0, 0.0), (0.0, 1.0))),
    ],
    accepts=lambda W: W.shape[1] >= 2 and _columns_correlated(W),
)

# --------------------------------------------------------------- Generative models: gan_dynamics

_CH = "gan_dynamics"

register(
    "gan-dynamics-doubling", _CH, "How long until the norm doubles?",
    Count("the number of steps"), math.ceil(2 * math.log(2) / math.log(1.01)),
    "Not yet. Use eq-gan-sim: the norm after t steps is (1 + eta^2)^(t/2) times the start; find the first "
    "whole t at which it reaches 2.",
    [
        Mistake("One step short: after that many steps the norm is still below twice the start. Round up.",
                 value=math.floor(2 * math.log(2) / math.log(1.01))),
        Mistake("The norm grows by sqrt(1 + eta^2) per step, the square root of 1 + eta^2.",
                 value=math.ceil(math.log(2) / math.log(1.01))),
        Mistake("The growth factor per step is sqrt(1 + eta^2), not 1 + eta.",
                 value=math.ceil(math.log(2) / math.log(1.1))),
    ],
)

register(
    "gan-dynamics-period", _CH, "A period of four",
    Number("the step size eta", decimals=3), math.sqrt(2),
    "Not yet. The alternating update turns the iterate by theta with cos(theta) = 1 - eta^2/2; a period of "
    "four needs a quarter turn per step.",
    [
        Mistake("That is eta^2; the step size is its square root.", value=2.0),
        Mistake("That is the angle theta per step, not the step size: eta follows from cos(theta) = 1 - eta^2/2.",
                 value=math.pi / 2),
        Mistake("With that step the turn is a sixth of a circle, a period of six.", value=1.0),
    ],
)

register(
    "gan-dynamics-eg-step", _CH, "The best step for extragradient",
    Tuple("(the best step eta, the factor by which the norm shrinks per step)",
           Number("the best step eta", decimals=3), Number("the shrink factor per step", decimals=3)),
    (1 / math.sqrt(2), math.sqrt(3) / 2),
    "Not yet. The squared contraction factor of extragradient is g(eta) = 1 - eta^2 + eta^4; minimise it.",
    [
        Mistake("That is g, the squared factor; the norm shrinks by its square root.", part=1, value=3 / 4,
                 example=(1 / math.sqrt(2), 3 / 4)),
        Mistake("Those belong to optimistic GDA, at its best step; the question is about extragradient.",
                 value=(0.5, 1 / math.sqrt(2))),
    ],
)
