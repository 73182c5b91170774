"""The exercise checker's registry and public API: :func:`check_answer` and :func:`list_exercises`.

Part modules register their exercises here, in book order, with :func:`register`; see the package
docstring of :mod:`dlnotes.exercises` for what a verdict means.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .kinds import Kind, WrongKind, is_low_precision, LOW_PRECISION_SLACK

__all__ = ["ExerciseInfo", "Mistake", "Verdict", "check_answer", "list_exercises", "reference", "register"]

NEAR_FACTOR = 10.0  # an answer this many tolerances from the reference is told to give more digits

STATUSES = ("correct", "incorrect", "wrong kind")
_MARKS = {"correct": "✔", "incorrect": "✘", "wrong kind": "?"}

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



# =========================================================================== registry


@dataclass(frozen=True)
class Mistake:
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
class Exercise:
    id: str
    chapter: str
    title: str
    kind: Kind = field(repr=False)
    reference: Any = field(repr=False)
    hint: str = field(repr=False)  # the message for a wrong answer that matches no known mistake
    mistakes: tuple[Mistake, ...] = field(default=(), repr=False)
    accepts: Callable[[Any], bool] | None = field(default=None, repr=False)  # instead of comparing with reference
    near: Callable[[Any], bool] | None = field(default=None, repr=False)  # "close" for an accepts-exercise

    def info(self) -> ExerciseInfo:
        tolerance = self.kind.tolerance if self.accepts is None else "any answer that meets the exercise's condition"
        return ExerciseInfo(self.id, self.chapter, self.title, self.kind.expects, tolerance)


REGISTRY: dict[str, Exercise] = {}


def register(id: str, chapter: str, title: str, kind: Kind, reference: Any, hint: str,
              mistakes: Sequence[Mistake] = (), accepts: Callable[[Any], bool] | None = None,
              near: Callable[[Any], bool] | None = None) -> None:
    """Register one exercise.  ``reference`` is the derived answer (for an exercise with ``accepts``,
    one answer it accepts); ``near``, for an exercise with ``accepts``, says when a wrong answer is
    only short of digits."""
    if id in REGISTRY:
        raise ValueError(f"exercise {id!r} is registered twice")
    REGISTRY[id] = Exercise(id, chapter, title, kind, reference, hint, tuple(mistakes), accepts, near)


def reference(exercise_id: str) -> Any:
    """The reference answer of an exercise, as registered: for the tests (tests/test_exercise_fuzz.py
    gives it to the checker in every form a student would write it).  The chapters never call it, and
    no verdict contains it; the worked solutions are in the chapters' dropdowns.

    For an exercise checked by a condition rather than against one value it is one answer that meets
    the condition.  Raises ``ValueError`` for an unknown id, like :func:`check_answer`.
    """
    return _lookup(exercise_id).reference


def _is_near(ex: Exercise, answer: Any, factor: float, slack: float = 0.0) -> bool:
    """Whether a wrong answer lies within ``factor`` tolerances (plus a relative ``slack``) of the reference."""
    if ex.accepts is not None:
        return ex.near is not None and bool(ex.near(answer))  # its own notion of "near", whatever the factor
    return ex.kind.near(answer, ex.kind.normalise(ex.reference), factor, slack)


def _is_correct(ex: Exercise, answer: Any) -> bool:
    if ex.accepts is not None:
        return bool(ex.accepts(answer))
    return ex.kind.equal(answer, ex.kind.normalise(ex.reference))


def _matches(ex: Exercise, mistake: Mistake, answer: Any) -> bool:
    try:
        if mistake.predicate is not None:
            return bool(mistake.predicate(answer))
        if mistake.part is not None:
            kind = ex.kind.parts[mistake.part]  # type: ignore[attr-defined]
            return kind.equal(answer[mistake.part], kind.normalise(mistake.value))
        return ex.kind.equal(answer, ex.kind.normalise(mistake.value))
    except (WrongKind, ArithmeticError, ValueError, TypeError, IndexError):
        return False


# =========================================================================== public API


def list_exercises() -> list[ExerciseInfo]:
    """Every registered exercise in book order (the order of ``_toc.yml``, then of the chapter)."""
    return [ex.info() for ex in REGISTRY.values()]


def _lookup(exercise_id: Any) -> Exercise:
    if isinstance(exercise_id, str):
        key = exercise_id.strip()
        key = key[3:] if key.startswith("ex-") else key
        if key in REGISTRY:
            return REGISTRY[key]
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
    except WrongKind as err:
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
    except (WrongKind, ArithmeticError, ValueError, TypeError, IndexError):
        pass
    # A wrong answer is told, in this order: that float32 cannot reach the precision (when the answer
    # is float32 and right to float32's precision), the hint of the mistake it matches, that it is
    # close and needs more digits, that it is float32 (when it matches nothing), or the general hint.
    low = is_low_precision(answer) or is_low_precision(normalised)
    wanted = ex.kind.precision or ("the exact value" if ex.kind.tolerance == "exact" else ex.kind.tolerance)
    float64 = (f"your answer is in float32, which holds about 7 significant digits; this exercise asks for "
               f"{wanted}. Compute it in float64 (dtype=torch.float64 or np.float64) and check again.")
    if low and _safe(lambda: _is_near(ex, normalised, 1.0, LOW_PRECISION_SLACK)):
        return Verdict(ex.id, "incorrect", float64)
    for mistake in ex.mistakes:
        if _matches(ex, mistake, normalised):
            return Verdict(ex.id, "incorrect", mistake.hint)
    if _safe(lambda: _is_near(ex, normalised, NEAR_FACTOR)):
        return Verdict(ex.id, "incorrect", f"close: your answer is within {NEAR_FACTOR:g} times the tolerance but "
                                           f"outside it; give more digits (this exercise asks for {wanted}).")
    if low:
        return Verdict(ex.id, "incorrect", float64)
    return Verdict(ex.id, "incorrect", ex.hint)


def _safe(test: Callable[[], bool]) -> bool:
    try:
        return bool(test())
    except (WrongKind, ArithmeticError, ValueError, TypeError, IndexError):
        return False
