"""``check``: the one way a chapter verifies a claim (see the preface, *How results are verified*).

A check compares what the code computed (``actual``) with what the text states
(``expected``).  It is strict by design, because a check that can pass on a wrong
value is worse than none:

* shapes must match exactly; nothing is broadcast;
* NaN never matches anything, and an infinity only the same infinity;
* integers (and booleans, strings, ``None``) are compared exactly;
* real numbers pass when ``|actual - expected| <= atol + rtol * |expected|``
  element by element; both tolerances default to 0, so a tolerance is always
  written down where the claim is made;
* a tolerance must be smaller than the value it guards (``rtol < 1`` and
  ``atol < max |expected|`` unless ``expected`` is all zeros).

On success ``check`` prints one line (so every check in a cell is visible, not
only the last) and returns a :class:`Checked` record; on failure it raises :class:`CheckFailed`, an ``AssertionError``,
so the notebook cell, nbval and the book build all fail.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch

from dlnotes._display import describe_expected, describe_tolerance
from dlnotes.runtime import seed_offset

__all__ = ["ABOUT_THIS_DRAW", "CheckFailed", "Checked", "check", "check_bound", "PASS_MARK", "SEPARATOR"]

#: The mark that starts every passed check's line; the ledger looks for it.
PASS_MARK = "✔ check"
#: Between the claim's name and its value on the check line.
SEPARATOR = " — "



class CheckFailed(AssertionError):
    """A stated result does not hold: raised by :func:`check` and :func:`check_bound`."""


@dataclass(frozen=True)
class Checked:
    """A passed check: what was claimed, the stated value, and the tolerance.

    Its text form is the single line a reader sees under the verification cell.
    Only device-independent facts are shown (the stated value and the tolerance,
    never the computed digits), so the stored notebook output is the same on
    every machine.
    """

    name: str
    expected: str
    tolerance: str
    worst_error: float = field(default=0.0, compare=False)

    def __repr__(self) -> str:
        return f"{PASS_MARK} {self.name}{SEPARATOR}{self.expected} ({self.tolerance})"

    __str__ = __repr__

    def _ipython_display_(self) -> None:
        # The line was already printed when the check ran; showing the returned
        # record again would print it twice.
        return None


# --------------------------------------------------------------------------- helpers


def _passed(record: Checked) -> Checked:
    # One write, so the line and its newline reach the notebook together.
    sys.stdout.write(f"{record}\n")
    sys.stdout.flush()
    return record


def _is_integral(x: Any) -> bool:
    return isinstance(x, Integral) and not isinstance(x, bool)


def _is_exact_leaf(x: Any) -> bool:
    return x is None or isinstance(x, (bool, str, bytes)) or _is_integral(x)


def _leaves(x: Any) -> list[Any]:
    """The non-sequence elements of a (nested) list or tuple."""
    if isinstance(x, Sequence) and not isinstance(x, (str, bytes)):
        return [leaf for item in x for leaf in _leaves(item)]
    return [x]


def _mixes_bools(x: Any) -> bool:
    """Whether a (nested) sequence holds booleans beside other values, e.g. ``(False, True, 1)``."""
    kinds = {isinstance(leaf, (bool, np.bool_)) for leaf in _leaves(x)}
    return kinds == {True, False}


def _to_array(x: Any) -> np.ndarray | None:
    """Numeric array for tensors, arrays and (nested) sequences of numbers, else None.

    A sequence that mixes booleans with numbers is not an array: NumPy would
    turn ``(False, True, 1)`` into ``[0, 1, 1]``, and booleans are compared as
    booleans, element by element."""
    if isinstance(x, torch.Tensor):
        t = x.detach()
        if t.is_complex():
            return t.to("cpu", torch.complex128).numpy()
        if t.dtype == torch.bool:
            return t.cpu().numpy()
        if t.is_floating_point():
            return t.to("cpu", torch.float64).numpy()
        return t.cpu().to(torch.int64).numpy()
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, np.generic):
        return np.asarray(x)
    if isinstance(x, bool):
        return None
    if isinstance(x, Real) or isinstance(x, complex):
        return np.asarray(x)
    if isinstance(x, Sequence) and not isinstance(x, (str, bytes)):
        if _mixes_bools(x):
            return None
        try:
            arr = np.asarray(x)
        except (ValueError, TypeError):
            return None
        if arr.dtype.kind in "biufc":
            return arr
    return None


def _fail(name: str, reason: str, actual: Any, expected: Any) -> CheckFailed:
    def short(v: Any) -> str:
        text = repr(v)
        return text if len(text) <= 400 else text[:397] + "..."

    return CheckFailed(
        f"check {name!r} failed: {reason}\n  actual:   {short(actual)}\n  expected: {short(expected)}"
    )


def _validate_name(name: Any) -> None:
    if not isinstance(name, str) or not name.strip():
        raise TypeError("name must be a non-empty string describing the claim")
    # The check line reads "<mark> <name> — <value> (<tolerance>)" and the ledger
    # parses it back, so the name may not contain that separator.
    if SEPARATOR in name or "\n" in name:
        raise ValueError(f"name must not contain {SEPARATOR!r} or a line break (it separates the name from the "
                         f"value on the check line), got {name!r}")


def _validate_tolerances(rtol: Any, atol: Any) -> tuple[float, float]:
    for label, tol in (("rtol", rtol), ("atol", atol)):
        if isinstance(tol, bool) or not isinstance(tol, Real):
            raise TypeError(f"{label} must be a real number, got {type(tol).__name__}")
        if not math.isfinite(float(tol)) or float(tol) < 0:
            raise ValueError(f"{label} must be finite and non-negative, got {tol}")
    if float(rtol) >= 1:
        raise ValueError(f"rtol must be below 1 (a relative error of 100% proves nothing), got {rtol}")
    return float(rtol), float(atol)


# --------------------------------------------------------------------------- comparison


def _compare(name: str, actual: Any, expected: Any, rtol: float, atol: float, path: str) -> tuple[float, bool]:
    """Compare recursively; return (worst error, whether the comparison was exact)."""
    where = f" at {path}" if path else ""

    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            raise _fail(name, f"expected a mapping{where}, got {type(actual).__name__}", actual, expected)
        if set(actual) != set(expected):
            raise _fail(name, f"keys differ{where}: {sorted(map(str, actual))} vs {sorted(map(str, expected))}",
                        actual, expected)
        worst, exact = 0.0, True
        for key in expected:
            w, e = _compare(name, actual[key], expected[key], rtol, atol, f"{path}[{key!r}]")
            worst, exact = max(worst, w), exact and e
        return worst, exact

    if _is_integral(expected) and _is_integral(actual):
        if int(actual) != int(expected):
            raise _fail(name, f"integers differ{where}", actual, expected)
        return 0.0, True

    if _is_exact_leaf(expected) or _is_exact_leaf(actual):
        if isinstance(expected, bool) or isinstance(actual, bool) or expected is None or actual is None \
                or isinstance(expected, (str, bytes)) or isinstance(actual, (str, bytes)):
            if type(actual) is not type(expected) or actual != expected:
                raise _fail(name, f"values differ{where}", actual, expected)
            return 0.0, True
        # an integer against a number: compare numerically below

    exp_arr, act_arr = _to_array(expected), _to_array(actual)
    if exp_arr is None or act_arr is None:
        if isinstance(expected, Sequence) and not isinstance(expected, (str, bytes)):
            if not isinstance(actual, Sequence) or isinstance(actual, (str, bytes)):
                raise _fail(name, f"expected a sequence{where}, got {type(actual).__name__}", actual, expected)
            if len(actual) != len(expected):
                raise _fail(name, f"lengths differ{where}: {len(actual)} vs {len(expected)}", actual, expected)
            worst, exact = 0.0, True
            for i, (a, e) in enumerate(zip(actual, expected)):
                w, ex = _compare(name, a, e, rtol, atol, f"{path}[{i}]")
                worst, exact = max(worst, w), exact and ex
            return worst, exact
        raise _fail(name, f"cannot compare {type(actual).__name__} with {type(expected).__name__}{where}",
                    actual, expected)

    if act_arr.shape != exp_arr.shape:
        raise _fail(name, f"shapes differ{where}: {act_arr.shape} vs {exp_arr.shape} (nothing is broadcast)",
                    actual, expected)
    if exp_arr.dtype.kind == "b" or act_arr.dtype.kind == "b":
        if exp_arr.dtype.kind != act_arr.dtype.kind or not np.array_equal(act_arr, exp_arr):
            raise _fail(name, f"boolean values differ{where}", actual, expected)
        return 0.0, True
    if act_arr.size == 0:
        return 0.0, True

    if exp_arr.dtype.kind in "iu" and act_arr.dtype.kind in "iu":
        if not np.array_equal(act_arr, exp_arr):
            bad = int(np.argmax(act_arr.reshape(-1) != exp_arr.reshape(-1)))
            raise _fail(name, f"integers differ{where} (first at flat index {bad})", actual, expected)
        return 0.0, True

    act_c = act_arr.astype(np.complex128) if act_arr.dtype.kind == "c" or exp_arr.dtype.kind == "c" \
        else act_arr.astype(np.float64)
    exp_c = exp_arr.astype(act_c.dtype)
    if np.isnan(exp_c).any():
        raise ValueError(f"expected value of check {name!r} contains NaN; NaN can never be confirmed")
    if np.isnan(act_c).any():
        raise _fail(name, f"actual value contains NaN{where}", actual, expected)
    scale = float(np.max(np.abs(exp_c[np.isfinite(exp_c)]), initial=0.0))
    if scale > 0 and atol >= scale:
        raise ValueError(
            f"atol={atol:g} for check {name!r} is not smaller than the largest expected value {scale:g}; "
            "it could not tell a right value from a wrong one"
        )
    inf_mask = ~np.isfinite(exp_c) | ~np.isfinite(act_c)
    if inf_mask.any() and not np.array_equal(act_c[inf_mask], exp_c[inf_mask]):
        raise _fail(name, f"infinite values differ{where}", actual, expected)
    fin = ~inf_mask
    err = np.abs(act_c[fin] - exp_c[fin])
    allowed = atol + rtol * np.abs(exp_c[fin])
    worst = float(err.max(initial=0.0))
    if (err > allowed).any():
        idx = int(np.argmax(err - allowed))
        rel = float(err[idx] / abs(exp_c[fin][idx])) if exp_c[fin][idx] != 0 else math.inf
        raise _fail(
            name,
            f"worst error{where} {worst:.3g} (relative {rel:.3g}) exceeds the tolerance "
            f"atol={atol:g}, rtol={rtol:g}",
            actual,
            expected,
        )
    return worst, False


ABOUT_THIS_DRAW = "about this draw"


def _draw_skipped(name: str, shown: str, about_this_draw: Any) -> Checked | None:
    """Under a seed offset, a fact about the book's own draw is not checked (see ``about_this_draw``)."""
    if not isinstance(about_this_draw, bool):
        raise TypeError(f"about_this_draw must be a bool, got {type(about_this_draw).__name__}")
    if about_this_draw and seed_offset() != 0:
        return _passed(Checked(name=name.strip(), expected=shown,
                               tolerance=f"{ABOUT_THIS_DRAW}: not checked under seed offset {seed_offset()}"))
    return None


