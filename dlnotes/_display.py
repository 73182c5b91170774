"""How a check line shows the stated value and the tolerance (see :mod:`dlnotes.checking`).

Only device-independent facts are shown: the value the text states, written as a
reader writes it, and the tolerance; never the computed digits, so a stored
notebook output is the same on every machine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch

_MAX_SHOWN = 32  # elements of a literal expected value shown in full on the check line
_MAX_TEXT = 400  # characters of a non-numeric expected value shown on the check line


def format_number(x: Any, grouped: bool = True) -> str:
    """A number as the text states it; ``grouped`` puts thousands separators in (2,362,368).

    Inside a tuple, list or dict the separators are left out, where a comma
    already separates the values: (2304, 768), not (2,304, 768).
    """
    comma = "," if grouped else ""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (Integral, np.integer)):
        return f"{int(x):{comma}}"
    if isinstance(x, complex) or isinstance(x, np.complexfloating):
        return f"{complex(x):.10g}"
    return f"{float(x):{comma}.10g}"


def show_value(x: Any, grouped: bool = True) -> str:
    """A literal stated value as a reader writes it: tuples in parentheses, lists in
    brackets, dicts as ``{key: value}``, a number on its own with thousands separators."""
    if isinstance(x, (torch.Tensor, np.ndarray)):
        if x.ndim == 0:
            return format_number(x.item(), grouped)
        return f"a reference of shape {tuple(x.shape)}"
    if isinstance(x, (str, bytes)):
        return repr(str(x)) if isinstance(x, str) else repr(bytes(x))  # np.str_ shows as a plain string
    if isinstance(x, (bool, np.bool_, Integral, np.integer, Real, complex, np.number)):
        return format_number(x, grouped)
    if isinstance(x, Mapping):
        return "{" + ", ".join(f"{show_value(k, False)}: {show_value(v, False)}" for k, v in x.items()) + "}"
    if isinstance(x, tuple):
        inner = [show_value(v, False) for v in x]
        return "(" + inner[0] + ",)" if len(inner) == 1 else "(" + ", ".join(inner) + ")"
    if isinstance(x, Sequence) and not isinstance(x, (str, bytes)):
        items = list(x)
        if len(items) > _MAX_SHOWN:
            # the first values and the last, and how many there are
            return ("[" + ", ".join(show_value(v, False) for v in items[:4]) + f", …, {show_value(items[-1], False)}] "
                    f"({len(items)} values)")
        return "[" + ", ".join(show_value(v, False) for v in items) + "]"
    return repr(x)


def describe_expected(expected: Any, arr: np.ndarray | None) -> str:
    """How the stated value is shown on the check line (device-independent)."""
    if isinstance(expected, (torch.Tensor, np.ndarray)) and arr is not None and arr.ndim > 0:
        # A computed reference: its last digits may differ between machines,
        # so only its shape is shown.
        return f"matches the reference of shape {tuple(arr.shape)}"
    if arr is not None and arr.ndim == 0:
        return format_number(arr.item())
    if arr is not None and arr.size > _MAX_SHOWN and arr.ndim > 1:
        return f"values of shape {tuple(arr.shape)}"
    text = show_value(expected)
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT - 3] + "..."


def describe_tolerance(rtol: float, atol: float, exact: bool) -> str:
    if exact or (rtol == 0 and atol == 0):
        return "exact"
    parts = []
    if atol:
        parts.append(f"atol {atol:.1g}")
    if rtol:
        parts.append(f"rtol {rtol:.1g}")
    return ", ".join(parts)
