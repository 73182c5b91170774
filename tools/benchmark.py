"""Measure the test suite and the book build against their budgets; write a JSON report.

Usage (from the repository root, after ``make venv``)::

    python -m tools.benchmark [--out bench/report.json] [--skip-full-test]

Everything runs in a scratch clone of the current commit, so the working tree is
never touched.  Measured:

* the per-notebook floor: a fresh kernel running ``import torch`` under nbval;
* nbval time of every notebook, serially (one notebook at a time) and in
  parallel (``-n 2 --dist loadfile``);
* peak resident memory of each notebook's kernel;
* the book build: cold, warm with nothing changed, after a prose-only change,
  and after one notebook's code changed (and which notebooks re-executed);
* the bytes a chapter page loads (every file the browser fetches, offline), after the book build;
* the full test command (``make test``) from a fresh clone, with the package
  caches warm.

Budgets (2 CPU cores) are checked and reported, never weakened: no notebook over
10 s, median notebook at most 3x the floor, total nbval at most 90 s, warm book
build under 10 s, a one-notebook change re-executes only that notebook, full test
command under 5 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NBVAL = ["--nbval", "--nbval-current-env", "--nbval-sanitize-with", "tests/nbval_sanitize.cfg", "-p",
         "no:cacheprovider", "-q"]
BUDGETS = {
    "max_notebook_s": 10.0,
    "median_over_floor": 3.0,
    "total_nbval_s": 90.0,
    "warm_build_s": 10.0,
    "full_test_s": 300.0,
}


def run(cmd: list[str] | str, cwd: Path, env: dict | None = None, check: bool = True) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, shell=isinstance(cmd, str), capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if check and proc.returncode != 0:
        raise RuntimeError(f"{cmd} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return elapsed, proc.stdout + proc.stderr


def clone(source: Path, into: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(source), str(into)], check=True)
    return into


def link_environment(source: Path, work: Path) -> None:
    """Reuse the source checkout's venv and node_modules (the package caches are warm).

    The venv is shared, so it must not be changed: the clone's ``dlnotes`` is put
    first on ``PYTHONPATH`` for this process and every process it starts
    (pytest, kernels, Sphinx) instead of re-installing the editable package.
    """
    for name in (".venv", "node_modules"):
        if (source / name).exists() and not (work / name).exists():
            os.symlink(source / name, work / name)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(work), os.environ.get("PYTHONPATH", "")]))
    sys.path.insert(0, str(work))


def nbval_per_notebook(work: Path, python: str, notebooks: list[Path]) -> dict[str, float]:
    times = {}
    for nb in notebooks:
        elapsed, _ = run([python, "-m", "pytest", str(nb.relative_to(work)), *NBVAL], cwd=work)
        times[nb.stem] = round(elapsed, 2)
    return times


def floor(work: Path, python: str) -> float:
    import nbformat

    probe = work / "notebooks" / "_floor_probe.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import torch")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, probe)
    try:
        samples = [run([python, "-m", "pytest", str(probe.relative_to(work)), *NBVAL], cwd=work)[0]
                   for _ in range(3)]
    finally:
        probe.unlink()
    return round(statistics.median(samples), 2)


def peak_memory_mb(work: Path, notebooks: list[Path]) -> dict[str, float]:
    import nbformat
    from nbclient import NotebookClient

    peaks = {}
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell(
            "import resource; print('PEAK_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"))
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
        peaks[path.stem] = round(int(re.search(r"PEAK_KB (\d+)", text).group(1)) / 1024, 1)
    return peaks


def executed_notebooks(build_log: str) -> list[str]:
    """Stems of the notebooks that a book build executed (rather than took from the cache)."""
    executed = {Path(p).stem for p in re.findall(r"^(\S+\.ipynb): Executing notebook", build_log, re.M)}
    for listing in re.findall(r"executed for the book: \d+ notebooks (\[.*?\])", build_log):
        executed |= set(json.loads(listing.replace("'", '"')))
    return sorted(executed)


def book_builds(work: Path) -> dict:
    jb = str(work / ".venv/bin/jupyter-book")
    py = str(work / ".venv/bin/python")
    # what `make book` runs once the environment is in place
    build = (f"{py} -m tools.notebooks guard-cache _build && "
             f"{py} -m tools.notebooks prefill-cache _build && {jb} build . -W -n --keep-going")
    shutil.rmtree(work / "_build", ignore_errors=True)
    subprocess.run(["make", "assets"], cwd=work, check=True, capture_output=True)
    cold, log_cold = run(build, cwd=work)
    warm, log_warm = run(build, cwd=work)

    notebooks = sorted((work / "notebooks").glob("*.md"))
    target = notebooks[0]
    text = target.read_text(encoding="utf-8")
    # A prose-only change: one more sentence in the first markdown paragraph after the title.
    target.write_text(text.replace("\n## Question\n", "\n## Question\n\nA sentence added for the benchmark.\n", 1),
                      encoding="utf-8")
    run([py, "-m", "tools.notebooks", "sync", str(target.relative_to(work))], cwd=work)
    prose, log_prose = run(build, cwd=work)

    # A code change: one more line at the end of the last code cell (after any cell options).
    code = target.read_text(encoding="utf-8")
    last_cell = code.rindex("```{code-cell}")
    closing = code.index("\n```", last_cell + len("```{code-cell}"))
    target.write_text(code[:closing] + "\nbenchmark_marker = 1" + code[closing:], encoding="utf-8")
    run([py, "-m", "tools.notebooks", "sync", "--force", str(target.relative_to(work))], cwd=work)
    one, log_one = run(build, cwd=work)
    return {
        "cold_s": round(cold, 2),
        "warm_nothing_changed_s": round(warm, 2),
        "prose_only_change_s": round(prose, 2),
        "one_notebook_code_change_s": round(one, 2),
        "changed_notebook": target.stem,
        "executed_cold": executed_notebooks(log_cold),
        "executed_warm": executed_notebooks(log_warm),
        "executed_after_prose_change": executed_notebooks(log_prose),
        "executed_after_code_change": executed_notebooks(log_one),
    }


def page_bytes(site: Path, page: str = "notebooks/elbo.html") -> dict:
    """Files and bytes a page of the built site loads in headless Chromium, offline, once its math is typeset.

    The target (issue 14) is under half of the 5.2 MB a chapter page loaded before the site was lightened.
    """
    from urllib.parse import unquote, urlparse

    from playwright.sync_api import sync_playwright

    chromium = next(filter(None, map(shutil.which, (os.environ.get("CHROMIUM") or "chromium",
                                                    "chromium-browser", "google-chrome"))))
    loaded: set[str] = set()

    def route(request_route):
        url = request_route.request.url
        if url.startswith("file://"):
            loaded.add(unquote(urlparse(url).path))
            request_route.continue_()
        else:
            request_route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        context = browser.new_context()
        context.route("**/*", route)
        page_view = context.new_page()
        page_view.goto((site / page).resolve().as_uri(), wait_until="load")
        page_view.wait_for_function("!window.MathJax || (MathJax.startup && MathJax.startup.promise)", timeout=20_000)
        page_view.evaluate("window.MathJax && MathJax.startup.promise")
        page_view.wait_for_timeout(300)
        browser.close()
    sizes = {path: Path(path).stat().st_size for path in loaded if Path(path).is_file()}
    return {"page": page, "files": len(sizes), "bytes": sum(sizes.values()),
            "largest": {str(Path(p).relative_to(site.resolve())): n
                        for p, n in sorted(sizes.items(), key=lambda kv: -kv[1])[:5]}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.benchmark")
    parser.add_argument("--out", type=Path, default=Path("bench/report.json"))
    parser.add_argument("--skip-full-test", action="store_true", help="do not time `make test` from a fresh clone")
    args = parser.parse_args(argv)
    source = Path.cwd()
    report: dict = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "commit": subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip(),
        "budgets": BUDGETS,
    }
    with tempfile.TemporaryDirectory(prefix="dlnotes-bench-") as tmp:
        work = clone(source, Path(tmp) / "work")
        link_environment(source, work)
        python = str(work / ".venv/bin/python")
        notebooks = sorted((work / "notebooks").glob("*.ipynb"))

        print("floor ...", flush=True)
        report["floor_s"] = floor(work, python)
        print("nbval serial ...", flush=True)
        per_nb = nbval_per_notebook(work, python, notebooks)
        report["nbval_per_notebook_s"] = per_nb
        report["nbval_serial_total_s"] = round(sum(per_nb.values()), 2)
        report["nbval_per_notebook_over_floor"] = {k: round(v / report["floor_s"], 2) for k, v in per_nb.items()}
        print("nbval parallel ...", flush=True)
        report["nbval_parallel_total_s"] = round(run(
            [python, "-m", "pytest", "notebooks", *NBVAL, "-n", "2", "--dist", "loadfile"], cwd=work)[0], 2)
        print("peak memory ...", flush=True)
        report["kernel_peak_memory_mb"] = peak_memory_mb(work, notebooks)
        print("book builds ...", flush=True)
        report["book"] = book_builds(work)
        print("page bytes ...", flush=True)
        report["chapter_page"] = page_bytes(work / "_build" / "html")

    if not args.skip_full_test:
        print("full test command from a fresh clone ...", flush=True)
        with tempfile.TemporaryDirectory(prefix="dlnotes-bench-full-") as tmp:
            fresh = clone(source, Path(tmp) / "fresh")
            elapsed, log = run(["make", "test"], cwd=fresh, check=False)
            report["full_test_s"] = round(elapsed, 1)
            report["full_test_passed"] = "make test: every check passed" in log

    times = list(report["nbval_per_notebook_s"].values())
    book = report["book"]
    report["budget_results"] = {
        "no notebook over 10 s": max(times) <= BUDGETS["max_notebook_s"],
        "median notebook at most 3x the floor":
            statistics.median(times) <= BUDGETS["median_over_floor"] * report["floor_s"],
        "total nbval at most 90 s": report["nbval_parallel_total_s"] <= BUDGETS["total_nbval_s"],
        "warm book build under 10 s": book["warm_nothing_changed_s"] < BUDGETS["warm_build_s"],
        "prose-only change re-executes nothing": book["executed_after_prose_change"] == [],
        "one-notebook change re-executes only that notebook":
            book["executed_after_code_change"] == [book["changed_notebook"]],
        "a chapter page loads under 2.6 MB": report["chapter_page"]["bytes"] < 2_600_000,
    }
    if "full_test_s" in report:
        report["budget_results"]["full test command under 5 minutes"] = (
            report["full_test_passed"] and report["full_test_s"] < BUDGETS["full_test_s"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report["budget_results"], indent=2))
    print(f"report written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