def check(name: str, actual: Any, expected: Any, *, rtol: float = 0.0, atol: float = 0.0,
          about_this_draw: bool = False) -> Checked:
    """Verify that ``actual`` equals the stated ``expected`` value within the tolerance.

    Args:
        name: the claim in words, as it appears in the text and the ledger.
        actual: what the code computed: a number, tensor, array, or a (nested)
            sequence or mapping of those; strings, booleans and ``None`` too.
        expected: the value the text states, of the same structure and shape.
        rtol: relative tolerance, ``0 <= rtol < 1``.
        atol: absolute tolerance, smaller than the largest ``|expected|``.
        about_this_draw: the claim is a fact about the book's own random draw
            (seed offset 0), not about every draw; the ledger says so and a
            run under another seed offset (``make test-seeds``) skips it.
            Use sparingly: a claim about deep learning holds for any draw.

    Returns:
        A :class:`Checked` record; its one-line text is printed as well.

    Raises:
        CheckFailed: the values differ by more than the tolerance, or in shape,
            type, NaN or infinity.
        TypeError, ValueError: the check itself is malformed (bad name or
            tolerance, NaN in ``expected``).
    """
    _validate_name(name)
    rtol, atol = _validate_tolerances(rtol, atol)
    shown = describe_expected(expected, _to_array(expected))
    skipped = _draw_skipped(name, shown, about_this_draw)
    if skipped is not None:
        return skipped
    worst, exact = _compare(name, actual, expected, rtol, atol, "")
    tolerance = describe_tolerance(rtol, atol, exact) + (f"; {ABOUT_THIS_DRAW}" if about_this_draw else "")
    return _passed(Checked(name=name.strip(), expected=shown, tolerance=tolerance, worst_error=worst))


