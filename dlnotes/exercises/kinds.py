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
        if x.ndim != 0:
            raise WrongKind(f"expected {what} (a single number), got {type_name(x)}")
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


def tolerance_text(atol: float, rtol: float) -> str:
    parts = ([f"atol {atol:.0e}"] if atol else []) + ([f"rtol {rtol:.0e}"] if rtol else [])
    return ", ".join(parts) or "exact"


class Kind:
    """How one kind of answer is validated (``normalise``) and compared (``equal``)."""

    expects = ""
    tolerance = "exact"

    def normalise(self, x: Any) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def equal(self, a: Any, b: Any) -> bool:
        return a == b


class Number(Kind):
    def __init__(self, what: str, *, atol: float = 0.0, rtol: float = 0.0):
        self.what, self.atol, self.rtol = what, atol, rtol
        self.expects = f"{what} (a real number)"
        self.tolerance = tolerance_text(atol, rtol)

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


class Array(Kind):
    def __init__(self, what: str, shape: tuple[int, ...], *, atol: float = 0.0, rtol: float = 0.0):
        self.what, self.shape, self.atol, self.rtol = what, shape, atol, rtol
        self.expects = f"{what} (a tensor, array or list of shape {shape})"
        self.tolerance = tolerance_text(atol, rtol)

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


@dataclass(frozen=True)
class Evaluated:
    """A function answer, evaluated on the exercise's inputs."""

    function: Callable[..., Any] = field(repr=False)
    outputs: tuple = field(repr=False)


def describe_args(args: tuple) -> str:
    shown = []
    for a in args:
        if isinstance(a, torch.Tensor):
            shown.append(f"a tensor of shape {tuple(a.shape)}" if a.ndim else "a 0-d tensor")
        else:
            shown.append(type(a).__name__)
    return "(" + ", ".join(shown) + ")"


class Function(Kind):
    """A formula as a Python function, compared with the reference on many inputs.

    ``inputs(generator)`` returns the argument tuples (random ones first, then
    the edge cases); ``output(value, args)`` validates one returned value and
    raises ``WrongKind``; ``equal_output`` compares two validated outputs.
    """

    def __init__(self, what: str, signature: str, inputs: Callable[[torch.Generator], list[tuple]],
                 output: Callable[[Any, tuple], Any], *, atol: float = 0.0, rtol: float = 0.0,
                 equal_output: Callable[[Any, Any], bool] | None = None, seed: int = 0):
        self.what, self.signature = what, signature
        self._make_inputs, self._output, self.seed = inputs, output, seed
        self.atol, self.rtol = atol, rtol
        self._equal_output = equal_output or (lambda a, b: close(a, b, atol, rtol))
        self._inputs: list[tuple] | None = None
        self.expects = f"a function {signature} returning {what}"
        self.tolerance = tolerance_text(atol, rtol)

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
        outputs = []
        for args in self.inputs:
            copies = tuple(a.clone() if isinstance(a, torch.Tensor) else a for a in args)
            try:
                with torch.no_grad():
                    value = x(*copies)
            except Exception as err:  # the reader's function failed: a wrong kind of answer
                raise WrongKind(f"your function raised {type(err).__name__} when called with "
                                 f"{describe_args(args)}; expected {self.expects}") from None
            try:
                outputs.append(self._output(value, args))
            except WrongKind as err:
                raise WrongKind(f"when called with {describe_args(args)} your function returned "
                                 f"something else than expected: {err}") from None
        return Evaluated(x, tuple(outputs))

    def equal(self, a: Evaluated, b: Evaluated) -> bool:
        return all(self._equal_output(x, y) for x, y in zip(a.outputs, b.outputs))


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
