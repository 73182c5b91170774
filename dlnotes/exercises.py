"""Check an answer to an exercise without being shown the solution.

Every exercise in the chapters of ``_toc.yml`` is registered here once, in book
order, under its id: the label of its ``{exercise}`` directive without the
``ex-`` prefix (the label ``ex-soft-lookup-margin`` has the id
``soft-lookup-margin``).  A chapter offers the checker right after each exercise::

    import dlnotes.exercises
    dlnotes.exercises.check_answer("soft-lookup-margin", 3.0)   # ✘ soft-lookup-margin: incorrect — ...
    dlnotes.exercises.list_exercises()                          # every id, its chapter and answer kind

:func:`check_answer` returns a :class:`Verdict` with one of three outcomes:

* ``"correct"``: the answer agrees with the derived one within the exercise's
  stated tolerance;
* ``"incorrect"``: it does not; when it matches a known mistake, the message is a
  hint written for that mistake, otherwise a pointer to the step to redo;
* ``"wrong kind"``: it is not the kind of answer the exercise asks for (a string
  where a number is due, a tensor of the wrong shape, NaN, a function that
  raises or returns the wrong shape); the message says what is expected.

An answer never makes :func:`check_answer` raise; only an unknown exercise id
does (``ValueError``).  No message, repr or exception contains the reference
solution: the solutions stay in the chapters' dropdowns.

Answers that are formulas are given as Python functions and are compared with
the reference on many inputs: a fixed, seeded set of random inputs plus edge
cases, so a function that agrees by accident at one point is not accepted.
Functions receive ``torch.float64`` tensors (shapes are stated per exercise)
and may return tensors, NumPy arrays, nested lists or Python numbers.
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

__all__ = ["Verdict", "ExerciseInfo", "check_answer", "list_exercises"]

STATUSES = ("correct", "incorrect", "wrong kind")
_MARKS = {"correct": "✔", "incorrect": "✘", "wrong kind": "?"}
_N_RANDOM = 50  # random inputs per function answer, besides the edge cases


# =========================================================================== public records


@dataclass(frozen=True)
class Verdict:
    """The outcome of :func:`check_answer`.

    ``status`` is ``"correct"``, ``"incorrect"`` or ``"wrong kind"``;
    ``bool(verdict)`` is ``True`` only when it is ``"correct"``.  The repr is
    one line, so a notebook cell shows it whole.
    """

    exercise_id: str
    status: str
    message: str

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    def __bool__(self) -> bool:
        return self.status == "correct"

    def __repr__(self) -> str:
        return f"{_MARKS[self.status]} {self.exercise_id}: {self.status} — {self.message}"

    __str__ = __repr__


@dataclass(frozen=True)
class ExerciseInfo:
    """One registered exercise: its id, chapter (the notebook's name), title,
    the kind of answer it expects and the tolerance it is checked with."""

    id: str
    chapter: str
    title: str
    expects: str
    tolerance: str


# =========================================================================== answer kinds


class _WrongKind(Exception):
    """The answer is not of the kind the exercise asks for; the text says what is."""


def _type_name(x: Any) -> str:
    if isinstance(x, (torch.Tensor, np.ndarray)):
        return f"{type(x).__name__} of shape {tuple(x.shape)}"
    return type(x).__name__


def _real_scalar(x: Any, what: str) -> float:
    """A finite real number from a Python/NumPy number or a 0-d tensor/array."""
    if isinstance(x, (bool, np.bool_)):
        raise _WrongKind(f"expected {what}, got a bool")
    if isinstance(x, (torch.Tensor, np.ndarray)):
        if x.ndim != 0:
            raise _WrongKind(f"expected {what} (a single number), got {_type_name(x)}")
        if isinstance(x, torch.Tensor):
            if x.is_complex() or x.dtype == torch.bool:
                raise _WrongKind(f"expected {what}, got a {x.dtype} tensor")
            x = x.detach().cpu().double().item()
        else:
            if x.dtype.kind not in "iuf":
                raise _WrongKind(f"expected {what}, got an array of dtype {x.dtype}")
            x = float(x)
    if not isinstance(x, Real):
        raise _WrongKind(f"expected {what}, got {_type_name(x)}")
    value = float(x)
    if not math.isfinite(value):
        raise _WrongKind(f"expected {what}, got NaN or infinity")
    return value


def _array(x: Any, what: str, shape: tuple[int, ...] | None = None, ndim: int | None = None) -> np.ndarray:
    """A finite float64 array from a tensor, array or nested list, of the given shape."""
    if isinstance(x, torch.Tensor):
        if x.is_complex() or x.dtype == torch.bool:
            raise _WrongKind(f"expected {what}, got a {x.dtype} tensor")
        arr = x.detach().cpu().double().numpy()
    elif isinstance(x, np.ndarray) or (isinstance(x, Sequence) and not isinstance(x, (str, bytes))):
        try:
            arr = np.asarray(
                [e.detach().cpu().double().numpy() if isinstance(e, torch.Tensor) else e for e in x]
                if isinstance(x, Sequence) else x
            )
        except (ValueError, TypeError):
            raise _WrongKind(f"expected {what}, got a ragged or non-numeric sequence") from None
        if arr.dtype.kind == "b" or arr.dtype.kind not in "iuf":
            raise _WrongKind(f"expected {what}, got values that are not real numbers")
        arr = arr.astype(np.float64)
    elif isinstance(x, Real) and not isinstance(x, bool):
        arr = np.asarray(float(x))
    else:
        raise _WrongKind(f"expected {what}, got {_type_name(x)}")
    if shape is not None and arr.shape != shape:
        raise _WrongKind(f"expected {what} of shape {shape}, got shape {arr.shape}")
    if ndim is not None and arr.ndim != ndim:
        raise _WrongKind(f"expected {what} with {ndim} dimensions, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise _WrongKind(f"expected {what}, got NaN or infinity in it")
    return arr


def _close(a: np.ndarray | float, b: np.ndarray | float, atol: float, rtol: float) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= atol + rtol * np.abs(b)))


def _tol_text(atol: float, rtol: float) -> str:
    parts = ([f"atol {atol:.0e}"] if atol else []) + ([f"rtol {rtol:.0e}"] if rtol else [])
    return ", ".join(parts) or "exact"


class _Kind:
    """How one kind of answer is validated (``normalise``) and compared (``equal``)."""

    expects = ""
    tolerance = "exact"

    def normalise(self, x: Any) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def equal(self, a: Any, b: Any) -> bool:
        return a == b


class _Number(_Kind):
    def __init__(self, what: str, *, atol: float = 0.0, rtol: float = 0.0):
        self.what, self.atol, self.rtol = what, atol, rtol
        self.expects = f"{what} (a real number)"
        self.tolerance = _tol_text(atol, rtol)

    def normalise(self, x: Any) -> float:
        return _real_scalar(x, self.what)

    def equal(self, a: float, b: float) -> bool:
        return _close(a, b, self.atol, self.rtol)


class _Count(_Kind):
    def __init__(self, what: str):
        self.what = what
        self.expects = f"{what} (a whole number)"

    def normalise(self, x: Any) -> int:
        if isinstance(x, (Integral, np.integer)) and not isinstance(x, (bool, np.bool_)):
            return int(x)
        value = _real_scalar(x, f"{self.what} (a whole number)")
        if abs(value - round(value)) > 1e-6 * max(1.0, abs(value)):
            raise _WrongKind(f"expected {self.what}, a whole number; a count cannot have a fractional part")
        return int(round(value))


class _Bool(_Kind):
    def __init__(self, what: str):
        self.what = what
        self.expects = f"{what} (True or False)"

    def normalise(self, x: Any) -> bool:
        if isinstance(x, (bool, np.bool_)):
            return bool(x)
        raise _WrongKind(f"expected {self.what}, True or False; got {_type_name(x)}")


class _Choice(_Kind):
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
            raise _WrongKind(f"expected {self.expects}; got {_type_name(x)}")
        key = self._key(x)
        if key not in self._lookup:
            raise _WrongKind(f"expected {self.expects}; got a string that is none of them")
        return self._lookup[key]


class _Array(_Kind):
    def __init__(self, what: str, shape: tuple[int, ...], *, atol: float = 0.0, rtol: float = 0.0):
        self.what, self.shape, self.atol, self.rtol = what, shape, atol, rtol
        self.expects = f"{what} (a tensor, array or list of shape {shape})"
        self.tolerance = _tol_text(atol, rtol)

    def normalise(self, x: Any) -> np.ndarray:
        return _array(x, self.what, self.shape)

    def equal(self, a: np.ndarray, b: np.ndarray) -> bool:
        return _close(a, b, self.atol, self.rtol)


class _Tuple(_Kind):
    """A fixed number of parts, each of its own kind, given as a tuple or list."""

    def __init__(self, what: str, *parts: _Kind):
        self.what, self.parts = what, parts
        self.expects = f"{what}: a tuple of {len(parts)}: " + "; ".join(p.expects for p in parts)
        tols = list(dict.fromkeys(p.tolerance for p in parts if p.tolerance != "exact"))
        self.tolerance = "; ".join(tols) if tols else "exact"

    def normalise(self, x: Any) -> tuple:
        if isinstance(x, (torch.Tensor, np.ndarray)) and x.ndim >= 1:
            x = list(x)
        if not isinstance(x, Sequence) or isinstance(x, (str, bytes)):
            raise _WrongKind(f"expected {self.expects}; got {_type_name(x)}")
        if len(x) != len(self.parts):
            raise _WrongKind(f"expected {self.what} as a tuple of {len(self.parts)} parts, got {len(x)} parts")
        out = []
        for i, (part, kind) in enumerate(zip(x, self.parts), start=1):
            try:
                out.append(kind.normalise(part))
            except _WrongKind as err:
                raise _WrongKind(f"part {i} of {len(self.parts)}: {err}") from None
        return tuple(out)

    def equal(self, a: tuple, b: tuple) -> bool:
        return all(k.equal(x, y) for k, x, y in zip(self.parts, a, b))


@dataclass(frozen=True)
class _Evaluated:
    """A function answer, evaluated on the exercise's inputs."""

    function: Callable[..., Any] = field(repr=False)
    outputs: tuple = field(repr=False)


def _describe_args(args: tuple) -> str:
    shown = []
    for a in args:
        if isinstance(a, torch.Tensor):
            shown.append(f"a tensor of shape {tuple(a.shape)}" if a.ndim else "a 0-d tensor")
        else:
            shown.append(type(a).__name__)
    return "(" + ", ".join(shown) + ")"


class _Function(_Kind):
    """A formula as a Python function, compared with the reference on many inputs.

    ``inputs(generator)`` returns the argument tuples (random ones first, then
    the edge cases); ``output(value, args)`` validates one returned value and
    raises ``_WrongKind``; ``equal_output`` compares two validated outputs.
    """

    def __init__(self, what: str, signature: str, inputs: Callable[[torch.Generator], list[tuple]],
                 output: Callable[[Any, tuple], Any], *, atol: float = 0.0, rtol: float = 0.0,
                 equal_output: Callable[[Any, Any], bool] | None = None, seed: int = 0):
        self.what, self.signature = what, signature
        self._make_inputs, self._output, self.seed = inputs, output, seed
        self.atol, self.rtol = atol, rtol
        self._equal_output = equal_output or (lambda a, b: _close(a, b, atol, rtol))
        self._inputs: list[tuple] | None = None
        self.expects = f"a function {signature} returning {what}"
        self.tolerance = _tol_text(atol, rtol)

    @property
    def inputs(self) -> list[tuple]:
        if self._inputs is None:
            gen = torch.Generator().manual_seed(self.seed)
            self._inputs = self._make_inputs(gen)
        return self._inputs

    def normalise(self, x: Any) -> _Evaluated:
        if isinstance(x, _Evaluated):
            return x
        if not callable(x):
            raise _WrongKind(f"expected {self.expects}; got {_type_name(x)}")
        outputs = []
        for args in self.inputs:
            copies = tuple(a.clone() if isinstance(a, torch.Tensor) else a for a in args)
            try:
                with torch.no_grad():
                    value = x(*copies)
            except Exception as err:  # the reader's function failed: a wrong kind of answer
                raise _WrongKind(f"your function raised {type(err).__name__} when called with "
                                 f"{_describe_args(args)}; expected {self.expects}") from None
            try:
                outputs.append(self._output(value, args))
            except _WrongKind as err:
                raise _WrongKind(f"when called with {_describe_args(args)} your function returned "
                                 f"something else than expected: {err}") from None
        return _Evaluated(x, tuple(outputs))

    def equal(self, a: _Evaluated, b: _Evaluated) -> bool:
        return all(self._equal_output(x, y) for x, y in zip(a.outputs, b.outputs))


def _randn(gen: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=gen, dtype=torch.float64)


def _randint(gen: torch.Generator, low: int, high: int) -> int:
    """Uniform integer in ``[low, high]``."""
    return int(torch.randint(low, high + 1, (1,), generator=gen).item())


def _uniform(gen: torch.Generator, low: float, high: float) -> float:
    return low + (high - low) * float(torch.rand(1, generator=gen, dtype=torch.float64).item())


# =========================================================================== registry


@dataclass(frozen=True)
class _Mistake:
    """A known wrong answer and the hint written for it.

    Either ``value`` (compared like an answer, in the exercise's tolerance; for
    a tuple answer with ``part`` set, only that part is compared) or
    ``predicate`` (called with the validated answer).  ``example`` is an answer
    that makes the mistake (the tests use it); it defaults to ``value``.
    """

    hint: str
    value: Any = field(default=None, repr=False)
    predicate: Callable[[Any], bool] | None = field(default=None, repr=False)
    part: int | None = None
    example: Any = field(default=None, repr=False)

    @property
    def sample(self) -> Any:
        return self.value if self.example is None else self.example


@dataclass(frozen=True)
class _Exercise:
    id: str
    chapter: str
    title: str
    kind: _Kind = field(repr=False)
    reference: Any = field(repr=False)
    hint: str = field(repr=False)  # the message for a wrong answer that matches no known mistake
    mistakes: tuple[_Mistake, ...] = field(default=(), repr=False)
    accepts: Callable[[Any], bool] | None = field(default=None, repr=False)  # instead of comparing with reference

    def info(self) -> ExerciseInfo:
        tolerance = self.kind.tolerance if self.accepts is None else "any answer that meets the exercise's condition"
        return ExerciseInfo(self.id, self.chapter, self.title, self.kind.expects, tolerance)


_REGISTRY: dict[str, _Exercise] = {}


def _register(id: str, chapter: str, title: str, kind: _Kind, reference: Any, hint: str,
              mistakes: Sequence[_Mistake] = (), accepts: Callable[[Any], bool] | None = None) -> None:
    if id in _REGISTRY:
        raise ValueError(f"exercise {id!r} is registered twice")
    _REGISTRY[id] = _Exercise(id, chapter, title, kind, reference, hint, tuple(mistakes), accepts)


def _is_correct(ex: _Exercise, answer: Any) -> bool:
    if ex.accepts is not None:
        return bool(ex.accepts(answer))
    return ex.kind.equal(answer, ex.kind.normalise(ex.reference))


def _matches(ex: _Exercise, mistake: _Mistake, answer: Any) -> bool:
    try:
        if mistake.predicate is not None:
            return bool(mistake.predicate(answer))
        if mistake.part is not None:
            kind = ex.kind.parts[mistake.part]  # type: ignore[attr-defined]
            return kind.equal(answer[mistake.part], kind.normalise(mistake.value))
        return ex.kind.equal(answer, ex.kind.normalise(mistake.value))
    except (_WrongKind, ArithmeticError, ValueError, TypeError, IndexError):
        return False


# =========================================================================== public API


def list_exercises() -> list[ExerciseInfo]:
    """Every registered exercise in book order (the order of ``_toc.yml``, then of the chapter)."""
    return [ex.info() for ex in _REGISTRY.values()]


def _lookup(exercise_id: Any) -> _Exercise:
    if isinstance(exercise_id, str):
        key = exercise_id.strip()
        key = key[3:] if key.startswith("ex-") else key
        if key in _REGISTRY:
            return _REGISTRY[key]
    raise ValueError(
        f"unknown exercise id {exercise_id!r}: call dlnotes.exercises.list_exercises() for the valid ids "
        "(the exercise labelled ex-<name> in a chapter has the id <name>)"
    )


def check_answer(exercise_id: str, answer: Any) -> Verdict:
    """Check ``answer`` to the exercise ``exercise_id`` and say whether it is right.

    Args:
        exercise_id: the exercise's id, its label without ``ex-`` (the label
            itself is accepted too); see :func:`list_exercises`.
        answer: what the exercise asks for: a number, a tensor/array/list of
            the stated shape, a function (for a formula), a choice given as a
            string or a boolean, or a tuple of those; ``list_exercises()``
            gives the kind for each exercise.

    Returns:
        A :class:`Verdict`: ``"correct"``, ``"incorrect"`` (with a hint when the
        answer matches a known mistake) or ``"wrong kind"`` (with what is
        expected).  The reference solution is never part of it.

    Raises:
        ValueError: ``exercise_id`` is not a registered id.
    """
    ex = _lookup(exercise_id)
    try:
        normalised = ex.kind.normalise(answer)
    except _WrongKind as err:
        return Verdict(ex.id, "wrong kind", f"not the right kind of answer: {err}.")
    except Exception as err:  # never a traceback for an odd answer
        return Verdict(ex.id, "wrong kind", f"not the right kind of answer ({type(err).__name__} while reading it); "
                                            f"expected {ex.kind.expects}.")
    try:
        if _is_correct(ex, normalised):
            if ex.accepts is not None:
                return Verdict(ex.id, "correct", "your answer meets every condition of the exercise.")
            return Verdict(ex.id, "correct", "your answer agrees with the derivation"
                           + ("" if ex.kind.tolerance == "exact" else f" ({ex.kind.tolerance})") + ".")
    except (_WrongKind, ArithmeticError, ValueError, TypeError, IndexError):
        pass
    for mistake in ex.mistakes:
        if _matches(ex, mistake, normalised):
            return Verdict(ex.id, "incorrect", mistake.hint)
    return Verdict(ex.id, "incorrect", ex.hint)


# =========================================================================== the exercises


def _count_output(value: Any, args: tuple) -> int:
    return _Count("a count").normalise(value)

#
# Book order: the chapters as _toc.yml lists them, the exercises as each chapter
# writes them.  References are computed, not typed in, where a formula exists.

# --------------------------------------------------------------- Foundations: perceptron_xor

_CH = "perceptron_xor"
_CORNERS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
_CUBE = np.array([[a, b, c] for a in (0, 1) for b in (0, 1) for c in (0, 1)], dtype=np.float64)
_XOR = np.array([0, 1, 1, 0])


def _step(z: np.ndarray) -> np.ndarray:
    return (z > 0).astype(np.int64)


_register(
    "perceptron-xor-three-inputs", _CH, "Threshold functions of three inputs",
    _Count("the number of Boolean functions of three inputs a perceptron computes"), 104,
    "Not yet. Test every truth table on the eight corners of the cube with linearly_separable "
    "and count the separable ones.",
    [
        _Mistake("That counts only the functions with f(0, 0, 0) = 0. The complement 1 - f of a separable "
                 "function is separable too (negate w and b), so the full count is twice as large.", value=52),
        _Mistake("Not every Boolean function is a threshold function: the parity of three bits, for one, "
                 "is not, for the same reason XOR is not.", value=256),
        _Mistake("That is the count for two inputs. Repeat the test on the eight corners of the cube.", value=14),
    ],
)


def _xor_outputs(answer: tuple) -> np.ndarray:
    w, b = answer
    lifted = np.column_stack([_CORNERS, _CORNERS[:, 0] * _CORNERS[:, 1]])
    return _step(lifted @ w + b)


_register(
    "perceptron-xor-feature", _CH, "One extra feature",
    _Tuple("the perceptron's weights and bias (w, b)",
           _Array("w, the weights of x1, x2 and x1*x2", (3,)), _Number("b, the bias")),
    ((1.0, 1.0, -2.0), -0.5),
    "Not yet. Evaluate step(w1 x1 + w2 x2 + w3 x1 x2 + b) on the four corners and compare with XOR; "
    "remember that step(0) = 0.",
    [
        _Mistake("Your weights ignore the product x1 x2, and without it the perceptron is the one that cannot "
                 "compute XOR: the extra feature must carry weight.",
                 predicate=lambda a: a[0][2] == 0, example=((1.0, 1.0, 0.0), -0.5)),
        _Mistake("Your perceptron fires at (1, 1). There the product feature is 1 and has to pull the sum "
                 "below the threshold, so its weight must outweigh w1 + w2 + b.",
                 predicate=lambda a: _xor_outputs(a).tolist() == [0, 1, 1, 1], example=((1.0, 1.0, -1.0), -0.5)),
        _Mistake("Your weights compute the complement of XOR (1 at (0, 0) and (1, 1)). Negating every weight "
                 "and the bias turns a function into its complement, as long as no weighted sum is exactly 0.",
                 predicate=lambda a: _xor_outputs(a).tolist() == [1, 0, 0, 1], example=((-1.0, -1.0, 2.0), 0.5)),
    ],
    accepts=lambda a: _xor_outputs(a).tolist() == _XOR.tolist(),
)


class _ParityNet(_Kind):
    """(W1, b1, w2, b2): W1 of shape (h, 3), b1 and w2 of shape (h,), b2 a number."""

    expects = ("the network's weights (W1, b1, w2, b2): W1 of shape (h, 3), b1 and w2 of shape (h,), "
               "b2 a number, computing step(w2 · step(W1 x + b1) + b2)")

    def normalise(self, x: Any) -> tuple:
        if not isinstance(x, Sequence) or isinstance(x, (str, bytes)) or len(x) != 4:
            raise _WrongKind(f"expected {self.expects}; got {_type_name(x)}")
        W1 = _array(x[0], "W1", ndim=2)
        if W1.shape[1] != 3 or W1.shape[0] < 1:
            raise _WrongKind(f"expected W1 of shape (h, 3) with h >= 1, got shape {W1.shape}")
        h = W1.shape[0]
        b1 = _array(x[1], "b1", (h,))
        w2 = _array(x[2], "w2", (h,))
        b2 = _real_scalar(x[3], "b2, the output bias")
        return W1, b1, w2, b2


def _parity_outputs(a: tuple) -> list[int]:
    W1, b1, w2, b2 = a
    hidden = _step(_CUBE @ W1.T + b1)
    return _step(hidden @ w2 + b2).tolist()


_SUMS = _CUBE.sum(1).astype(int)

_register(
    "perceptron-xor-parity", _CH, "Parity of three bits",
    _ParityNet(),
    ([[1.0, 1.0, 1.0]] * 3, [-0.5, -1.5, -2.5], [1.0, -1.0, 1.0], -0.5),
    "Not yet. Parity depends only on the number of bits that are on; evaluate your network on all "
    "eight inputs, grouped by that number.",
    [
        _Mistake("Your network ignores the third bit: it computes the XOR of the first two. Parity has to "
                 "flip whenever any one bit flips.",
                 predicate=lambda a: _parity_outputs(a) == [int(r[0]) ^ int(r[1]) for r in _CUBE],
                 example=([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0]], [-0.5, -1.5], [1.0, -1.0], -0.5)),
        _Mistake("Your network fires whenever at least one bit is on. Parity must switch off again when two "
                 "bits are on, which needs a hidden unit that subtracts once the count reaches two.",
                 predicate=lambda a: _parity_outputs(a) == [int(s >= 1) for s in _SUMS],
                 example=([[1.0, 1.0, 1.0]], [-0.5], [1.0], -0.5)),
        _Mistake("Your network fires for exactly one bit on, but parity is also 1 when all three are on: "
                 "a further hidden unit that fires at a count of three has to add it back.",
                 predicate=lambda a: _parity_outputs(a) == [int(s == 1) for s in _SUMS],
                 example=([[1.0, 1.0, 1.0]] * 2, [-0.5, -1.5], [1.0, -1.0], -0.5)),
    ],
    accepts=lambda a: _parity_outputs(a) == [int(s % 2) for s in _SUMS],
)