def check_bound(name: str, actual: Any, *, lower: float | None = None, upper: float | None = None,
                about_this_draw: bool = False) -> Checked:
    """Verify ``lower <= actual <= upper`` for every element (a claimed inequality).

    Use it for bounds the text derives (an error bound, a monotone decrease),
    not to loosen an equality: those belong in :func:`check` with a tolerance.

    ``about_this_draw`` is as in :func:`check`.

    Raises:
        CheckFailed: some element lies outside the bounds, or is NaN.
        TypeError, ValueError: no bound given, or a bound is NaN or not a number.
    """
    _validate_name(name)
    if lower is None and upper is None:
        raise ValueError("check_bound needs lower, upper or both")
    for label, bound in (("lower", lower), ("upper", upper)):
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, Real) or math.isnan(bound)):
            raise TypeError(f"{label} must be a real number, got {bound!r}")
    if lower is not None and upper is not None:
        shown = f"between {lower:.6g} and {upper:.6g}"
    elif upper is not None:
        shown = f"at most {upper:.6g}"
    else:
        shown = f"at least {lower:.6g}"
    skipped = _draw_skipped(name, shown, about_this_draw)
    if skipped is not None:
        return skipped
    arr = _to_array(actual)
    if arr is None or arr.dtype.kind not in "iuf" or arr.size == 0:
        raise TypeError(f"actual must be a non-empty real number or tensor, got {type(actual).__name__}")
    values = arr.astype(np.float64)
    if np.isnan(values).any():
        raise _fail(name, "actual value contains NaN", actual, (lower, upper))
    if lower is not None and (values < lower).any():
        raise _fail(name, f"smallest value {values.min():.6g} is below the lower bound {lower:g}",
                    actual, (lower, upper))
    if upper is not None and (values > upper).any():
        raise _fail(name, f"largest value {values.max():.6g} is above the upper bound {upper:g}",
                    actual, (lower, upper))
    return _passed(Checked(name=name.strip(), expected=shown,
                           tolerance="bound" + (f"; {ABOUT_THIS_DRAW}" if about_this_draw else "")))
