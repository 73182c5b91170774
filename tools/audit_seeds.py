"""Seed run: every check of every chapter must pass under other random draws.

``DLNOTES_SEED_OFFSET=k`` shifts every seed the chapters use (``dlnotes.seed``,
``dlnotes.generator``, ``dlnotes.numpy_rng``; see ``dlnotes/runtime.py``), so each
offset is a fresh draw of every random input.  A claim about deep learning holds
for any draw; a check that fails under some offset states a fact about one draw
(fix it with a margin from its standard error, or mark it ``about_this_draw``,
which the seed run skips).  Stored outputs are not compared here: only that
every cell runs and every check passes.

Starting a kernel and importing torch costs about 3 s per notebook, more than
many notebooks take to run, so each worker (two by default) starts one kernel
and runs its share of the notebooks in it, every offset of a notebook one after
the other: before each run the namespace is reset (``%reset -f``, figures
closed) and ``DLNOTES_SEED_OFFSET`` set inside the kernel (dlnotes reads it at
call time).  Imported modules stay loaded; no chapter changes global state that
another relies on (the thread count is 1 throughout, set by the environment).

With ``--compare-stored``, the run at offset 0 (the book's own draw) must also
reproduce every stored text output byte for byte (cells tagged
``nbval-ignore-output`` aside): ``make test-repro`` runs offsets 0, 1 and 2 this
way, with two threads and the network blocked, so one kernel start per worker
serves both the reproducibility run and the seed run.

Usage::

    python -m tools.audit_seeds --offsets 1-5 [-j 2] [--compare-stored] [notebooks/X.md ...] [--json out.json]

prints one line per notebook and offset (passed, a failed check, or another
error) and the time taken; exit status 1 if anything failed.
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

RESET = """\
%reset -f
import os as _os
_os.environ["DLNOTES_SEED_OFFSET"] = "{offset}"
try:
    import matplotlib.pyplot as _plt
    _plt.close("all")
except ImportError:
    pass