# --------------------------------------------------------------- Foundations: linear_depth

_CH = "linear_depth"


def _square_layers(gen: torch.Generator, n_layers: int) -> list[tuple]:
    """Random square layers (W_l of shape (d, d), b_l of shape (d,)), d from 2 to 4, then edge cases."""
    cases = []
    for _ in range(_N_RANDOM):
        d = _randint(gen, 2, 4)
        cases.append(tuple(t for _ in range(n_layers) for t in (_randn(gen, d, d), _randn(gen, d))))
    d = 3
    eye, zero = torch.eye(d, dtype=torch.float64), torch.zeros(d, dtype=torch.float64)
    cases.append(tuple(t for _ in range(n_layers) for t in (eye, _randn(gen, d))))        # identity weights
    cases.append(tuple(t for _ in range(n_layers) for t in (_randn(gen, d, d), zero)))   # no biases
    cases.append(tuple(t for _ in range(n_layers) for t in (_randn(gen, 1, 1), _randn(gen, 1))))  # width 1
    return cases


def _vector_output(length_of: Callable[[tuple], int], what: str) -> Callable[[Any, tuple], np.ndarray]:
    def output(value: Any, args: tuple) -> np.ndarray:
        return _array(value, what, (length_of(args),))
    return output


_register(
    "linear-depth-three", _CH, "Three layers by hand",
    _Function("the collapsed bias b, shape (d,)", "(W1, b1, W2, b2, W3, b3)",
              lambda g: _square_layers(g, 3), _vector_output(lambda a: a[5].shape[0], "the bias b"),
              atol=1e-9, rtol=1e-9),
    lambda W1, b1, W2, b2, W3, b3: W3 @ W2 @ b1 + W3 @ b2 + b3,
    "Not yet. Push x through the three layers symbolically and collect the terms that do not contain x.",
    [
        _Mistake("Each bias is transformed by every layer after it: b1 passes through W2 and then W3, "
                 "b2 through W3. Only the last bias is added as it is.",
                 value=lambda W1, b1, W2, b2, W3, b3: b1 + b2 + b3),
        _Mistake("The layers act from right to left: b1 is first multiplied by W2 and only then by W3, and "
                 "matrix products do not commute.",
                 value=lambda W1, b1, W2, b2, W3, b3: W2 @ W3 @ b1 + W3 @ b2 + b3),
        _Mistake("The last layer adds its own bias b3, untransformed.",
                 value=lambda W1, b1, W2, b2, W3, b3: W3 @ W2 @ b1 + W3 @ b2),
    ],
)


