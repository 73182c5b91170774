"""Generated answers for every registered exercise: the checkers never mislead (issue 19, item 5).

Each exercise's reference answer (``engine.reference``) is given in every form a student would write it:
Python int/float/Fraction, NumPy float32/float64, torch float32/float64 tensors (0-d and one-element),
lists and tuples for vectors, a function returning any of these where the exercise takes a function,
and the answer rounded to the precision the prompt states.  Required:

* a right answer at the stated precision is accepted;
* a float32 answer is accepted where float32 reaches the tolerance, and otherwise is told to use
  float64 (never a hint about method);
* an answer within ten times the tolerance, but outside it, is told "close: give more digits", unless
  it lies on a registered mistake, whose hint is then true of it;
* each registered mistake's example gets that mistake's hint, and matches no other mistake.

``fuzz()`` also counts the answers tried and those wrongly rejected or misled, so the counts can be
reported (``python -m tests.test_exercise_fuzz``).  The chapter prompts are held to the checkers too:
each chapter's "Check your answer" line states the precision of its checker (``kind.precision``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
import torch

from dlnotes.exercises import check_answer, engine, kinds, list_exercises

ROOT = Path(__file__).resolve().parents[1]
CLOSE_FACTORS = (1.5, 4.0, 9.0)  # near answers: this many tolerances away from the reference


# ------------------------------------------------------------------ how precise the prompt asks for

def stated(kind: Any) -> tuple[str, float] | None:
    """("decimals", k), ("digits", k) or ("within", 0) for the stated precision; None for exact kinds."""
    if getattr(kind, "decimals", None) is not None:
        return ("decimals", kind.decimals)
    if getattr(kind, "digits", None) is not None:
        return ("digits", kind.digits)
    atol, rtol = getattr(kind, "atol", 0.0), getattr(kind, "rtol", 0.0)
    if atol and not rtol:  # the coarsest decimal rounding this tolerance admits
        return ("decimals", math.ceil(-math.log10(2 * atol) - 1e-9))
    if rtol and not atol:
        return ("digits", 1 + math.ceil(math.log10(0.5 / rtol) - 1e-9))
    if atol or rtol:
        return ("decimals", math.ceil(-math.log10(2 * max(atol, 1e-300)) - 1e-9))
    return None


def round_to(x: float, spec: tuple[str, float] | None) -> float:
    if spec is None or x == 0:
        return x
    how, k = spec
    return round(x, int(k)) if how == "decimals" else float(f"{x:.{int(k) - 1}e}")


# ------------------------------------------------------------------ forms of one value

LEAF_FORMS = ("py", "frac", "np64", "np32", "t64", "t32", "t64_1", "t32_1", "rounded")
VECTOR_FORMS = ("list", "tuple", "np64", "np32", "t64", "t32", "rounded", "frac")
FLOAT32 = {"np32", "t32", "t32_1"}


def scalar_form(x: float | int, form: str, spec: Any) -> Any:
    integral = isinstance(x, (int, np.integer)) and not isinstance(x, bool)
    x = int(x) if integral else float(x)
    return {
        "py": x,
        "frac": Fraction(x) if integral else Fraction(str(round_to(x, spec) if spec else x)),
        "np64": np.float64(x),
        "np32": np.float32(x),
        "t64": torch.tensor(x, dtype=torch.float64),
        "t32": torch.tensor(x, dtype=torch.float32),
        "t64_1": torch.tensor([x], dtype=torch.float64),
        "t32_1": torch.tensor([x], dtype=torch.float32),
        "rounded": x if integral else round_to(x, spec),
    }[form]


def vector_form(a: np.ndarray, form: str, spec: Any) -> Any:
    a = np.asarray(a, dtype=np.float64)
    return {
        "list": a.tolist(),
        "tuple": tuple(map(tuple, a)) if a.ndim == 2 else tuple(a.tolist()),
        "np64": a.copy(),
        "np32": a.astype(np.float32),
        "t64": torch.tensor(a, dtype=torch.float64),
        "t32": torch.tensor(a, dtype=torch.float32),
        "rounded": np.vectorize(lambda v: round_to(float(v), spec))(a).tolist() if a.ndim else round_to(float(a), spec),
        "frac": [Fraction(str(round_to(float(v), spec))) for v in a] if a.ndim == 1 else a.tolist(),
    }[form]


def is_vector(x: Any) -> bool:
    if isinstance(x, torch.Tensor):
        return x.ndim >= 1
    if isinstance(x, np.ndarray):
        return x.ndim >= 1
    return isinstance(x, (list, tuple)) and len(x) > 0 and all(
        isinstance(e, (int, float)) or is_vector(e) for e in x) and not any(isinstance(e, str) for e in x)


def generic_form(x: Any, form: str, spec: Any) -> Any:
    """A value of no declared kind (a function's output, an accepts-exercise's example), converted leafwise."""
    if isinstance(x, torch.Tensor) and x.ndim == 0:
        x = x.item()
    if isinstance(x, (bool, str)) or x is None:
        return x
    if isinstance(x, (int, float, np.number)):
        return scalar_form(x, {"list": "py", "tuple": "py"}.get(form, form), spec)
    if isinstance(x, (torch.Tensor, np.ndarray)) or (is_vector(x) and not isinstance(x, tuple)):
        arr = x.detach().cpu().double().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, dtype=np.float64)
        return vector_form(arr, {"py": "list", "t64_1": "t64", "t32_1": "t32"}.get(form, form), spec)
    if isinstance(x, tuple):
        try:
            arr = np.asarray(x, dtype=np.float64)
            if arr.ndim >= 1 and all(not isinstance(e, tuple) or len(e) == len(x[0]) for e in x):
                return vector_form(arr, {"py": "tuple", "t64_1": "t64", "t32_1": "t32"}.get(form, form), spec)
        except (ValueError, TypeError):
            pass
        return tuple(generic_form(e, form, spec) for e in x)
    return x


def forms(kind: Any, ref: Any) -> list[tuple[str, Any]]:
    """(form name, answer) for one reference value, in every form a student would write it."""
    spec = stated(kind)
    if isinstance(kind, kinds.Bool):
        return [("bool", ref), ("np.bool_", np.bool_(ref))]
    if isinstance(kind, kinds.Choice):
        return [("str", ref), ("upper", ref.upper()), ("padded", f"  {ref} ")]
    if isinstance(kind, (kinds.Number, kinds.Count)):
        whole = [("int", int(ref))] if isinstance(ref, float) and ref.is_integer() else []
        return [(f, scalar_form(ref, f, spec)) for f in LEAF_FORMS] + whole
    if isinstance(kind, kinds.Array):
        return [(f, vector_form(np.asarray(ref, dtype=np.float64), f, spec)) for f in VECTOR_FORMS]
    if isinstance(kind, kinds.Tuple):
        out = []
        part_forms = [forms(p, r) for p, r in zip(kind.parts, ref)]
        for i in range(max(len(pf) for pf in part_forms)):
            chosen = [pf[i % len(pf)] for pf in part_forms]
            name = "(" + ",".join(n for n, _ in chosen) + ")"
            out.append((name, tuple(a for _, a in chosen)))
            out.append((name.replace("(", "[", 1), [a for _, a in chosen]))
        return out
    if isinstance(kind, kinds.Function):
        def wrap(form: str) -> Callable[..., Any]:
            return lambda *args: generic_form(ref(*args), form, spec)
        return [("function->t64", ref)] + [(f"function->{f}", wrap(f)) for f in
                                          ("py", "np64", "np32", "t32", "list", "tuple", "rounded")]
    return [(f, generic_form(ref, f, None)) for f in ("py", "list", "np64", "np32", "t64", "t32")]


def is_float32(name: str) -> bool:
    return any(part in FLOAT32 for part in re.split(r"[(),\[\]>-]+", name)) or name.endswith("np32") \
        or name.endswith("t32")


# ------------------------------------------------------------------ near answers

def nudge(kind: Any, ref: Any, factor: float) -> Any | None:
    """The reference moved ``factor`` tolerances away (None where the kind has no tolerance)."""
    if isinstance(kind, (kinds.Number, kinds.Array)) and (kind.atol or kind.rtol):
        r = np.asarray(ref, dtype=np.float64)
        out = r + factor * (kind.atol + kind.rtol * np.abs(r))
        return float(out) if out.ndim == 0 else out.tolist()
    if isinstance(kind, kinds.Function) and (kind.atol or kind.rtol):
        def moved(*args: Any) -> Any:
            out = ref(*args)
            if isinstance(out, tuple):
                return tuple(o + factor * (kind.atol + kind.rtol * o.abs()) for o in out)
            out = torch.as_tensor(out, dtype=torch.float64)
            return out + factor * (kind.atol + kind.rtol * out.abs())
        return moved
    return None


def near_answers(kind: Any, ref: Any) -> list[tuple[str, Any]]:
    out = []
    for f in CLOSE_FACTORS:
        for sign in (1, -1):
            if isinstance(kind, kinds.Tuple):
                for i, part in enumerate(kind.parts):
                    moved = nudge(part, ref[i], sign * f)
                    if moved is not None:
                        out.append((f"part {i + 1} {sign * f:+g} tol", tuple(moved if j == i else r
                                                                             for j, r in enumerate(ref))))
            else:
                moved = nudge(kind, ref, sign * f)
                if moved is not None:
                    out.append((f"{sign * f:+g} tol", moved))
    return out


# ------------------------------------------------------------------ the fuzz

def is_close_message(message: str) -> bool:
    return "close" in message.lower() and "more digits" in message.lower()


def is_float64_message(message: str) -> bool:
    return "float64" in message and "float32" in message


def reference(ex: engine.Exercise) -> Any:
    get = getattr(engine, "reference", None)
    return get(ex.id) if get is not None else ex.reference


def matching_mistakes(ex: engine.Exercise, answer: Any) -> list[engine.Mistake]:
    try:
        normalised = ex.kind.normalise(answer)
    except Exception:
        return []
    return [m for m in ex.mistakes if engine._matches(ex, m, normalised)]


def float32_reaches(ex: engine.Exercise, answer: Any) -> bool | None:
    """Whether this float32 form is within the tolerance when read exactly (None: no tolerance to ask)."""
    try:
        got, ref = ex.kind.normalise(answer), ex.kind.normalise(reference(ex))
        if ex.accepts is not None:  # no tolerance: float32 fails to reach only if it changed the value
            return bool(np.array_equal(flat(got), flat(ref)))
        return bool(ex.kind.equal(got, ref))
    except Exception:
        return False


def flat(x: Any) -> np.ndarray:
    if isinstance(x, kinds.Evaluated):
        x = x.outputs
    if isinstance(x, (tuple, list)):
        return np.concatenate([flat(e) for e in x]) if x else np.zeros(0)
    return np.asarray(x, dtype=np.float64).ravel()


def fuzz(ids: list[str] | None = None) -> dict[str, Any]:
    """Try every exercise (or those in ``ids``); return the counts and the failures, one line each."""
    counts: Counter = Counter()
    failures: list[str] = []
    per_exercise: Counter = Counter()
    for ex_id in ids or [info.id for info in list_exercises()]:
        ex = engine.REGISTRY[ex_id]
        ref = reference(ex)
        for name, answer in forms(ex.kind, ref):
            verdict = check_answer(ex.id, answer)
            counts["right answers tried"] += 1
            if verdict:
                continue
            f32 = is_float32(name)
            if f32 and float32_reaches(ex, answer) is False and is_float64_message(verdict.message):
                continue  # float32 cannot reach this tolerance, and the student is told so
            counts["right answers rejected"] += 1
            per_exercise[ex.id] += 1
            if not (f32 and is_float64_message(verdict.message)):
                counts["right answers given a method hint"] += 1
            failures.append(f"{ex.id}: right answer as {name} -> {verdict!r}")
        for name, answer in near_answers(ex.kind, ref):
            verdict = check_answer(ex.id, answer)
            counts["near answers tried"] += 1
            on_mistake = matching_mistakes(ex, answer)
            if verdict.status == "incorrect" and (is_close_message(verdict.message)
                                                  or (on_mistake and verdict.message == on_mistake[0].hint)):
                continue
            counts["near answers misled"] += 1
            per_exercise[ex.id] += 1
            failures.append(f"{ex.id}: answer {name} from the reference -> {verdict!r}")
        for mistake in ex.mistakes:
            verdict = check_answer(ex.id, mistake.sample)
            counts["mistakes tried"] += 1
            others = [m for m in matching_mistakes(ex, mistake.sample) if m is not mistake]
            if verdict.status == "incorrect" and verdict.message == mistake.hint and not others:
                continue
            counts["mistakes given a wrong or shared hint"] += 1
            per_exercise[ex.id] += 1
            failures.append(f"{ex.id}: mistake {mistake.hint[:50]!r}... -> {verdict!r}"
                            + (f" (also matches {len(others)} other mistake(s))" if others else ""))
    return {"counts": counts, "failures": failures, "per_exercise": per_exercise}


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return fuzz()


def test_every_exercise_is_fuzzed(report: dict[str, Any]) -> None:
    assert report["counts"]["right answers tried"] >= 8 * len(list_exercises())
    assert report["counts"]["near answers tried"] > 100
    assert report["counts"]["mistakes tried"] == sum(len(ex.mistakes) for ex in engine.REGISTRY.values())


def test_no_right_answer_is_rejected_or_misled(report: dict[str, Any]) -> None:
    bad = [f for f in report["failures"] if ": right answer" in f]
    assert not bad, "\n".join(bad)


def test_near_answers_are_told_to_give_more_digits(report: dict[str, Any]) -> None:
    bad = [f for f in report["failures"] if "from the reference" in f]
    assert not bad, "\n".join(bad)


def test_each_mistake_gets_its_own_hint(report: dict[str, Any]) -> None:
    bad = [f for f in report["failures"] if ": mistake " in f]
    assert not bad, "\n".join(bad)


# ------------------------------------------------------------------ the prompts state the checkers' precision

def check_lines() -> dict[str, str]:
    lines = {}
    for md in sorted((ROOT / "notebooks").glob("*.md")):
        for line in md.read_text(encoding="utf-8").splitlines():
            m = re.search(r'check_answer\("([a-z0-9-]+)", your_answer\)', line)
            if m and line.startswith("Check your answer"):
                lines[m.group(1)] = line
    return lines


def test_every_prompt_states_the_checkers_precision() -> None:
    lines = check_lines()
    missing = [info.id for info in list_exercises() if info.id not in lines]
    assert not missing, f"exercises without a 'Check your answer' line: {missing}"
    wrong = []
    for info in list_exercises():
        precision = getattr(engine.REGISTRY[info.id].kind, "precision", "")
        for part in [p for p in precision.split("; ") if p]:
            if part not in lines[info.id]:
                wrong.append(f"{info.id}: the prompt does not say {part!r}: {lines[info.id]}")
    assert not wrong, "\n".join(wrong)


# The gate sees what it is for: each planted defect below is reported by fuzz().
PLANTED = ["vanishing-gradients-one-percent", "greedy-vs-beam-ratio", "bptt-h0", "multihead-parameters-base"]


def test_planted_tolerance_stricter_than_stated_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    ex = engine.REGISTRY["vanishing-gradients-one-percent"]
    monkeypatch.setattr(ex.kind, "atol", ex.kind.atol / 100)
    assert fuzz(PLANTED)["counts"]["right answers rejected"] > 0


def test_planted_loss_of_the_close_message_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "NEAR_FACTOR", 1.0)
    assert fuzz(PLANTED)["counts"]["near answers misled"] > 0


def test_planted_float32_method_hint_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "is_low_precision", lambda x: False)
    assert fuzz(PLANTED)["counts"]["right answers given a method hint"] > 0


def test_planted_shared_hint_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    ex = engine.REGISTRY["multihead-parameters-base"]
    twin = engine.Mistake("planted", value=ex.mistakes[0].value)
    monkeypatch.setitem(engine.REGISTRY, ex.id, engine.Exercise(
        ex.id, ex.chapter, ex.title, ex.kind, ex.reference, ex.hint, ex.mistakes + (twin,), ex.accepts, ex.near))
    assert fuzz(PLANTED)["counts"]["mistakes given a wrong or shared hint"] > 0


if __name__ == "__main__":
    result = fuzz()
    for key, value in result["counts"].items():
        print(f"{key}: {value}")
    print("per exercise:", dict(result["per_exercise"]))
    print("\n".join(result["failures"]))


# ------------------------------------------------------------------ the answers chapter review 2 found mishandled

def _uneven_formula(ln3: float, dtype: torch.dtype | None = torch.float64) -> Callable[[float], torch.Tensor]:
    def q(beta: float) -> torch.Tensor:
        kw = {} if dtype is None else {"dtype": dtype}
        return beta * torch.tensor([1.0, 1.0, 0.0, 0.0], **kw) + ln3 * torch.tensor([1.0, 0.0, 0.0, 0.0], **kw)
    return q


def _told(kind: str) -> Callable[[Any], bool]:
    return {
        "correct": lambda v: v.status == "correct",
        "close": lambda v: v.status == "incorrect" and is_close_message(v.message),
        "float64": lambda v: v.status == "incorrect" and is_float64_message(v.message),
        "both roads": lambda v: v.status == "incorrect" and "W_O" in v.message and "768" in v.message,
        "this variant": lambda v: v.status == "incorrect" and "this chapter's" in v.message,
    }[kind]


REVIEW_CASES = [
    ("vanishing-gradients-one-percent", 4.58, "correct"),
    ("vanishing-gradients-one-percent", 4.6, "close"),  # the solution's own "about 4.6"
    ("attention-average-uneven", _uneven_formula(math.log(3), torch.float32), "float64"),
    ("attention-average-uneven", _uneven_formula(1.0986), "correct"),
    ("attention-average-uneven", _uneven_formula(1.099), "correct"),
    ("attention-average-uneven", _uneven_formula(1.0986, None), "correct"),  # torch.tensor's default dtype
    ("attention-average-uneven", _uneven_formula(1.1), "close"),
    ("multihead-parameters-fixed-head", 3 * (768 * 1024 + 1024), "both roads"),
    ("hard-attention-region", (0.0, 1e-12), "correct"),
    ("orthogonal-self-attention-scaled", lambda beta, m: torch.tensor(beta / m**0.25, dtype=torch.float32), "correct"),
    ("rnn-shapes-delay", lambda T, D: (T - D) * (T - D - 1) // 2, "correct"),  # the formula for D <= T
    ("bptt-ten-sigmoids", 3.8752e-7, "correct"),
    ("alternating-rnn-gain", 13.82, "correct"),
    ("greedy-vs-beam-width-one", "eos", "this variant"),
    ("greedy-vs-beam-ratio", (0.25, 0.75, 1.3333), "correct"),
    ("elbo-diagonal", [[1e-5, 2e-5], [1e-5, 0.0]], "correct"),  # columns at cosine 0.45: not orthogonal
]


@pytest.mark.parametrize("ex_id, answer, told", REVIEW_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(REVIEW_CASES)])
def test_the_reviews_answers_are_handled(ex_id: str, answer: Any, told: str) -> None:
    verdict = check_answer(ex_id, answer)
    assert _told(told)(verdict), repr(verdict)


def test_orthogonal_scaled_is_never_called_with_fewer_than_four_dimensions() -> None:
    assert min(args[1] for args in engine.REGISTRY["orthogonal-self-attention-scaled"].kind.inputs) >= 4


def test_rnn_delay_stays_in_the_prompts_range() -> None:
    assert all(0 <= D <= T for T, D in engine.REGISTRY["rnn-shapes-delay"].kind.inputs)
