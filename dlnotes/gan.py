"""Gradient descent–ascent on the bilinear game f(p, q) = p·q (chapter *GAN training dynamics on a bilinear game*).

The player ``p`` minimises ``f`` and the player ``q`` maximises it; the partial
derivatives are ``df/dp = q`` and ``df/dq = p``.  The unique equilibrium is the
saddle point ``(0, 0)``.  :func:`gda` returns the iterates of four first-order
methods, each a linear map of the state:

* ``simultaneous``: both players step from the same point,
  ``p' = p - lr q``, ``q' = q + lr p``;
* ``alternating``: one player steps, the other answers the new position
  (``first="p"``: ``p' = p - lr q``, ``q' = q + lr p'``;
  ``first="q"``: ``q' = q + lr p``, ``p' = p - lr q'``);
* ``extragradient``: a simultaneous look-ahead step to ``(p~, q~)``, then a step
  from ``(p, q)`` with the gradients taken at the look-ahead point;
* ``optimistic``: ``z' = z + 2 lr V(z) - lr V(z_prev)`` with ``V(p, q) = (-q, p)``,
  the first step using ``z_prev = z_0`` (so it is a simultaneous step).
"""

from __future__ import annotations

import torch

from dlnotes._validate import require_int, require_real

__all__ = ["METHODS", "gda"]

#: The update rules :func:`gda` knows.
METHODS = ("simultaneous", "alternating", "extragradient", "optimistic")


def gda(
    p0: float,
    q0: float,
    *,
    lr: float = 1.0,
    steps: int = 10,
    method: str = "simultaneous",
    first: str = "p",
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """The trajectory of a descent–ascent method on ``min_p max_q p·q``.

    Args:
        p0, q0: the starting point, finite real numbers.
        lr: the step size ``eta``, a finite positive number.
        steps: the number of updates, an int ``>= 0``.
        method: one of ``"simultaneous"``, ``"alternating"``,
            ``"extragradient"``, ``"optimistic"`` (see the module docstring).
        first: for ``"alternating"``, which player moves first, ``"p"`` or
            ``"q"``; ignored by the other methods but still validated.
        device: where the returned tensor lives (default: the CPU).  The
            iteration itself runs in Python floats (IEEE double), so the digits
            do not depend on the device.

    Returns:
        float64 tensor of shape ``(steps + 1, 2)`` whose row ``t`` is
        ``(p_t, q_t)``; row 0 is ``(p0, q0)``.

    Raises:
        TypeError: an argument of the wrong type.
        ValueError: a non-finite start, a step size that is not positive, a
            negative ``steps``, an unknown ``method`` or ``first``.
    """
    p = require_real("p0", p0)
    q = require_real("q0", q0)
    eta = require_real("lr", lr, positive=True)
    steps = require_int("steps", steps, minimum=0)
    if not isinstance(method, str):
        raise TypeError(f"method must be a string, got {type(method).__name__}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    if not isinstance(first, str):
        raise TypeError(f"first must be a string, got {type(first).__name__}")
    if first not in ("p", "q"):
        raise ValueError(f"first must be 'p' or 'q', got {first!r}")

    rows = [(p, q)]
    prev_p, prev_q = p, q  # the previous iterate, for the optimistic method
    for _ in range(steps):
        if method == "simultaneous":
            p, q = p - eta * q, q + eta * p
        elif method == "alternating":
            if first == "p":
                p = p - eta * q
                q = q + eta * p
            else:
                q = q + eta * p
                p = p - eta * q
        elif method == "extragradient":
            p_look, q_look = p - eta * q, q + eta * p
            p, q = p - eta * q_look, q + eta * p_look
        else:  # optimistic
            new_p = p - 2 * eta * q + eta * prev_q
            new_q = q + 2 * eta * p - eta * prev_p
            prev_p, prev_q = p, q
            p, q = new_p, new_q
        rows.append((p, q))
    out = torch.tensor(rows, dtype=torch.float64)
    return out if device is None else out.to(device)