def _rect_two_layers(gen: torch.Generator) -> list[tuple]:
    """(W1 (h, d), b1 (h,), W2 (o, h), b2 (o,)) with d, h, o from 1 to 4, then edge cases."""
    cases = []
    for _ in range(_N_RANDOM):
        d, h, o = (_randint(gen, 1, 4) for _ in range(3))
        cases.append((_randn(gen, h, d), _randn(gen, h), _randn(gen, o, h), _randn(gen, o)))
    cases.append((torch.eye(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64),
                  torch.eye(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)))
    cases.append((torch.zeros(2, 3, dtype=torch.float64), _randn(gen, 2), _randn(gen, 4, 2), _randn(gen, 4)))
    return cases


def _affine_pair_output(value: Any, args: tuple) -> tuple[np.ndarray, np.ndarray]:
    o, d = args[2].shape[0], args[0].shape[1]
    if not isinstance(value, Sequence) or len(value) != 2:
        raise _WrongKind(f"expected a pair (W, b), got {_type_name(value)}")
    return _array(value[0], "W", (o, d)), _array(value[1], "b", (o,))


def _pairs_close(a: tuple, b: tuple) -> bool:
    return all(_close(x, y, 1e-9, 1e-9) for x, y in zip(a, b))


def _affine_act_reference(W1, b1, W2, b2):
    return 2 * W2 @ W1, 2 * W2 @ b1 + W2 @ torch.ones_like(b1) + b2


_register(
    "linear-depth-affine-activation", _CH, "An affine activation",
    _Function("the pair (W, b) of the collapsed map: W of shape (o, d), b of shape (o,)",
              "(W1, b1, W2, b2) with W1 of shape (h, d) and W2 of shape (o, h)",
              _rect_two_layers, _affine_pair_output, atol=1e-9, rtol=1e-9, equal_output=_pairs_close),
    _affine_act_reference,
    "Not yet. Expand W2 phi(W1 x + b1) + b2 with phi(z) = 2z + 1 and sort the terms into those with x "
    "and those without.",
    [
        _Mistake("The factor 2 of the activation multiplies W1 x as well: it belongs in W.",
                 value=lambda W1, b1, W2, b2: (W2 @ W1, 2 * W2 @ b1 + W2 @ torch.ones_like(b1) + b2)),
        _Mistake("The constant 1 of the activation is added before W2 acts, so it reaches the output as "
                 "W2 times the all-ones vector, not as a 1 added at the end.",
                 value=lambda W1, b1, W2, b2: (2 * W2 @ W1, 2 * W2 @ b1 + 1 + b2)),
        _Mistake("The +1 of the activation is missing: it passes through W2 and adds a term to the bias.",
                 value=lambda W1, b1, W2, b2: (2 * W2 @ W1, 2 * W2 @ b1 + b2)),
    ],
)