del _os
"""


def parse_offsets(text: str) -> list[int]:
    """'1-5' -> [1, 2, 3, 4, 5]; '1,3' -> [1, 3]."""
    offsets: list[int] = []
    for part in text.split(","):
        if "-" in part:
            low, high = part.split("-", 1)
            offsets += range(int(low), int(high) + 1)
        elif part.strip():
            offsets.append(int(part))
    if not offsets or any(k < 0 for k in offsets):
        raise ValueError(f"offsets must be non-negative integers, got {text!r}")
    return offsets


IGNORED_TAGS = {"nbval-ignore-output", "nbval-skip"}
TEXT_MIME = ("text/plain", "text/html", "text/markdown", "text/latex", "application/json")


def text_outputs(cell) -> list:
    """The outputs of a code cell as comparable text, consecutive streams merged (images are not compared)."""
    import copy

    from tools.notebooks import coalesce_streams

    result = []
    for out in coalesce_streams(copy.deepcopy(cell.get("outputs", []))):
        kind = out["output_type"]
        if kind == "stream":
            result.append((kind, out["name"], out["text"]))
        elif kind in ("execute_result", "display_data"):
            result.append((kind, {m: out["data"][m] for m in TEXT_MIME if m in out["data"]}))
        else:
            result.append((kind, out.get("ename"), out.get("evalue")))
    return result


def _error_of(cell) -> tuple[str, str]:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return out.get("ename", ""), out.get("evalue", "")
    return "", ""


def run_notebooks(paths: list[str], offsets: list[int], timeout: int = 600,
                  extra_env: dict | None = None, compare_stored: bool = False) -> list[dict]:
    """Execute each notebook's stored code once per offset, all in one kernel; one record per run.

    The namespace is reset before every run, so a notebook sees only what it
    defines; imported modules (torch) stay loaded, which is what saves the time.
    """
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    env = dict(os.environ, **(extra_env or {}))
    env.setdefault("OMP_NUM_THREADS", "1")
    env.pop("DLNOTES_SEED_OFFSET", None)
    # Unix sockets, not TCP: nothing listens on the network
    manager = KernelManager(kernel_name="python3", transport="ipc",
                            ip=os.path.join(tempfile.mkdtemp(prefix="dlnotes-seeds-"), "kernel"))
    scratch = nbformat.v4.new_notebook(cells=[])
    folder = Path(paths[0]).parent.resolve() if paths else Path(".")
    client = NotebookClient(scratch, km=manager, timeout=timeout, allow_errors=False, record_timing=False,
                            resources={"metadata": {"path": str(folder)}})
    records = []
    try:
        _execute_all(client, scratch, paths, offsets, records, env, compare_stored)
    finally:
        if manager.has_kernel:
            manager.shutdown_kernel(now=True)
    return records


def _execute_all(client, scratch, paths: list[str], offsets: list[int], records: list[dict], env: dict,
                 compare_stored: bool) -> None:
    import nbformat
    from nbclient.exceptions import CellExecutionError

    with client.setup_kernel(env=env):
        for path in paths:
            ipynb = Path(path).with_suffix(".ipynb")
            code_cells = [c for c in nbformat.read(ipynb, as_version=4).cells if c.cell_type == "code"]
            for offset in offsets:
                start = time.perf_counter()
                cells = [nbformat.v4.new_code_cell(RESET.format(offset=offset))]
                cells += [nbformat.v4.new_code_cell(c.source) for c in code_cells]
                scratch.cells = cells
                record = {"notebook": str(ipynb), "offset": offset, "status": "passed", "cell": None, "error": ""}
                for index, cell in enumerate(cells):
                    try:
                        client.execute_cell(cell, index)
                    except CellExecutionError:
                        ename, evalue = _error_of(cell)
                        record.update(status="check failed" if ename == "CheckFailed" else "error", cell=index,
                                      error=f"{ename}: {evalue.splitlines()[0] if evalue else ''}")
                        break
                if compare_stored and offset == 0 and record["status"] == "passed":
                    for number, (stored, fresh) in enumerate(zip(code_cells, cells[1:]), start=1):
                        if IGNORED_TAGS & set(stored.metadata.get("tags", [])):
                            continue
                        if text_outputs(fresh) != text_outputs(stored):
                            record.update(status="output changed", cell=number,
                                          error="the text output differs from the stored one")
                            break
                record["seconds"] = round(time.perf_counter() - start, 2)
                records.append(record)


def run_notebook(path: str, offsets: list[int], timeout: int = 600, extra_env: dict | None = None) -> list[dict]:
    """One notebook in a fresh kernel of its own (see :func:`run_notebooks`)."""
    return run_notebooks([path], offsets, timeout=timeout, extra_env=extra_env)


def _share(paths: list[str], workers: int) -> list[list[str]]:
    """Split the notebooks between the workers, the largest first onto the least loaded one."""
    sizes = {p: Path(p).with_suffix(".ipynb").stat().st_size for p in paths}
    shares: list[list[str]] = [[] for _ in range(max(1, min(workers, len(paths))))]
    loads = [0] * len(shares)
    for path in sorted(paths, key=lambda p: -sizes[p]):
        i = loads.index(min(loads))
        shares[i].append(path)
        loads[i] += sizes[path]
    return shares


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.audit_seeds", description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="chapters (.md or .ipynb; default: every notebooks/*.md)")
    parser.add_argument("--offsets", default="1-5", help="seed offsets, e.g. 1-5 or 1,2 (default 1-5)")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="notebooks run at once (default 2)")
    parser.add_argument("--json", type=Path, help="write the records to this file")
    parser.add_argument("--compare-stored", action="store_true",
                        help="at offset 0, also require every stored text output to be reproduced exactly")
    args = parser.parse_args(argv)
    offsets = parse_offsets(args.offsets)
    paths = [str(p) for p in (args.notebooks or sorted(Path("notebooks").glob("*.md")))]
    start = time.perf_counter()
    records: list[dict] = []
    shares = _share(paths, args.jobs)
    with ProcessPoolExecutor(max_workers=len(shares)) as pool:
        for result in pool.map(run_notebooks, shares, [offsets] * len(shares), [600] * len(shares),
                               [None] * len(shares), [args.compare_stored] * len(shares)):
            records += result
    for r in sorted(records, key=lambda r: (r["notebook"], r["offset"])):
        where = f" (code cell {r['cell']}: {r['error']})" if r["status"] != "passed" else ""
        print(f"{r['status']:>13}  offset {r['offset']}  {r['notebook']}  {r['seconds']:.1f} s{where}", flush=True)
    elapsed = time.perf_counter() - start
    failed = [r for r in records if r["status"] != "passed"]
    print(f"seed run: {len(records) - len(failed)} of {len(records)} notebook runs passed "
          f"(offsets {','.join(map(str, offsets))}, {len(paths)} notebooks) in {elapsed:.0f} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"offsets": offsets, "seconds": round(elapsed, 1), "runs": records}, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
