"""Fault injection: every dlnotes function a chapter calls is guarded by some check.

A check that passes whatever the library computes proves nothing.  For each
public ``dlnotes`` function the chapters call (found in their code cells, as
the API page's "Used in" finds them), this tool injects a small fault into its
output and runs every chapter that calls it; some check must fail.

The faults, applied to what the function returns:

* real numbers and floating tensors: a relative perturbation of ``1e-6``
  (``x * (1 + 1e-6)``; an exact zero becomes ``1e-6``);
* integers and integer tensors: off by one (a tensor's first element);
* booleans: negated (a tensor's first element);
* tuples, lists, dicts, dataclasses: the first element (value, field) that can be perturbed;
* a returned callable (a language model, a step function): its outputs.

The fault is activated from outside the library: a ``sitecustomize`` on the
kernel's ``PYTHONPATH`` reads ``DLNOTES_FAULT=dlnotes.module.function`` when
the kernel starts and replaces that function wherever ``dlnotes`` holds it, so
the notebook's own imports get the faulty one.  The library is not edited.

Outcomes per (function, chapter): ``caught`` (a ``CheckFailed``), ``rejected``
(a ``ValueError`` or ``TypeError`` from dlnotes's own argument checks: the
faulty value was refused before any result was stated, e.g. probabilities that
no longer sum to one), ``crashed`` (another exception: noticed, but not by a
check; reported with its type), ``survived`` (every check passed), ``not
called`` (the chapter never reached the function).  A function is guarded when
some chapter caught or rejected its fault.
Not included, because they compute no result a chapter states: the checking and
set-up helpers (``check``, ``check_bound``, ``device``, ``seed``, the
random-input helpers), the random initialisations ``init_rnn`` and
``init_transformer`` (inputs, like ``randn``: a perturbed draw is another valid
draw), ``time_sweep`` (timings differ by far more than a part in a million from
run to run; what a chapter checks is a hypothesis on the fitted exponent, and
``fit_exponent`` itself is guarded), and ``doctor.report``, which the install
cell calls only right after installing dlnotes.

Usage::

    python -m tools.faults [--only NAME ...] [-j 2] [--report bench/report.json]

prints the table and merges ``{"faults": ...}`` into the report; exit status 1
if some function is not guarded.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tools.audit_source import read_chapter

NOT_RESULTS = {"dlnotes.check", "dlnotes.check_bound", "dlnotes.device", "dlnotes.seed", "dlnotes.seed_offset",
               "dlnotes.generator", "dlnotes.numpy_rng", "dlnotes.randn", "dlnotes.rand", "dlnotes.randint",
               "dlnotes.runtime.device", "dlnotes.runtime.seed", "dlnotes.checking.check",
               "dlnotes.checking.check_bound", "dlnotes.complexity.init_rnn", "dlnotes.complexity.init_transformer",
               "dlnotes.complexity.time_sweep", "dlnotes.measurement.time_sweep", "dlnotes.doctor.report"}

HOOK = r'''
"""Inject one fault into a dlnotes function (tools/faults.py); active only with DLNOTES_FAULT set."""
import os

_TARGET = os.environ.get("DLNOTES_FAULT")
if _TARGET:
    import dataclasses
    import functools
    import importlib
    import numbers
    import pkgutil
    import sys

    import numpy as np
    import torch

    import dlnotes

    _REL = 1e-6
    _LOG = os.environ.get("DLNOTES_FAULT_LOG")

    def _perturb(x):
        """(x with one fault, whether anything changed)."""
        if isinstance(x, (bool, np.bool_)):
            return (not x), True
        if isinstance(x, (numbers.Integral, np.integer)):
            return x + 1, True
        if isinstance(x, (float, np.floating)):
            return (x * (1 + _REL) if x != 0 else type(x)(_REL)), True
        if isinstance(x, complex):
            return (x * (1 + _REL) if x != 0 else complex(_REL)), True
        if isinstance(x, torch.Tensor):
            if x.numel() == 0:
                return x, False
            if x.is_floating_point() or x.is_complex():
                return torch.where(x == 0, torch.full_like(x, _REL), x * (1 + _REL)), True
            flat = x.detach().clone().reshape(-1)
            flat[0] = ~flat[0] if x.dtype == torch.bool else flat[0] + 1
            return flat.reshape(x.shape), True
        if isinstance(x, np.ndarray):
            if x.size == 0:
                return x, False
            if x.dtype.kind in "fc":
                return np.where(x == 0, _REL, x * (1 + _REL)).astype(x.dtype), True
            flat = x.copy().reshape(-1)
            flat[0] = ~flat[0] if x.dtype.kind == "b" else flat[0] + 1
            return flat.reshape(x.shape), True
        if isinstance(x, (tuple, list)):
            items = list(x)
            for i, item in enumerate(items):
                new, changed = _perturb(item)
                if changed:
                    items[i] = new
                    if hasattr(x, "_fields"):
                        return type(x)(*items), True
                    return type(x)(items), True
            return x, False
        if isinstance(x, dict):
            for key, item in x.items():
                new, changed = _perturb(item)
                if changed:
                    out = dict(x)
                    out[key] = new
                    return out, True
            return x, False
        if dataclasses.is_dataclass(x) and not isinstance(x, type):
            for item in dataclasses.fields(x):
                new, changed = _perturb(getattr(x, item.name))
                if changed:
                    return dataclasses.replace(x, **{item.name: new}), True
            return x, False
        if callable(x):
            @functools.wraps(x)
            def faulty_result(*args, **kwargs):
                return _perturb(x(*args, **kwargs))[0]
            return faulty_result, True
        return x, False

    for _info in pkgutil.walk_packages(dlnotes.__path__, "dlnotes."):
        importlib.import_module(_info.name)
    _module_name, _name = _TARGET.rsplit(".", 1)
    _original = getattr(importlib.import_module(_module_name), _name)

    @functools.wraps(_original)
    def _faulty(*args, **kwargs):
        result, changed = _perturb(_original(*args, **kwargs))
        if _LOG:
            with open(_LOG, "a") as log:
                log.write("perturbed\n" if changed else "unchanged\n")
        return result

    for _module in list(sys.modules.values()):
        if getattr(_module, "__name__", "").split(".")[0] == "dlnotes":
            for _attr, _value in list(vars(_module).items()):
                if _value is _original:
                    setattr(_module, _attr, _faulty)
'''


def functions_called(root: Path = Path(".")) -> dict[str, list[str]]:
    """Public dlnotes functions the chapters call -> the chapters (``notebooks/X.md``) that call them."""
    import importlib
    import inspect

    from tools.sphinx_ext import _names_used

    users: dict[str, set[str]] = {}
    for md in sorted((root / "notebooks").glob("*.md")):
        for cell in read_chapter(md).cells:
            for name in _names_used(cell.code):
                users.setdefault(name, set()).add(str(md))
    called = {}
    for name, chapters in users.items():
        module_name, _, attr = name.rpartition(".")
        if name in NOT_RESULTS or attr.startswith("_") or "exercises" in name:
            continue
        try:
            obj = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError, ValueError):
            continue  # a module, not a function
        if inspect.isfunction(obj):
            called[name] = sorted(chapters)
    return dict(sorted(called.items()))


def _run(task: tuple[str | None, str, str]) -> dict:
    from tools.audit_seeds import run_notebook

    function, chapter, hook_dir = task
    log = tempfile.NamedTemporaryFile(prefix="dlnotes-fault-", suffix=".log", delete=False)
    log.close()
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [hook_dir, os.environ.get("PYTHONPATH", "")])),
           "DLNOTES_FAULT_LOG": log.name}
    if function:
        env["DLNOTES_FAULT"] = function
    start = time.perf_counter()
    record = run_notebook(chapter, [0], extra_env=env)[0]
    calls = Path(log.name).read_text().split()
    os.unlink(log.name)
    status = {"passed": "survived", "check failed": "caught", "error": "crashed"}[record["status"]]
    if status == "crashed" and record["error"].split(":")[0] in ("ValueError", "TypeError"):
        status = "rejected"  # dlnotes's own validation refused the faulty value
    if status == "survived" and function and "perturbed" not in calls:
        status = "not called" if not calls else "not perturbable"
    return {"function": function, "chapter": chapter, "outcome": status, "error": record["error"],
            "cell": record["cell"], "calls": len(calls), "seconds": round(time.perf_counter() - start, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.faults", description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="only these functions (qualified names)")
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("--report", type=Path, default=Path("bench/report.json"))
    parser.add_argument("--no-baseline", action="store_true", help="skip running each chapter without a fault first")
    args = parser.parse_args(argv)

    called = functions_called()
    if args.only:
        called = {k: v for k, v in called.items() if k in args.only}
    hook_dir = tempfile.mkdtemp(prefix="dlnotes-faults-")
    Path(hook_dir, "sitecustomize.py").write_text(HOOK)
    chapters = sorted({c for cs in called.values() for c in cs})
    start = time.perf_counter()
    tasks = [] if args.no_baseline else [(None, c, hook_dir) for c in chapters]
    tasks += [(f, c, hook_dir) for f, cs in called.items() for c in cs]
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(_run, tasks))
    baseline_failed = [r["chapter"] for r in results if r["function"] is None and r["outcome"] != "survived"]
    if baseline_failed:
        print(f"these chapters fail without any fault; their outcomes mean nothing: {baseline_failed}")

    table: dict[str, dict] = {}
    for r in results:
        if r["function"] is None:
            continue
        entry = table.setdefault(r["function"], {"chapters": {}, "caught_by": []})
        entry["chapters"][Path(r["chapter"]).stem] = r["outcome"] + (f" ({r['error']})" if r["error"] else "")
        if r["outcome"] in ("caught", "rejected"):
            entry["caught_by"].append(Path(r["chapter"]).stem)
    for entry in table.values():
        entry["kill_rate"] = round(len(entry["caught_by"]) / len(entry["chapters"]), 3)
        entry["guarded"] = bool(entry["caught_by"])
    elapsed = time.perf_counter() - start
    width = max((len(f) for f in table), default=10)
    print(f"{'function':<{width}}  kill rate  chapters run: outcome")
    for function, entry in table.items():
        outcomes = "; ".join(f"{c}: {o}" for c, o in entry["chapters"].items())
        print(f"{function:<{width}}  {len(entry['caught_by'])}/{len(entry['chapters'])}        {outcomes}")
    guarded = sum(e["guarded"] for e in table.values())
    print(f"functions guarded by a check: {guarded} of {len(table)} ({elapsed:.0f} s)")

    # merge: a run with --only updates its functions and keeps the others' last results
    report = json.loads(args.report.read_text()) if args.report.exists() else {}
    merged = dict(report.get("faults", {}).get("functions", {})) if args.only else {}
    merged.update(table)
    report["faults"] = {"functions": dict(sorted(merged.items())),
                        "guarded": sum(e["guarded"] for e in merged.values()),
                        "total": len(merged), "seconds": round(elapsed, 1), "baseline_failures": baseline_failed,
                        "relative_perturbation": 1e-6}
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(report, indent=1) + "\n")
    return 0 if guarded == len(table) and not baseline_failed else 1


if __name__ == "__main__":
    sys.exit(main())