_register(
    "linear-depth-parameters", _CH, "Parameters without functions",
    _Tuple("the parameter counts (stack, single layer)",
           _Count("the parameters of the 784-512-512-10 stack"), _Count("the parameters of the single layer")),
    (784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10, 784 * 10 + 10),
    "Not yet. A layer from width m to width k holds an m x k matrix and a bias of k entries; sum over the layers.",
    [
        _Mistake("Count the biases too: every layer has one entry per output unit.",
                 value=(784 * 512 + 512 * 512 + 512 * 10, 784 * 10)),
        _Mistake("The order is (stack, single layer): the stack is the larger of the two.",
                 value=(784 * 10 + 10, 784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10)),
    ],
)

# --------------------------------------------------------------- Foundations: vanishing_gradients

_CH = "vanishing_gradients"

_register(
    "vanishing-gradients-tanh", _CH, "The slope of tanh",
    _Number("the maximum of tanh'", atol=1e-9), 1.0,
    "Not yet. Differentiate tanh(z) = 2 sigma(2z) - 1 with the chain rule and use the maximum of sigma'.",
    [
        _Mistake("That is the largest slope of the sigmoid. In 2 sigma(2z) - 1 two factors of 2 multiply it: "
                 "the one in front and the inner one from the chain rule.", value=0.25),
        _Mistake("Only one of the two factors of 2 is there: the chain rule through sigma(2z) contributes one, "
                 "the 2 in front of sigma another.", value=0.5),
    ],
)

_register(
    "vanishing-gradients-depth", _CH, "How deep until a millionth?",
    _Count("the fewest layers"), 10,
    "Not yet. The bound after k layers is a quarter to the power k; find the first k that puts it below a "
    "millionth.",
    [
        _Mistake("One layer short: with that many layers the bound, a quarter to that power, is still above a "
                 "millionth. Round the threshold up, not down.", value=9),
        _Mistake("That counts powers of ten. Each layer shrinks the bound by a factor of four, not ten.", value=6),
        _Mistake("That halves the bound per layer. The sigmoid's slope is at most a quarter, so each layer "
                 "with spectral norm one multiplies the bound by a quarter.", value=20),
    ],
)

_S_ROOT = (1 + math.sqrt(0.96)) / 2

_register(
    "vanishing-gradients-one-percent", _CH, "Where the slope is one hundredth",
    _Number("the positive z with sigma'(z) = 0.01", atol=5e-4), math.log(_S_ROOT / (1 - _S_ROOT)),
    "Not yet. Write sigma' = s(1 - s) with s = sigma(z), solve the quadratic for s, then invert the sigmoid.",
    [
        _Mistake("That z is negative; the exercise asks for z > 0. The slope is symmetric, sigma'(-z) = sigma'(z).",
                 value=-math.log(_S_ROOT / (1 - _S_ROOT))),
        _Mistake("That is a value of the sigmoid, s = sigma(z), not z. Invert the sigmoid: z = ln(s / (1 - s)).",
                 value=_S_ROOT),
        _Mistake("That is the smaller root s of s(1 - s) = 0.01, a sigmoid output below one half. Take the root "
                 "above one half and invert the sigmoid.", value=1 - _S_ROOT),
    ],
)

# --------------------------------------------------------------- Attention: attention_soft_lookup

_CH = "attention_soft_lookup"


def _values_inputs(gen: torch.Generator) -> list[tuple]:
    cases = [(_randn(gen, _randint(gen, 1, 8), _randint(gen, 1, 4)),) for _ in range(_N_RANDOM)]
    cases += [(_randn(gen, 1, 3),), (torch.zeros(5, 2, dtype=torch.float64),),
              (1e3 * _randn(gen, 6, 3),), (_randn(gen, 2, 1),)]
    return cases


_register(
    "soft-lookup-equal-scores", _CH, "Softmax of equal scores",
    _Function("the attention output, shape (d,)", "(V) with the values V of shape (n, d)", _values_inputs,
              _vector_output(lambda a: a[0].shape[1], "the output"), atol=1e-9, rtol=1e-9),
    lambda V: V.mean(0),
    "Not yet. Work out the softmax of n equal scores first: the weights depend only on differences of scores.",
    [
        _Mistake("Softmax weights always sum to one, so the output is a weighted average, never a plain sum "
                 "of the values.", value=lambda V: V.sum(0)),
        _Mistake("With equal scores no key stands out, so no single value is copied: ties do not pick one.",
                 value=lambda V: V[0]),
        _Mistake("That is the average of the squared values (or a norm), not of the values: the output is a "
                 "combination of the value vectors themselves.", value=lambda V: (V**2).mean(0)),
    ],
)

_register(
    "soft-lookup-margin", _CH, "How large a margin for a given error?",
    _Number("the margin Delta", atol=5e-3), math.log(999 * 2 / 1e-3),
    "Not yet. Put n = 1000 and the largest possible distance between two values into eq-copy-bound, set the "
    "bound equal to the allowed error and solve for Delta.",
    [
        _Mistake("Two values of norm at most 1 can be up to 2 apart (opposite unit vectors), so the largest "
                 "distance in eq-copy-bound is 2, not 1.", value=math.log(999 / 1e-3)),
        _Mistake("The bound has e^(-Delta), so solve with the natural logarithm, not the decimal one.",
                 value=math.log10(999 * 2 / 1e-3)),
    ],
)

_register(
    "soft-lookup-temperature", _CH, "Scaled scores and temperature",
    _Tuple("the limits of the weights (as tau -> 0, as tau -> infinity)",
           *[_Choice(f"the limit as tau -> {w}", {"one-hot": ("onehot", "one hot", "argmax", "hard"),
                                                   "uniform": ("1/n", "average", "equal"),
                                                   "zero": ("0", "vanish")}) for w in ("0", "infinity")]),
    ("one-hot", "uniform"),
    "Not yet. Divide the scores by a small and then by a large tau and look at the score differences: the "
    "softmax depends on nothing else.",
    [
        _Mistake("The two limits are swapped. A small tau divides the scores by a small number, so the gaps "
                 "between them grow without bound.", value=("uniform", "one-hot")),
        _Mistake("The weights cannot vanish: they sum to one at every temperature.",
                 predicate=lambda a: "zero" in a, example=("one-hot", "zero")),
    ],
)

# --------------------------------------------------------------- Attention: attention_average

_CH = "attention_average"
_E2 = math.exp(2.0)

_register(
    "attention-average-three", _CH, "The average of three values",
    _Number("the weight of each target key at n = 10, beta = 2", atol=1e-6), _E2 / (3 * _E2 + 7),
    "Not yet. Write the three target scores and the other scores for q = beta (k_a + k_b + k_c) and "
    "normalise over all n keys.",
    [
        _Mistake("That is the limit for large beta. At beta = 2 the other keys still take weight: normalise "
                 "over all n keys, not only over the three targets.", value=1 / 3),
        _Mistake("Only n - 3 keys are off target: the three targets appear once in the denominator, with "
                 "score beta, and not again with score 0.", value=_E2 / (3 * _E2 + 10)),
        _Mistake("Equal weights on all keys would need equal scores; that is beta = 0.", value=0.1),
    ],
)

_UNEVEN_TARGET = np.array([0.75, 0.25, 0.0, 0.0])


def _uneven_inputs(gen: torch.Generator) -> list[tuple]:
    betas = [10 ** _uniform(gen, 3.0, 5.0) for _ in range(_N_RANDOM)]
    return [(b,) for b in betas] + [(1e3,), (1e5,)]


def _softmax_np(s: np.ndarray) -> np.ndarray:
    e = np.exp(s - s.max())
    return e / e.sum()


def _uneven_weights(a: _Evaluated) -> list[np.ndarray]:
    return [_softmax_np(q) for q in a.outputs]


def _uneven_accepts(a: _Evaluated) -> bool:
    return all(_close(w, _UNEVEN_TARGET, 1e-6, 0.0) for w in _uneven_weights(a))


def _last_weights(a: _Evaluated) -> np.ndarray:
    return _uneven_weights(a)[-1]  # at the largest beta, 1e5


_register(
    "attention-average-uneven", _CH, "An uneven blend",
    _Function("the query q, shape (4,), for the keys k_j = e_j of R^4 with a = 1, b = 2",
              "(beta) of a large positive number beta", _uneven_inputs,
              _vector_output(lambda a: 4, "the query q"), atol=1e-6),
    lambda beta: beta * torch.tensor([1.0, 1.0, 0.0, 0.0], dtype=torch.float64)
    + math.log(3) * torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=torch.float64),
    "Not yet. The ratio of two softmax weights is the exponential of their score difference; fix that "
    "difference and let both target scores grow.",
    [
        _Mistake("A query of fixed size leaves weight on the other keys however it is aimed: without a "
                 "large scale such as beta the output is not close to any blend of v_a and v_b. Let the two "
                 "target scores grow with beta.",
                 predicate=lambda a: float(_last_weights(a)[2:].sum()) > 1e-3,
                 example=lambda beta: torch.tensor([1.0, 1.0, 0.0, 0.0], dtype=torch.float64)),
        _Mistake("Equal scores give equal weights, the plain average. For a 3 : 1 blend the scores of k_a "
                 "and k_b must differ, by a fixed amount.",
                 predicate=lambda a: _close(_last_weights(a), [0.5, 0.5, 0, 0], 1e-6, 0.0),
                 example=lambda beta: beta * torch.tensor([1.0, 1.0, 0.0, 0.0], dtype=torch.float64)),
        _Mistake("Scaling a key by 3 makes the gap between the two scores grow with beta, so the weights tend "
                 "to a one-hot vector. The ratio of the weights is the exponential of the score difference, "
                 "and that difference must stay fixed.",
                 predicate=lambda a: _close(_last_weights(a), [1.0, 0, 0, 0], 1e-6, 0.0),
                 example=lambda beta: beta * torch.tensor([3.0, 1.0, 0.0, 0.0], dtype=torch.float64)),
        _Mistake("The ratio of two softmax weights is e to the power of the score difference, not the "
                 "difference itself: a gap of 3 gives a ratio of about 20, not 3.",
                 predicate=lambda a: _close(_last_weights(a)[:2], [math.exp(3) / (math.exp(3) + 1),
                                                                   1 / (math.exp(3) + 1)], 1e-6, 0.0),
                 example=lambda beta: beta * torch.tensor([1.0, 1.0, 0.0, 0.0], dtype=torch.float64)
                 + torch.tensor([3.0, 0.0, 0.0, 0.0], dtype=torch.float64)),
    ],
    accepts=_uneven_accepts,
)


