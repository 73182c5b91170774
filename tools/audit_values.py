"""What the checks state, and when a number in the text matches it (for ``tools/audit_numbers.py``).

A number is read with :data:`NUMBER` (digits with thousands commas, decimals,
an exponent written ``e-15``, ``× 10^{-15}`` or ``× 10⁻¹⁵``, a percent sign) and
kept as its value and the unit of its last printed digit; :func:`backing`
finds the check line that states it to that precision (see the rules in
``tools/audit_numbers.py``).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

_PASS = re.compile(r"✔ check (?P<name>.+?) — (?P<expected>.*) \((?P<tolerance>[^()]*)\)$")

_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
# a number: optional sign, digits with thousands commas, decimals, exponent in one of the forms
NUMBER = re.compile(
    r"(?P<sign>[-−])?"
    r"(?P<mantissa>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?P<exponent>[eE][-+−]?\d+"
    r"|\s*(?:×|\\times|x|\\cdot|·)\s*10\^\{?[-−]?\d+\}?"
    r"|\s*(?:×|·)\s*10[⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+)?"
    r"(?P<percent>\s*(?:\\%|%))?"
)
_POWER_OF_TEN = re.compile(r"10(?:\^\{?(?P<a>[-−]?\d+)\}?|(?P<b>[⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+))")



def parse_number(match: re.Match) -> tuple[float, float, bool] | None:
    """(absolute value, unit of the last printed digit, percent) of a match of ``NUMBER``."""
    mantissa = match.group("mantissa").replace(",", "")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    value, exponent = float(mantissa), 0
    exp_text = (match.group("exponent") or "").translate(_SUPERSCRIPT).replace("−", "-")
    if exp_text:
        if exp_text.lower().startswith("e"):
            exponent = int(exp_text[1:])
        else:
            digits = re.search(r"10\^?\{?([-+]?\d+)", exp_text.replace(" ", ""))
            if not digits:
                return None
            exponent = int(digits.group(1))
    unit = 10.0 ** (exponent - decimals)
    return value * 10.0 ** exponent, unit, bool(match.group("percent"))


def power_of_ten(text: str) -> tuple[float, float] | None:
    """A bare power of ten written ``10^{-15}`` or ``10⁻¹⁵`` (value, unit)."""
    m = _POWER_OF_TEN.fullmatch(text.strip())
    if not m:
        return None
    exponent = int((m.group("a") or m.group("b")).translate(_SUPERSCRIPT).replace("−", "-"))
    return 10.0 ** exponent, 10.0 ** exponent


def _significant_digits(value: float, unit: float) -> int:
    return 0 if value == 0 else int(round(math.log10(value / unit))) + 1


def _numbers(text: str, digits_shown: int) -> list[tuple[float, float, bool]]:
    """(absolute value, unit of its last digit, whether it may be cut to ``digits_shown`` digits)."""
    values = []
    for m in NUMBER.finditer(text):
        parsed = parse_number(m)
        if parsed:
            values.append((parsed[0], parsed[1], _significant_digits(parsed[0], parsed[1]) >= digits_shown))
    for m in re.finditer(r"10\^\{?[-−]?\d+\}?|10[⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+", text):
        parsed = power_of_ten(m.group(0))
        if parsed:
            values.append((parsed[0], parsed[1], False))
    return values


def stated_values(text: str) -> list[tuple[float, float, bool]]:
    """Every number on a check line (name, value and tolerance).

    Each as (absolute value, unit of its last digit, cut): a check line shows a
    stated value with at most 10 significant digits and a bound with 6
    (``dlnotes/checking.py``), so a value with that many digits may have been cut.
    """
    line = _PASS.match(text.strip())
    if not line:
        return _numbers(text, 10 ** 6)
    expected = line.group("expected")
    bound = expected.startswith(("at least ", "at most ", "between "))
    return (_numbers(line.group("name"), 10 ** 6) + _numbers(expected, 6 if bound else 10)
            + _numbers(line.group("tolerance"), 10 ** 6))


def check_lines(ipynb: Path) -> list[str]:
    """The passed-check lines stored in a notebook's outputs."""
    if not ipynb.exists():
        return []
    nb = json.loads(ipynb.read_text(encoding="utf-8"))
    lines = []
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            text = out.get("text") or out.get("data", {}).get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else text
            lines += [line.strip() for line in text.splitlines() if _PASS.match(line.strip())]
    return lines


def backing(number: Any, checks: list[tuple[str, list[tuple[float, float, bool]]]]) -> str:
    """The first check line whose stated numbers match ``number`` to its printed precision.

    The text number must round to what the check states.  Where the check line
    may have cut the value (see :func:`stated_values`), a longer text number
    matches when it agrees to the digits shown.
    """
    targets = [(number.value, number.unit)]
    if number.percent:
        targets.append((number.value / 100, number.unit / 100))
    exact = "." not in number.text and "e" not in number.text.lower() and "10^" not in number.text \
        and not number.approximate and number.unit == 1
    for line, values in checks:
        for value, value_unit, cut in values:
            for target, unit in targets:
                if exact:
                    if value == target:
                        return line
                    continue
                tolerance = max(unit, value_unit) if cut else unit
                if abs(value - target) <= tolerance / 2 * (1 + 1e-9) + 1e-300:
                    return line
    return ""
