"""Answer kinds of the exercise checker: how an answer is read, normalised and compared.

Each kind turns what a reader typed (a number, an array, a function, a choice) into a normal form, or
raises :class:`WrongKind` with a message that says what was expected.  Used by every part module
of :mod:`dlnotes.exercises`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch

N_RANDOM = 50  # random inputs per function answer, besides the edge cases
LOW_PRECISION_SLACK = 1e-5  # relative error a float32 computation may carry: beyond it, not a rounding matter
LOW_PRECISION = ("float16", "bfloat16", "float32")



class WrongKind(Exception):
    """The answer is not of the kind the exercise asks for; the text says what is."""


def type_name(x: Any) -> str:
    if isinstance(x, (torch.Tensor, np.ndarray)):
        return f"{type(x).__name__} of shape {tuple(x.shape)}"
    return type(x).__name__


def real_scalar(x: Any, what: str) -> float:
    """A finite real number from a Python/NumPy number or a 0-d tensor/array."""
    if isinstance(x, (bool, np.bool_)):
        raise WrongKind(f"expected {what}, got a bool")
    if isinstance(x, (torch.Tensor, np.ndarray)):
        if x.ndim != 0 and (x.ndim != 1 or x.shape[0] != 1):  # a one-element vector is one number too
            raise WrongKind(f"expected {what} (a single number), got {type_name(x)}")
        x = x.reshape(())
        if isinstance(x, torch.Tensor):
            if x.is_complex() or x.dtype == torch.bool:
                raise WrongKind(f"expected {what}, got a {x.dtype} tensor")
            x = x.detach().cpu().double().item()
        else:
            if x.dtype.kind not in "iuf":
                raise WrongKind(f"expected {what}, got an array of dtype {x.dtype}")
            x = float(x)
    if not isinstance(x, Real):
        raise WrongKind(f"expected {what}, got {type_name(x)}")
    value = float(x)
    if not math.isfinite(value):
        raise WrongKind(f"expected {what}, got NaN or infinity")
    return value


def as_array(x: Any, what: str, shape: tuple[int, ...] | None = None, ndim: int | None = None) -> np.ndarray:
    """A finite float64 array from a tensor, array or nested list, of the given shape."""
    if isinstance(x, torch.Tensor):
        if x.is_complex() or x.dtype == torch.bool:
            raise WrongKind(f"expected {what}, got a {x.dtype} tensor")
        arr = x.detach().cpu().double().numpy()
    elif isinstance(x, np.ndarray) or (isinstance(x, Sequence) and not isinstance(x, (str, bytes))):
        try:
            arr = np.asarray(
                [e.detach().cpu().double().numpy() if isinstance(e, torch.Tensor) else e for e in x]
                if isinstance(x, Sequence) else x
            )
        except (ValueError, TypeError):
            raise WrongKind(f"expected {what}, got a ragged or non-numeric sequence") from None
        if arr.dtype == object and all(isinstance(e, Real) and not isinstance(e, bool) for e in arr.flat):
            arr = arr.astype(np.float64)  # Fractions and other exact reals
        if arr.dtype.kind == "b" or arr.dtype.kind not in "iuf":
            raise WrongKind(f"expected {what}, got values that are not real numbers")
        arr = arr.astype(np.float64)
    elif isinstance(x, Real) and not isinstance(x, bool):
        arr = np.asarray(float(x))
    else:
        raise WrongKind(f"expected {what}, got {type_name(x)}")
    if shape is not None and arr.shape != shape:
        raise WrongKind(f"expected {what} of shape {shape}, got shape {arr.shape}")
    if ndim is not None and arr.ndim != ndim:
        raise WrongKind(f"expected {what} with {ndim} dimensions, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise WrongKind(f"expected {what}, got NaN or infinity in it")
    return arr


def close(a: np.ndarray | float, b: np.ndarray | float, atol: float, rtol: float) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= atol + rtol * np.abs(b)))


def close_tree(a: Any, b: Any, atol: float, rtol: float) -> bool:
    """:func:`close` for nested tuples of arrays and numbers (a function's outputs); ints compare exactly."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(close_tree(x, y, atol, rtol) for x, y in zip(a, b))
    if isinstance(a, (int, bool, str)) and isinstance(b, (int, bool, str)):
        return a == b
    return close(a, b, atol, rtol)


def short_float(x: float) -> str:
    """1e-09 -> "1e-9", 5e-05 -> "5e-5", 0.001 -> "1e-3": the tolerance exactly as used, in its shortest form."""
    mantissa, exponent = f"{x:e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    text = f"{mantissa}e{int(exponent)}"
    if float(text) != x:
        return repr(x)
    return text


def tolerance_text(atol: float, rtol: float) -> str:
    parts = ([f"atol {short_float(atol)}"] if atol else []) + ([f"rtol {short_float(rtol)}"] if rtol else [])
    return ", ".join(parts) or "exact"


def stated_precision(atol: float, rtol: float, decimals: int | None, digits: int | None) -> tuple[float, float, str]:
    """(atol, rtol, the words a prompt uses for them).

    ``decimals=k`` accepts every answer rounded to k decimal places (atol half a unit of the k-th
    decimal); ``digits=k`` every answer rounded to k significant digits (rtol half a unit of the k-th
    digit, relative to the reference).  The factor 1 + 1e-6 leaves room for the binary representation
    of the rounded decimal.  Otherwise the tolerance itself is stated ("within atol 1e-9, rtol 1e-9").
    """
    if decimals is not None and digits is not None:
        raise ValueError("give decimals or digits, not both")
    if decimals is not None:
        return 0.5 * 10.0**-decimals * (1 + 1e-6), 0.0, f"to {decimals} decimal place{'s' * (decimals != 1)}"
    if digits is not None:
        return 0.0, 0.5 * 10.0 ** (1 - digits) * (1 + 1e-6), f"to {digits} significant digits"
    return atol, rtol, ("" if not (atol or rtol) else "within " + tolerance_text(atol, rtol))


class Kind:
    """How one kind of answer is validated (``normalise``) and compared (``equal``).

    ``precision`` is the phrase the exercise's prompt uses for the tolerance ("to 3 decimal places";
    empty for exact kinds), ``near(a, b, factor, slack)`` whether ``a`` lies within ``factor`` times the
    tolerance of ``b``, plus a relative ``slack`` (False for kinds without a tolerance).
    """

    expects = ""
    tolerance = "exact"
    precision = ""

    def normalise(self, x: Any) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def equal(self, a: Any, b: Any) -> bool:
        return a == b

    def near(self, a: Any, b: Any, factor: float = 10.0, slack: float = 0.0) -> bool:
        return False


class _Toleranced(Kind):
    """A kind compared within ``atol + rtol |reference|``."""

    atol = 0.0
    rtol = 0.0

    def _set_tolerance(self, atol: float, rtol: float, decimals: int | None, digits: int | None) -> None:
        self.decimals, self.digits = decimals, digits
        self.atol, self.rtol, self.precision = stated_precision(atol, rtol, decimals, digits)
        self.tolerance = tolerance_text(self.atol, self.rtol)

    def near(self, a: Any, b: Any, factor: float = 10.0, slack: float = 0.0) -> bool:
        if not (self.atol or self.rtol):
            return False
        scale = float(np.abs(np.asarray(b, dtype=np.float64)).max(initial=0.0))
        return close(a, b, factor * self.atol + slack * scale, factor * self.rtol + slack)


class Number(_Toleranced):
    def __init__(self, what: str, *, atol: float = 0.0, rtol: float = 0.0, decimals: int | None = None,
                 digits: int | None = None):
        self.what = what
        self._set_tolerance(atol, rtol, decimals, digits)
        self.expects = f"{what} (a real number)"

    def normalise(self, x: Any) -> float:
        return real_scalar(x, self.what)

    def equal(self, a: float, b: float) -> bool:
        return close(a, b, self.atol, self.rtol)


class Count(Kind):
    def __init__(self, what: str):
        self.what = what
        self.expects = f"{what} (a whole number)"

    def normalise(self, x: Any) -> int:
        if isinstance(x, (Integral, np.integer)) and not isinstance(x, (bool, np.bool_)):
            return int(x)
        value = real_scalar(x, f"{self.what} (a whole number)")
        if abs(value - round(value)) > 1e-6 * max(1.0, abs(value)):
            raise WrongKind(f"expected {self.what}, a whole number; a count cannot have a fractional part")
        return int(round(value))


class Bool(Kind):
    def __init__(self, what: str):
        self.what = what
        self.expects = f"{what} (True or False)"

    def normalise(self, x: Any) -> bool:
        if isinstance(x, (bool, np.bool_)):
            return bool(x)
        raise WrongKind(f"expected {self.what}, True or False; got {type_name(x)}")


class Choice(Kind):
    """One of a few named options; spelling variants map to the option."""

    def __init__(self, what: str, options: Mapping[str, Sequence[str]]):
        self.what = what
        self.options = dict(options)
        self._lookup = {self._key(o): o for o in options}
        for option, variants in options.items():
            for v in variants:
                self._lookup[self._key(v)] = option
        shown = ", ".join(f'"{o}"' for o in options)
        self.expects = f"{what}: one of {shown}"

    @staticmethod
    def _key(s: str) -> str:
        return re.sub(r"[\s_\-]+", " ", s.strip().lower())

    def normalise(self, x: Any) -> str:
        if not isinstance(x, str):
            raise WrongKind(f"expected {self.expects}; got {type_name(x)}")
        key = self._key(x)
        if key not in self._lookup:
            raise WrongKind(f"expected {self.expects}; got a string that is none of them")
        return self._lookup[key]


class Array(_Toleranced):
    def __init__(self, what: str, shape: tuple[int, ...], *, atol: float = 0.0, rtol: float = 0.0,
                 decimals: int | None = None, digits: int | None = None):
        self.what, self.shape = what, shape
        self._set_tolerance(atol, rtol, decimals, digits)
        self.expects = f"{what} (a tensor, array or list of shape {shape})"

    def normalise(self, x: Any) -> np.ndarray:
        return as_array(x, self.what, self.shape)

    def equal(self, a: np.ndarray, b: np.ndarray) -> bool:
        return close(a, b, self.atol, self.rtol)


class Tuple(Kind):
    """A fixed number of parts, each of its own kind, given as a tuple or list."""

    def __init__(self, what: str, *parts: Kind):
        self.what, self.parts = what, parts
        self.expects = f"{what}: a tuple of {len(parts)}: " + "; ".join(p.expects for p in parts)
        tols = list(dict.fromkeys(p.tolerance for p in parts if p.tolerance != "exact"))
        self.tolerance = "; ".join(tols) if tols else "exact"
        self.precision = "; ".join(dict.fromkeys(p.precision for p in parts if p.precision))

    def normalise(self, x: Any) -> tuple:
        if isinstance(x, (torch.Tensor, np.ndarray)) and x.ndim >= 1:
            x = list(x)
        if not isinstance(x, Sequence) or isinstance(x, (str, bytes)):
            raise WrongKind(f"expected {self.expects}; got {type_name(x)}")
        if len(x) != len(self.parts):
            raise WrongKind(f"expected {self.what} as a tuple of {len(self.parts)} parts, got {len(x)} parts")
        out = []
        for i, (part, kind) in enumerate(zip(x, self.parts), start=1):
            try:
                out.append(kind.normalise(part))
            except WrongKind as err:
                raise WrongKind(f"part {i} of {len(self.parts)}: {err}") from None
        return tuple(out)

    def equal(self, a: tuple, b: tuple) -> bool:
        return all(k.equal(x, y) for k, x, y in zip(self.parts, a, b))

    def near(self, a: tuple, b: tuple, factor: float = 10.0, slack: float = 0.0) -> bool:
        """Every part equal or near, and at least one part with a tolerance."""
        if not any(p.precision for p in self.parts):
            return False
        return all(k.equal(x, y) or k.near(x, y, factor, slack) for k, x, y in zip(self.parts, a, b))


@dataclass(frozen=True)
class Evaluated:
    """A function answer, evaluated on the exercise's inputs."""

    function: Callable[..., Any] = field(repr=False)
    outputs: tuple = field(repr=False)
    low_precision: bool = False  # some output was float32 (or narrower)


def is_low_precision(x: Any) -> bool:
    """Whether an answer, or any part of it, is held in float32 or a narrower float type."""
    if isinstance(x, Evaluated):
        return x.low_precision
    if isinstance(x, torch.Tensor):
        return str(x.dtype).removeprefix("torch.") in LOW_PRECISION
    if isinstance(x, (np.ndarray, np.generic)):
        return x.dtype.name in LOW_PRECISION
    if isinstance(x, (list, tuple)):
        return any(is_low_precision(e) for e in x)
    return False


def describe_args(args: tuple) -> str:
    shown = []
    for a in args:
        if isinstance(a, torch.Tensor):
            shown.append(f"a tensor of shape {tuple(a.shape)}" if a.ndim else "a 0-d tensor")
        else:
            shown.append(type(a).__name__)
    return "(" + ", ".join(shown) + ")"


class Function(_Toleranced):
    """A formula as a Python function, compared with the reference on many inputs.

    ``inputs(generator)`` returns the argument tuples (random ones first, then
    the edge cases); ``output(value, args)`` validates one returned value and
    raises ``WrongKind``; ``equal_output`` compares two validated outputs (by
    default within ``atol + rtol |reference|``, nested tuples part by part).
    The function runs with torch's default dtype set to float64, so a literal
    ``torch.tensor([1.0, 0.0])`` in it is float64, as the inputs are.
    """

    def __init__(self, what: str, signature: str, inputs: Callable[[torch.Generator], list[tuple]],
                 output: Callable[[Any, tuple], Any], *, atol: float = 0.0, rtol: float = 0.0,
                 equal_output: Callable[[Any, Any], bool] | None = None, seed: int = 0,
                 decimals: int | None = None, digits: int | None = None):
        self.what, self.signature = what, signature
        self._make_inputs, self._output, self.seed = inputs, output, seed
        self._set_tolerance(atol, rtol, decimals, digits)
        self._equal_output = equal_output or (lambda a, b: close_tree(a, b, self.atol, self.rtol))
        self._inputs: list[tuple] | None = None
        self.expects = f"a function {signature} returning {what}"

    @property
    def inputs(self) -> list[tuple]:
        if self._inputs is None:
            gen = torch.Generator().manual_seed(self.seed)
            self._inputs = self._make_inputs(gen)
        return self._inputs

    def normalise(self, x: Any) -> Evaluated:
        if isinstance(x, Evaluated):
            return x
        if not callable(x):
            raise WrongKind(f"expected {self.expects}; got {type_name(x)}")
        outputs, low = [], False
        for args in self.inputs:
            copies = tuple(a.clone() if isinstance(a, torch.Tensor) else a for a in args)
            default_dtype = torch.get_default_dtype()
            try:
                torch.set_default_dtype(torch.float64)
                with torch.no_grad():
                    value = x(*copies)
            except Exception as err:  # the reader's function failed: a wrong kind of answer
                raise WrongKind(f"your function raised {type(err).__name__} when called with "
                                 f"{describe_args(args)}; expected {self.expects}") from None
            finally:
                torch.set_default_dtype(default_dtype)
            low = low or is_low_precision(value)
            try:
                outputs.append(self._output(value, args))
            except WrongKind as err:
                raise WrongKind(f"when called with {describe_args(args)} your function returned "
                                 f"something else than expected: {err}") from None
        return Evaluated(x, tuple(outputs), low)

    def equal(self, a: Evaluated, b: Evaluated) -> bool:
        return all(self._equal_output(x, y) for x, y in zip(a.outputs, b.outputs))

    def near(self, a: Evaluated, b: Evaluated, factor: float = 10.0, slack: float = 0.0) -> bool:
        if not (self.atol or self.rtol):
            return False

        def scale(y: Any) -> float:
            if isinstance(y, tuple):
                return max((scale(e) for e in y), default=0.0)
            return float(np.abs(np.asarray(y, dtype=np.float64)).max(initial=0.0))

        return all(close_tree(x, y, factor * self.atol + slack * scale(y), factor * self.rtol + slack)
                   for x, y in zip(a.outputs, b.outputs))


def random_normal(gen: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=gen, dtype=torch.float64)


def random_int(gen: torch.Generator, low: int, high: int) -> int:
    """Uniform integer in ``[low, high]``."""
    return int(torch.randint(low, high + 1, (1,), generator=gen).item())


def random_uniform(gen: torch.Generator, low: float, high: float) -> float:
    return low + (high - low) * float(torch.rand(1, generator=gen, dtype=torch.float64).item())


def count_output(value: Any, args: tuple) -> int:
    return Count("a count").normalise(value)


def vector_output(length_of: Callable[[tuple], int], what: str) -> Callable[[Any, tuple], np.ndarray]:
    """Read a function answer's output as a vector whose length ``length_of(args)`` depends on the inputs."""
    def output(value: Any, args: tuple) -> np.ndarray:
        return as_array(value, what, (length_of(args),))
    return output