def _beta_star(n: int, eps: float = 1e-3) -> float:
    return math.log((n - 2) * (1 - eps) / (2 * eps))


_register(
    "attention-average-many", _CH, "Many keys",
    _Tuple("the scales (beta* for n = 1000, beta* for n = 10)",
           _Number("beta* for n = 1000", atol=2e-4), _Number("beta* for n = 10", atol=2e-4)),
    (_beta_star(1000), _beta_star(10)),
    "Not yet. Put n and the allowed off-target weight into eq-average-beta, for both numbers of keys.",
    [
        _Mistake("The order is (n = 1000, n = 10): more keys to suppress need the larger scale.",
                 value=(_beta_star(10), _beta_star(1000))),
        _Mistake("The two targets share the weight: in eq-average-beta the off-target mass is compared with "
                 "2 eps e^beta, so the factor 2 belongs in the denominator.",
                 value=(math.log(998 * 0.999 / 1e-3), math.log(8 * 0.999 / 1e-3))),
        _Mistake("Close, but the factor (1 - eps) is missing: the two targets hold 1 - eps of the weight, not "
                 "all of it, and at this accuracy it shows.",
                 value=(math.log(998 / 2e-3), math.log(8 / 2e-3))),
    ],
)

# --------------------------------------------------------------- Attention: multihead_parameters

_CH = "multihead_parameters"

_register(
    "multihead-parameters-base", _CH, "The original base Transformer",
    _Tuple("(d_head, parameter count with biases)", _Count("d_head"), _Count("the parameter count")),
    (512 // 8, 4 * 512**2 + 4 * 512),
    "Not yet. Count the four projections W_Q, W_K, W_V and W_O with their biases, using the chapter's formula.",
    [
        _Mistake("Count the biases too: each of the four projections has one of length d_model.",
                 value=(64, 4 * 512**2)),
        _Mistake("The output projection W_O is missing: it is a fourth d_model x d_model matrix with a bias.",
                 value=(64, 3 * 512**2 + 3 * 512)),
        _Mistake("Each head's projections are d_model x d_head, not d_model x d_model: the h heads together "
                 "cost as much as one full-width projection.", value=(64, 8 * (4 * 512**2 + 4 * 512))),
    ],
)

_register(
    "multihead-parameters-fixed-head", _CH, "Fixed head size",
    _Count("the parameter count with biases"), 4 * 768 * 1024 + 3 * 1024 + 768,
    "Not yet. Write the shape of each of the four projections, input width 768 and concatenated width h d_head, "
    "with their biases.",
    [
        _Mistake("The output projection maps back to width 768, so its bias has 768 entries, not 1024.",
                 value=4 * 768 * 1024 + 4 * 1024),
        _Mistake("With d_head fixed the heads concatenate to width h d_head, which is not 768 here.",
                 value=4 * 768**2 + 4 * 768),
        _Mistake("Count the biases too: three of width 1024 and one of width 768.", value=4 * 768 * 1024),
    ],
)

# --------------------------------------------------------------- Attention: hard_attention

_CH = "hard_attention"
_K_HARD = np.array([[0.0, 2.0], [1.0, 0.0], [1.0, 3.0], [2.0, 0.0]])

_register(
    "hard-attention-scale", _CH, "Scaling the scores",
    _Tuple("(does the hard-attention output change, does the soft-attention output change)",
           _Bool("whether the hard-attention output changes"), _Bool("whether the soft-attention output changes")),
    (False, True),
    "Not yet. Ask what a positive factor does to the order of the scores, and what it does to their differences.",
    [
        _Mistake("Soft attention does change: the factor is an inverse temperature, and it changes the "
                 "differences between the scores, which is all the softmax sees.", value=(False, False)),
        _Mistake("Hard attention does not change: a positive factor keeps the order of the scores, so the "
                 "argmax and its value stay the same.", value=(True, True)),
    ],
)


def _winners(q: np.ndarray) -> np.ndarray:
    s = _K_HARD @ q
    return np.flatnonzero(s >= s.max() - 1e-9 * max(1.0, float(np.abs(s).max())))


def _region_hint(key: int, condition: str) -> _Mistake:
    return _Mistake(f"With your query key {key + 1} scores highest, not key 3. Key 3 beats key {key + 1} "
                    f"exactly when {condition}.",
                    predicate=lambda q, key=key: _winners(q).tolist() == [key],
                    example={0: (-1.0, 0.5), 1: (-1.0, -1.0), 3: (5.0, 1.0)}[key])


_register(
    "hard-attention-region", _CH, "Where does key 3 win?",
    _Array("a query q", (2,)), (0.0, 1.0),
    "Not yet. Write the four scores as functions of (q1, q2) and require the third to beat the other three.",
    [
        _Mistake("Your query ties key 3 with another key, so the argmax is not key 3 alone. Move strictly "
                 "inside the region where key 3 wins.",
                 predicate=lambda q: len(_winners(q)) > 1 and 2 in _winners(q).tolist(), example=(-1.0, 1.0)),
        _region_hint(0, "q1 + q2 > 0"),
        _region_hint(1, "q2 > 0"),
        _region_hint(3, "q1 < 3 q2"),
    ],
    accepts=lambda q: _winners(q).tolist() == [2],
)


def _weights_inputs(gen: torch.Generator) -> list[tuple]:
    cases = []
    for _ in range(_N_RANDOM):
        n = _randint(gen, 1, 8)
        cases.append((torch.softmax(2 * _randn(gen, n), 0),))
    cases += [(torch.tensor([0.0, 0.0, 1.0, 0.0], dtype=torch.float64),),
              (torch.full((5,), 0.2, dtype=torch.float64),), (torch.tensor([1.0], dtype=torch.float64),)]
    return cases


_register(
    "hard-attention-value-gradient", _CH, "The value gradient of soft attention",
    _Function("the factor for each value, shape (n,), such that dc/dv_j is that factor times the identity",
              "(alpha) of the attention weights alpha, shape (n,)", _weights_inputs,
              _vector_output(lambda a: a[0].shape[0], "the factors"), atol=1e-12, rtol=1e-9),
    lambda alpha: alpha.clone(),
    "Not yet. The output c = sum_j alpha_j v_j is linear in each value; differentiate it with respect to v_j.",
    [
        _Mistake("That is hard attention: only the best key's value gets a gradient there. Under the softmax "
                 "every weight is positive, so every value is trained.",
                 value=lambda alpha: torch.nn.functional.one_hot(alpha.argmax(), alpha.shape[0]).double()),
        _Mistake("Each value enters the output scaled by its weight, and so does its gradient; they are not "
                 "all equal.", value=lambda alpha: torch.ones_like(alpha)),
        _Mistake("alpha_j (1 - alpha_j) is the slope of a weight with respect to its own score, which matters "
                 "for the query and the keys. The output is linear in v_j.",
                 value=lambda alpha: alpha * (1 - alpha)),
    ],
)

# --------------------------------------------------------------- Attention: orthogonal_self_attention

_CH = "orthogonal_self_attention"
_E_OFF = (999 + math.sqrt(999**2 - 4)) / 2

_register(
    "orthogonal-self-attention-identity", _CH, "How large must the inputs be?",
    _Number("beta", atol=5e-5), math.sqrt(math.log(_E_OFF)),
    "Not yet. Find the largest off-diagonal entry of W as a function of E = exp(beta^2), set it to the "
    "allowed value and solve.",
    [
        _Mistake("That sets W_21 = 1/(E + 2) to the bound, but W_13 = W_31 is larger for E > 1: it is the entry "
                 "that decides.", value=math.sqrt(math.log(998))),
        _Mistake("x_1 and x_3 share d, so x_1 . x_3 = beta^2, not 0: the building blocks are orthogonal, the "
                 "tokens are not.", value=math.sqrt(math.log(math.sqrt(998)))),
        _Mistake("E = exp(beta^2), so beta is the square root of ln E, not ln E itself.", value=math.log(_E_OFF)),
    ],
)


def _beta_m_inputs(gen: torch.Generator) -> list[tuple]:
    cases = [(_uniform(gen, 0.1, 5.0), _randint(gen, 2, 64)) for _ in range(_N_RANDOM)]
    return cases + [(2.0, 1), (2.0, 6), (0.5, 1024), (3.0, 16)]


def _number_output(what: str) -> Callable[[Any, tuple], float]:
    def output(value: Any, args: tuple) -> float:
        return _real_scalar(value, what)
    return output


_register(
    "orthogonal-self-attention-scaled", _CH, "Scaled scores",
    _Function("beta', the unscaled beta with the same weights (a number)", "(beta, m) of a float beta > 0 and "
              "an int m >= 1", _beta_m_inputs, _number_output("beta'"), atol=1e-12, rtol=1e-9),
    lambda beta, m: beta / m**0.25,
    "Not yet. Every score is a multiple of beta^2; divide it by sqrt(m) and ask which beta' gives the same "
    "multiple without the scale.",
    [
        _Mistake("The scale divides the scores, which are multiples of beta^2, not beta itself: beta'^2 = "
                 "beta^2 / sqrt(m).", value=lambda beta, m: beta / math.sqrt(m)),
        _Mistake("The scale makes the scores smaller, so beta' is smaller than beta, not larger.",
                 value=lambda beta, m: beta * m**0.25),
        _Mistake("That is the new beta'^2, the factor in front of the scores; take its square root.",
                 value=lambda beta, m: beta**2 / math.sqrt(m)),
    ],
)

_register(
    "orthogonal-self-attention-rates", _CH, "Which token copies better?",
    _Number("the limit of ||y_2 - a|| / ||y_1 - x_1||", atol=1e-3), math.sqrt(5),
    "Not yet. Expand both errors for large beta: both decay like exp(-beta^2), so their ratio tends to a ratio "
    "of two distances.",
    [
        _Mistake("That is the ratio the other way round: token 2 has the larger copy error.", value=1 / math.sqrt(5)),
        _Mistake("That is the ratio of the squared norms; the question asks for the norms.", value=5.0),
    ],
)

# --------------------------------------------------------------- Attention: positional_encoding

_CH = "positional_encoding"

_register(
    "positional-encoding-wavelength", _CH, "The longest wavelength",
    _Number("the longest wavelength, in positions", rtol=1e-5), 2 * math.pi * 10000 ** (510 / 512),
    "Not yet. Find the smallest frequency omega_i of eq-pe-definition for d = 512; the wavelength is 2 pi / omega_i.",
    [
        _Mistake("The slowest pair has i = d/2 - 1, not d/2, so its exponent is just below 1.",
                 value=2 * math.pi * 10000),
        _Mistake("A wavelength is 2 pi / omega, not 1 / omega: one period of sin(omega pos) is 2 pi / omega positions.",
                 value=10000 ** (510 / 512)),
        _Mistake("The exponent is 2i/d with i counting pairs, not i/d with i counting coordinates.",
                 value=2 * math.pi * 10000 ** (511 / 512)),
    ],
)

_register(
    "positional-encoding-neighbours", _CH, "Neighbouring positions",
    _Number("PE(pos) . PE(pos + 1) for d = 4", atol=1e-6), math.cos(1.0) + math.cos(0.01),
    "Not yet. Each sine-cosine pair rotates by the angle omega_i from one position to the next; the dot "
    "product of a pair with its rotation is the cosine of that angle.",
    [
        _Mistake("That is PE(pos) . PE(pos), the squared norm. One step rotates each pair, which lowers the dot "
                 "product.", value=2.0),
        _Mistake("The dot product of a unit pair with its rotation by omega is cos(omega), not sin(omega).",
                 value=math.sin(1.0) + math.sin(0.01)),
        _Mistake("The second frequency is 10000^(-2i/d) with i = 1 and d = 4, not 10000^(-1/d).",
                 value=math.cos(1.0) + math.cos(0.1)),
    ],
)

# --------------------------------------------------------------- Attention: token_mixing

_CH = "token_mixing"


def _ln(x: np.ndarray, eps: float, *, ddof: int = 0, eps_outside: bool = False) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    sd = x.std(ddof=ddof)
    return (x - x.mean()) / (sd + eps if eps_outside else math.sqrt(sd**2 + eps))


_LN_X = np.array([2.0, 4.0, 6.0, 8.0])

_register(
    "token-mixing-scale", _CH, "Scaling a token",
    _Tuple("(LN(2, 4, 6, 8) with eps = 0, LN(2, 4, 6, 8) with eps = 1e-5)",
           _Array("LN with eps = 0", (4,), atol=3e-7), _Array("LN with eps = 1e-5", (4,), atol=3e-7)),
    (_ln(_LN_X, 0.0), _ln(_LN_X, 1e-5)),
    "Not yet. Compute the mean and the biased variance of (2, 4, 6, 8), then (x - mean) / sqrt(variance + eps).",
    [
        _Mistake("Scaling the token by 2 multiplies its variance by 4, so eps weighs four times less than for "
                 "(1, 2, 3, 4): with eps = 1e-5 the two results differ.",
                 value=(_ln(_LN_X, 0.0), _ln(_LN_X / 2, 1e-5))),
        _Mistake("Layer norm uses the biased variance, dividing by the number of features, not by one less.",
                 predicate=lambda a: _close(a[0], _ln(_LN_X, 0.0, ddof=1), 3e-7, 0.0),
                 example=(_ln(_LN_X, 0.0, ddof=1), _ln(_LN_X, 1e-5, ddof=1))),
        _Mistake("eps is added to the variance, inside the square root, not to the standard deviation.",
                 value=(_ln(_LN_X, 0.0), _ln(_LN_X, 1e-5, eps_outside=True))),
    ],
)


def _rows_inputs(gen: torch.Generator) -> list[tuple]:
    cases = []
    for _ in range(_N_RANDOM):
        t = _randint(gen, 1, 12)
        cases.append((_randint(gen, 0, t - 1), t))
    return cases + [(0, 1), (0, 8), (7, 8), (3, 8)]


def _rows_output(value: Any, args: tuple) -> tuple[int, ...]:
    if isinstance(value, (torch.Tensor, np.ndarray)):
        if value.ndim != 1:
            raise _WrongKind(f"expected a collection of row indices, got {_type_name(value)}")
        value = value.tolist()
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, set, frozenset, range)):
        raise _WrongKind(f"expected a list, set or range of row indices, got {_type_name(value)}")
    rows = []
    for r in value:
        if isinstance(r, (bool, np.bool_)) or not isinstance(r, (Integral, np.integer)):
            raise _WrongKind(f"expected row indices as ints, got {_type_name(r)}")
        rows.append(int(r))
    return tuple(sorted(set(rows)))


_register(
    "token-mixing-causal", _CH, "Causal attention",
    _Function("the rows (0-based indices) that can change", "(j, t) of the changed position j and the "
              "sequence length t, both ints", _rows_inputs, _rows_output, equal_output=lambda a, b: a == b),
    lambda j, t: range(j, t),
    "Not yet. Row i uses the tokens at positions up to i only; ask for which rows token j is among them.",
    [
        _Mistake("Row i sees positions up to i, so token j reaches the rows that come at or after it, not "
                 "those before it.", value=lambda j, t: range(0, j + 1)),
        _Mistake("Row j itself sees token j: the mask allows positions up to and including i.",
                 value=lambda j, t: range(j + 1, t)),
        _Mistake("That is attention without a mask, where every row sees every token.",
                 value=lambda j, t: range(t)),
        _Mistake("Token j is not seen by row j alone: every later row sees it too.", value=lambda j, t: [j]),
    ],
)

_register(
    "token-mixing-ffn-cost", _CH, "Counting the FFN",
    _Tuple("(FFN multiply-adds, attention-product multiply-adds)", _Count("the FFN's multiply-adds"),
           _Count("the multiply-adds of the two attention products")),
    (8 * 1000 * 512**2, 2 * 1000**2 * 512),
    "Not yet. A matrix product of (t x a) by (a x b) costs t a b multiply-adds; add them up for the two FFN "
    "layers and for the two attention products.",
    [
        _Mistake("The FFN has two layers, n -> 4n and 4n -> n, and each costs 4tn^2.",
                 part=0, value=4 * 1000 * 512**2, example=(4 * 1000 * 512**2, 2 * 1000**2 * 512)),
        _Mistake("The FFN's hidden width is 4n, not n.", part=0, value=2 * 1000 * 512**2,
                 example=(2 * 1000 * 512**2, 2 * 1000**2 * 512)),
        _Mistake("Attention has two products of this size, Q K^T and the weights times V.", part=1,
                 value=1000**2 * 512, example=(8 * 1000 * 512**2, 1000**2 * 512)),
    ],
)

# --------------------------------------------------------------- Attention: linear_attention

_CH = "linear_attention"

_register(
    "linear-attention-crossover", _CH, "Where the counts cross",
    _Count("the smallest T at which Q(K^T V) needs fewer multiplications"), 64 + 1,
    "Not yet. Count the multiplications of both orders, T^2 (d + d_v) and 2 T d d_v, and compare them.",
    [
        _Mistake("At that length both orders take the same number of multiplications; the question asks for "
                 "fewer.", value=64),
        _Mistake("Divide both counts by T first: the comparison is between T (d + d_v) and 2 d d_v, linear in "
                 "both T and d.", value=64 * 64),
        _Mistake("At that length the quadratic order (Q K^T) V is still the cheaper one; the linear order wins "
                 "only for long sequences.", value=32),
    ],
)

_register(
    "linear-attention-state", _CH, "State size of a causal decoder",
    _Tuple("(numbers in the linear head's state, numbers in the softmax head's cache after 1000 tokens)",
           _Count("the state size of the linear head"), _Count("the size of the key-value cache")),
    (64 * 64 + 64, 1000 * (64 + 64)),
    "Not yet. List what each head must keep to produce the next output: the linear head its running sums, the "
    "softmax head every key and value so far.",
    [
        _Mistake("The state has a normaliser z_i next to the matrix S_i, with d more numbers.", part=0,
                 value=64 * 64, example=(64 * 64, 1000 * (64 + 64))),
        _Mistake("The cache keeps the values as well as the keys.", part=1, value=1000 * 64,
                 example=(64 * 64 + 64, 1000 * 64)),
        _Mistake("The linear head's state does not grow with the position: it is updated in place.", part=0,
                 value=1000 * (64 * 64 + 64), example=(1000 * (64 * 64 + 64), 1000 * (64 + 64))),
    ],
)

# --------------------------------------------------------------- Recurrent networks: rnn_shapes

_CH = "rnn_shapes"

_register(
    "rnn-shapes-count", _CH, "Counting conditionals",
    _Tuple("(entries of the joint table, softmax outputs evaluated)", _Count("the entries of the joint table"),
           _Count("the softmax outputs evaluated")),
    (10_000**3, 3 * 10_000),
    "Not yet. The table needs one entry per sequence of length T; the model runs one softmax over the "
    "vocabulary per position.",
    [
        _Mistake("The order is (joint table, softmax outputs).", value=(3 * 10_000, 10_000**3)),
        _Mistake("The table needs one entry for every sequence: K choices at each of the T positions multiply, "
                 "they do not add.", part=0, value=3 * 10_000, example=(3 * 10_000, 3 * 10_000)),
        _Mistake("Each of the T softmaxes is evaluated over the whole vocabulary, even though only one of its "
                 "outputs is used.", part=1, value=3, example=(10_000**3, 3)),
    ],
    accepts=lambda a: a[0] in (10_000**3, 10_000**3 - 1) and a[1] == 3 * 10_000,
)


def _td_inputs(gen: torch.Generator) -> list[tuple]:
    cases = []
    for _ in range(_N_RANDOM):
        T = _randint(gen, 1, 12)
        cases.append((T, _randint(gen, 0, T + 1)))
    return cases + [(7, 2), (1, 0), (5, 0), (4, 10)]


def _zero_blocks(T: int, D: int) -> int:
    return (T - D) * (T - D - 1) // 2 if D < T else 0


_register(
    "rnn-shapes-delay", _CH, "A delayed output",
    _Function("the number of blocks of dy_t/dx_s that are zero (an int)", "(T, D) of the sequence length T and "
              "the delay D, both ints", _td_inputs, _count_output,
              equal_output=lambda a, b: a == b),
    _zero_blocks,
    "Not yet. With the delay, y_t is read from h_(t+D); ask which inputs x_s cannot have reached that state.",
    [
        _Mistake("That ignores the delay: y_t may use D more inputs, so fewer blocks vanish.",
                 value=lambda T, D: T * (T - 1) // 2),
        _Mistake("The input x_(t+D) itself reaches h_(t+D), so the block with s = t + D need not vanish.",
                 value=lambda T, D: (T - D + 1) * (T - D) // 2 if D <= T else 0),
    ],
)

# --------------------------------------------------------------- Recurrent networks: bptt

_CH = "bptt"


def _ten_sigmoids() -> tuple[float, float]:
    h, grad = 0.0, 1.0
    for _ in range(10):
        s = 1 / (1 + math.exp(-h))
        grad *= s * (1 - s)
        h = s
    return grad, h


_register(
    "bptt-ten-sigmoids", _CH, "Ten sigmoids in a chain",
    _Number("dh_10/dh_0", rtol=1e-6), _ten_sigmoids()[0],
    "Not yet. Run the chain forward from h_0 = 0 and multiply the ten slopes sigma'(h_(t-1)) = h_t (1 - h_t).",
    [
        _Mistake("That is the bound, reached only if every factor were a quarter. Only the first factor is: "
                 "the states move away from 0.", value=0.25**10),
        _Mistake("That is h_10, the state itself, not its derivative with respect to h_0.",
                 value=_ten_sigmoids()[1]),
    ],
)

_register(
    "bptt-horizon", _CH, "How far back does the signal reach?",
    _Count("the number of steps k"), math.ceil(6 * math.log(10) / math.log(2)),
    "Not yet. An orthogonal Q keeps norms, so the Jacobian norm is a power of 0.5; find the first k that puts "
    "it below a millionth.",
    [
        _Mistake("One step short: there the norm is still above a millionth. Round the threshold up.",
                 value=math.floor(6 * math.log(10) / math.log(2))),
        _Mistake("That counts powers of ten; each step halves the norm.", value=6),
    ],
)


def _bptt_inputs(gen: torch.Generator) -> list[tuple]:
    cases = []
    for _ in range(_N_RANDOM):
        n = _randint(gen, 2, 5)
        cases.append((_randn(gen, n, n), _randn(gen, n)))
    return cases + [(torch.eye(3, dtype=torch.float64), _randn(gen, 3)), (_randn(gen, 1, 1), _randn(gen, 1))]


_register(
    "bptt-h0", _CH, "The gradient for the initial state",
    _Function("dL/dh_0, shape (n,)", "(W_hh, r_1) of W_hh, shape (n, n), and r_1, shape (n,)", _bptt_inputs,
              _vector_output(lambda a: a[1].shape[0], "dL/dh_0"), atol=1e-9, rtol=1e-9),
    lambda W_hh, r_1: W_hh.T @ r_1,
    "Not yet. h_0 enters the loss only through z_1 = W_hh h_0 + ...; apply the chain rule to that one term.",
    [
        _Mistake("Backpropagation through z = W h multiplies by the transpose of W, not by W.",
                 value=lambda W_hh, r_1: W_hh @ r_1),
        _Mistake("h_0 enters through W_hh h_0, so its gradient passes through W_hh as well.",
                 value=lambda W_hh, r_1: r_1.clone()),
    ],
)

# --------------------------------------------------------------- Recurrent networks: alternating_rnn

_CH = "alternating_rnn"

_register(
    "alternating-rnn-running-sum", _CH, "A running sum",
    _Number("the recurrent weight w", atol=1e-9), 1.0,
    "Not yet. Unroll H_t = X_t + w H_(t-1) for three steps and read off the factor in front of X_1.",
    [
        _Mistake("With w = 0 the network forgets the past: H_T = X_T.", value=0.0),
        _Mistake("w = -1 alternates the signs of the inputs; the plain sum needs every input with factor one.",
                 value=-1.0),
    ],
)

_register(
    "alternating-rnn-gain", _CH, "How large a gain?",
    _Number("the smallest gain g", atol=5e-4), math.log(1e6 - 1),
    "Not yet. Require sigma(g) >= 1 - 1e-6 at H_T = 1 and solve for g.",
    [
        _Mistake("sigma involves e^(-g), so solve with the natural logarithm, not the decimal one.",
                 value=math.log10(1e6 - 1)),
        _Mistake("That gain works, but it is far larger than the smallest one that does.", value=1000.0),
    ],
)

_register(
    "alternating-rnn-h0", _CH, "Moving the threshold with $H_0$",
    _Number("the initial state H_0"), 0.5,
    "Not yet. With even T, H_T = E - O + H_0; ask where H_0 must put a tie and where the case E - O = -1.",
    [
        _Mistake("With that H_0 a tie gives H_T = 0 and an output of exactly one half, not about 1.",
                 predicate=lambda h: h == 0.0, example=0.0),
        _Mistake("With that H_0 the case E - O = -1 gives H_T >= 0, so the network does not answer about 0 "
                 "there.", predicate=lambda h: h >= 1.0, example=1.0),
        _Mistake("A negative H_0 moves the threshold the wrong way: ties then give H_T < 0 and an output of "
                 "about 0.", predicate=lambda h: h < 0.0, example=-0.5),
    ],
    accepts=lambda h: 0.0 < h < 1.0,
)

# --------------------------------------------------------------- Recurrent networks: sequence_model_cost

_CH = "sequence_model_cost"

_register(
    "cost-crossover", _CH, "The crossover width",
    _Count("the smallest width n"), 1000 + 1,
    "Not yet. Compare the attention products' 4 t^2 n FLOPs with the recurrence's 4 t n^2 and solve for n.",
    [
        _Mistake("At n = t the two costs are equal; cheaper needs a strictly larger width.", value=1000),
        _Mistake("Attention is the cheaper one only for wide layers, n > t, not for narrow ones.", value=999),
    ],
)

_register(
    "cost-window-n", _CH, "A window as wide as the model",
    _Tuple("(FLOPs of restricted attention with r = n, FLOPs of the recurrent layer)",
           _Count("the restricted attention FLOPs"), _Count("the recurrent layer FLOPs")),
    (4 * 4096 * 256**2, 4 * 4096 * 256**2),
    "Not yet. Restricted attention costs 4 t r n FLOPs and one recurrent layer 4 t n^2; put r = n.",
    [
        _Mistake("Count FLOPs, two per multiply-add, as the chapter does.",
                 value=(2 * 4096 * 256**2, 2 * 4096 * 256**2)),
        _Mistake("With a window, each position attends to r keys, not to all t of them.", part=0,
                 value=4 * 4096**2 * 256, example=(4 * 4096**2 * 256, 4 * 4096 * 256**2)),
    ],
)

_register(
    "cost-pipeline", _CH, "Pipelining a deep RNN",
    _Count("the number of waves"), 100 + 4 - 1,
    "Not yet. Find the wave of cell (layer, step) from its two dependencies, starting with wave 1 for cell (1, 1).",
    [
        _Mistake("Layers need not wait for each other to finish: layer 2 can start step 1 while layer 1 works "
                 "on step 2.", value=100 * 4),
        _Mistake("One too many: cell (1, 1) already runs in the first wave.", value=100 + 4),
        _Mistake("The last layer finishes its last step only L - 1 waves after the first layer does.", value=100),
    ],
)

# --------------------------------------------------------------- Decoding: greedy_vs_beam

_CH = "greedy_vs_beam"


def _vt_inputs(gen: torch.Generator) -> list[tuple]:
    cases = [(_randint(gen, 1, 9), _randint(gen, 1, 7)) for _ in range(_N_RANDOM)]
    return cases + [(1, 1), (1, 5), (3, 3), (2, 10), (5, 1)]


_register(
    "greedy-vs-beam-count", _CH, "Counting sequences",
    _Function("the number of complete sequences (an int)", "(V, T) of the vocabulary size V and max_len T, "
              "both ints", _vt_inputs, _count_output, equal_output=lambda a, b: a == b),
    lambda V, T: V**T + sum(V**t for t in range(T)),
    "Not yet. Sort the complete sequences by their length: those that end with <eos> after t < T tokens, "
    "and those stopped at T tokens.",
    [
        _Mistake("Sequences can also end early, with <eos> after fewer than T tokens; count those too.",
                 value=lambda V, T: V**T),
        _Mistake("After <eos> nothing follows: a sequence that ends early is shorter, not padded, so <eos> "
                 "is not one more token to choose at every position.", value=lambda V, T: (V + 1) ** T),
        _Mistake("<eos> can come first: the empty sequence is a complete sequence too.",
                 value=lambda V, T: sum(V**t for t in range(1, T + 1))),
    ],
)

_register(
    "greedy-vs-beam-width-one", _CH, "Greedy is beam search of width 1",
    _Choice("what could make the two return different sequences",
            {"ties": ("tie", "tie breaking", "tie-breaking"), "eos": ("<eos>", "end of sequence"),
             "max_len": ("max len", "length", "maximum length"), "none": ("nothing",)}),
    "ties",
    "Not yet. Follow both methods one step at a time and ask where either of them makes a choice.",
    [
        _Mistake("If the best next token is <eos>, both stop: the finished hypothesis is the only one in a "
                 "beam of width one.", value="eos"),
        _Mistake("Both stop at the same max_len; the length limit is shared.", value="max_len"),
        _Mistake("Almost: the argument needs one assumption, stated in the exercise. Without it the two "
                 "can part ways.", value="none"),
    ],
)

_register(
    "greedy-vs-beam-ratio", _CH, "How much better than greedy?",
    _Tuple("(the threshold p above which beam search wins, the ratio beam / greedy at p = 1)",
           _Number("the threshold p", atol=1e-6), _Number("the ratio at p = 1", atol=1e-6)),
    (0.75, 4 / 3),
    "Not yet. Compare the probability of the sequence BB with that of greedy's complete sequence.",
    [
        _Mistake("BB has to beat greedy's whole sequence, whose probability is the product of both steps, "
                 "not the second step alone.", part=0, value=0.5, example=(0.5, 4 / 3)),
        _Mistake("The ratio is beam over greedy, the better sequence's probability on top.", part=1,
                 value=3 / 4, example=(0.75, 3 / 4)),
    ],
)

# --------------------------------------------------------------- Generative models: elbo

_CH = "elbo"


def _kl(p: Sequence[float], q: Sequence[float]) -> float:
    return sum(a * math.log(a / b) for a, b in zip(p, q) if a > 0)


_RECON = 0.4 * math.log(0.7) + 0.6 * math.log(0.2)
_ENTROPY = -(0.4 * math.log(0.4) + 0.6 * math.log(0.6))

_register(
    "elbo-prior-as-q", _CH, "The prior as the approximate posterior",
    _Tuple("(ELBO, gap, the term of eq-elbo-split that vanishes)",
           _Number("the ELBO", atol=1e-6), _Number("the gap", atol=1e-6),
           _Choice("the vanishing term", {"reconstruction": ("recon", "likelihood"),
                                          "regulariser": ("regularizer", "kl", "kl to the prior", "prior kl"),
                                          "entropy": ("h(q)",)})),
    (_RECON, _kl((0.4, 0.6), (0.7, 0.3)), "regulariser"),
    "Not yet. With q equal to the prior, evaluate both terms of eq-elbo-split; the gap is the KL divergence "
    "from q to the exact posterior.",
    [
        _Mistake("The entropy of q = (0.4, 0.6) is far from zero, and it is not a term of eq-elbo-split: the "
                 "regulariser there is -KL(q || p(z)) = H(q) + E_q[log p(z)]. Ask which term compares q with "
                 "the prior.",
                 part=2, value="entropy", example=(_RECON, _kl((0.4, 0.6), (0.7, 0.3)), "entropy")),
        _Mistake("That ELBO adds the entropy of q to the reconstruction term and drops E_q[log p(z)]: the "
                 "regulariser is -KL(q || p(z)) = H(q) + E_q[log p(z)].",
                 part=0, value=_RECON + _ENTROPY,
                 example=(_RECON + _ENTROPY, _kl((0.4, 0.6), (0.7, 0.3)), "regulariser")),
        _Mistake("The gap is KL(q || p(z | x)), with q first; the KL divergence is not symmetric.",
                 part=1, value=_kl((0.7, 0.3), (0.4, 0.6)),
                 example=(_RECON, _kl((0.7, 0.3), (0.4, 0.6)), "regulariser")),
        _Mistake("Nothing in the reconstruction term vanishes: log p(x | z) is negative for both z.",
                 part=2, value="reconstruction", example=(_RECON, _kl((0.4, 0.6), (0.7, 0.3)), "reconstruction")),
    ],
)

_GAP_FIXED = 0.5 * (math.log(0.5) + 1 / 0.5 - 1)

_register(
    "elbo-fixed-variance", _CH, "A variance that is fixed too wide",
    _Tuple("(the best mean m, the smallest gap)", _Number("the best mean m", atol=1e-6),
           _Number("the smallest gap", atol=1e-6)),
    (0.5, _GAP_FIXED),
    "Not yet. Maximising the ELBO over m minimises KL(N(m, 1) || p(z | x)); find the exact posterior first.",
    [
        _Mistake("The posterior mean is shrunk toward the prior's mean 0: it is not the observation x.",
                 part=0, value=1.0, example=(1.0, _GAP_FIXED)),
        _Mistake("q's variance is fixed at 1 while the posterior's is smaller, so the gap cannot vanish.",
                 part=1, value=0.0, example=(0.5, 0.0)),
        _Mistake("Check the sign of the log-variance term in the Gaussian KL divergence.",
                 part=1, value=0.5 * (1 + math.log(2)), example=(0.5, 0.5 * (1 + math.log(2)))),
        _Mistake("The gap is KL(q || p(z | x)), with q first; the KL divergence is not symmetric.",
                 part=1, value=0.5 * (math.log(2) + 0.5 - 1), example=(0.5, 0.5 * (math.log(2) + 0.5 - 1))),
    ],
)

_register(
    "elbo-samples", _CH, "How many samples for three decimals?",
    _Count("the number of samples S"), round(0.1416 / 1e-3**2),
    "Not yet. The RMSE of the Monte Carlo mean is sigma_g / sqrt(S); take sigma_g^2 from eq-elbo-mc-var.",
    [
        _Mistake("The RMSE is sigma_g / sqrt(S): square the target error as well as sigma_g.",
                 value=round(0.1416 / 1e-3)),
        _Mistake("Use the variance sigma_g^2 over the squared error, not the standard deviation sigma_g.",
                 value=round(math.sqrt(0.1416) / 1e-3**2)),
    ],
)


def _gram_offdiag(W: np.ndarray) -> float:
    G = W.T @ W
    return float(np.abs(G - np.diag(np.diag(G))).max(initial=0.0))


def _diag_scale(W: np.ndarray) -> float:
    return max(1.0, float(np.abs(W).max()) ** 2)


class _Matrix(_Kind):
    expects = "a matrix W of shape (D, k) with k >= 2 latent dimensions (tensor, array or nested list)"

    def normalise(self, x: Any) -> np.ndarray:
        return _array(x, "a matrix W of shape (D, k)", ndim=2)


_register(
    "elbo-diagonal", _CH, "When can a diagonal encoder be exact?",
    _Matrix(), ((1.0, 1.0), (0.0, 1.0)),
    "Not yet. The posterior covariance is diagonal exactly when W^T W is; compute W^T W for your matrix.",
    [
        _Mistake("With a single latent dimension every covariance is a 1 x 1 matrix, which is diagonal: a "
                 "diagonal encoder is exact there. Take at least two latent dimensions.",
                 predicate=lambda W: W.shape[1] < 2, example=((1.0,), (2.0,))),
        _Mistake("Your W has orthogonal columns, so W^T W is diagonal and so is the posterior covariance: a "
                 "diagonal encoder can be exact for it.",
                 predicate=lambda W: _gram_offdiag(W) <= 1e-9 * _diag_scale(W), example=((2.0, 0.0), (0.0, 1.0))),
    ],
    accepts=lambda W: W.shape[1] >= 2 and _gram_offdiag(W) > 1e-9 * _diag_scale(W),
)

# --------------------------------------------------------------- Generative models: gan_dynamics

_CH = "gan_dynamics"

_register(
    "gan-dynamics-doubling", _CH, "How long until the norm doubles?",
    _Count("the number of steps"), math.ceil(2 * math.log(2) / math.log(1.01)),
    "Not yet. Use eq-gan-sim: the norm after t steps is (1 + eta^2)^(t/2) times the start; find the first "
    "whole t at which it reaches 2.",
    [
        _Mistake("One step short: after that many steps the norm is still below twice the start. Round up.",
                 value=math.floor(2 * math.log(2) / math.log(1.01))),
        _Mistake("The norm grows by sqrt(1 + eta^2) per step, the square root of 1 + eta^2.",
                 value=math.ceil(math.log(2) / math.log(1.01))),
        _Mistake("The growth factor per step is sqrt(1 + eta^2), not 1 + eta.",
                 value=math.ceil(math.log(2) / math.log(1.1))),
    ],
)

_register(
    "gan-dynamics-period", _CH, "A period of four",
    _Number("the step size eta", atol=5e-4), math.sqrt(2),
    "Not yet. The alternating update turns the iterate by theta with cos(theta) = 1 - eta^2/2; a period of "
    "four needs a quarter turn per step.",
    [
        _Mistake("That is eta^2; the step size is its square root.", value=2.0),
        _Mistake("That is the angle theta per step, not the step size: eta follows from cos(theta) = 1 - eta^2/2.",
                 value=math.pi / 2),
        _Mistake("With that step the turn is a sixth of a circle, a period of six.", value=1.0),
    ],
)

_register(
    "gan-dynamics-eg-step", _CH, "The best step for extragradient",
    _Tuple("(the best step eta, the factor by which the norm shrinks per step)",
           _Number("the best step eta", atol=5e-4), _Number("the shrink factor per step", atol=5e-4)),
    (1 / math.sqrt(2), math.sqrt(3) / 2),
    "Not yet. The squared contraction factor of extragradient is g(eta) = 1 - eta^2 + eta^4; minimise it.",
    [
        _Mistake("That is g, the squared factor; the norm shrinks by its square root.", part=1, value=3 / 4,
                 example=(1 / math.sqrt(2), 3 / 4)),
        _Mistake("Those belong to optimistic GDA, at its best step; the question is about extragradient.",
                 value=(0.5, 1 / math.sqrt(2))),
    ],
)

del _CH
