"""Keep every ``notebooks/X.md`` and its paired ``notebooks/X.ipynb`` in step.

The ``.md`` (MyST markdown, Jupytext) is what people edit; the ``.ipynb`` holds
the reviewed outputs that nbval compares against and the book shows.  This
module rebuilds each ``.ipynb`` from its ``.md``:

* prose-only change: the markdown cells are replaced, the stored outputs kept;
* code change (or a missing/unexecuted notebook, or ``--force``): the notebook
  is executed top to bottom in a fresh kernel and its outputs stored.

Each execution is stamped in ``notebooks/verified-on.json`` (``tools/stamp.py``):
versions, commit, device and date live there, beside the notebooks.

The written ``.ipynb`` carries no timestamps, no kernel version strings and
execution counts 1, 2, 3, ... so that re-running it changes nothing unless an
output changed.

Usage::

    python -m tools.notebooks sync [--force] [NOTEBOOK.md ...]
    python -m tools.notebooks check
    python -m tools.notebooks guard-cache _build
    python -m tools.notebooks prefill-cache _build
    python -m tools.notebooks seed-cache _build

The book build caches executed notebooks keyed on their code alone, so a change
to ``dlnotes`` (say, a broken ``softmax``) would not re-execute anything.
``guard-cache`` forgets every executed notebook whenever the library's
fingerprint changed.

``prefill-cache`` executes the notebooks the book's cache lacks, two at a time
(Sphinx would run them one by one), and stores them where the book build looks
them up.  A notebook that fails is not stored, so the build executes it again
itself and fails there, naming the cell.

``seed-cache`` stores the reviewed ``.ipynb`` files themselves as the book's
executed notebooks.  ``make test`` uses it only after nbval and the
reproducibility test have executed every notebook twice and found the stored
outputs equal to both runs, so a third execution would add nothing.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import shutil
import sys
from pathlib import Path

NOTEBOOK_DIR = Path("notebooks")
_KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def paired_notebooks(root: Path = Path(".")) -> list[tuple[Path, Path]]:
    """(md, ipynb) pairs for every Jupytext markdown notebook under ``notebooks/``."""
    pairs = []
    for md in sorted((root / NOTEBOOK_DIR).glob("*.md")):
        head = md.read_text(encoding="utf-8")[:2000]
        if "jupytext" in head:
            pairs.append((md, md.with_suffix(".ipynb")))
    return pairs


def _cells(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def _code(nb) -> list[str]:
    return [c.source.strip() for c in nb.cells if c.cell_type == "code"]


def _tags(nb) -> list[dict]:
    """The cell metadata that changes how a cell is shown: tags and MyST-NB options (alt text, captions)."""
    return [{k: c.metadata.get(k) for k in ("tags", "mystnb") if k in c.metadata}
            for c in nb.cells if c.cell_type == "code"]


def _read_md(md: Path):
    import jupytext

    return jupytext.read(md, fmt="md:myst")


def coalesce_streams(outputs: list) -> list:
    """Merge consecutive stream outputs of the same name.

    How a kernel splits printed text into messages depends on timing, so two
    runs that print the same text can store different lists of stream outputs.
    Merged, they are equal.
    """
    merged: list = []
    for out in outputs:
        if (out.get("output_type") == "stream" and merged and merged[-1].get("output_type") == "stream"
                and merged[-1].get("name") == out.get("name")):
            merged[-1]["text"] = merged[-1]["text"] + out["text"]
        else:
            merged.append(out)
    return merged


def _normalise(nb) -> None:
    """Strip what differs between runs and machines but not between results."""
    nb.metadata["kernelspec"] = dict(_KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    count = 0
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            count += 1
            cell.execution_count = count
            cell.outputs = coalesce_streams(cell.get("outputs", []))
            for out in cell.outputs:
                if "execution_count" in out:
                    out["execution_count"] = count
                out.get("metadata", {}).pop("execution", None)
        cell.pop("id", None)
    nb.nbformat, nb.nbformat_minor = 4, 4


def _execute(nb, workdir: Path, timeout: int = 600):
    from nbclient import NotebookClient

    from tools.kernels import ipc_kernel_manager

    manager = ipc_kernel_manager(prefix="dlnotes-execute-")
    client = NotebookClient(
        nb,
        km=manager,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        allow_errors=False,
        resources={"metadata": {"path": str(workdir)}},
    )
    try:
        client.execute()
    finally:
        # nbclient shuts down only the managers it creates itself
        if manager.has_kernel:
            manager.shutdown_kernel(now=True)
    return nb


def is_unexecuted(nb) -> bool:
    """True if some non-empty code cell has no execution count (outputs never stored)."""
    return any(c.cell_type == "code" and c.source.strip() and c.get("execution_count") is None for c in nb.cells)


def pairing_problems(md: Path, ipynb: Path) -> list[str]:
    """Why ``ipynb`` is not the executed form of ``md`` (empty list if it is)."""
    import nbformat

    if not ipynb.exists():
        return [f"{md}: no paired {ipynb.name}; run `make notebooks`"]
    text_nb = _read_md(md)
    stored = nbformat.read(ipynb, as_version=4)
    problems = []
    if _code(text_nb) != _code(stored):
        problems.append(f"{md} and {ipynb.name}: code cells differ; run `make notebooks` to re-execute")
    elif _cells(text_nb) != _cells(stored):
        problems.append(f"{md} and {ipynb.name}: markdown cells differ; run `make notebooks` to sync")
    elif _tags(text_nb) != _tags(stored):
        problems.append(f"{md} and {ipynb.name}: cell tags or options differ; run `make notebooks` to sync")
    if is_unexecuted(stored):
        problems.append(f"{ipynb}: has code cells without stored outputs; run `make notebooks`")
    if any(o.get("output_type") == "error" for c in stored.cells if c.cell_type == "code" for o in c.outputs):
        problems.append(f"{ipynb}: stores an error output")
    return problems


def sync_one(md: Path, ipynb: Path, *, force: bool = False) -> str:
    """Rebuild ``ipynb`` from ``md``; return what was done: 'executed', 'synced' or 'unchanged'."""
    import nbformat

    new = _read_md(md)
    old = nbformat.read(ipynb, as_version=4) if ipynb.exists() else None
    reuse = old is not None and not force and _code(old) == _code(new) and not is_unexecuted(old)
    if reuse:
        old_code = [c for c in old.cells if c.cell_type == "code"]
        new_code = [c for c in new.cells if c.cell_type == "code"]
        for fresh, stored in zip(new_code, old_code):
            fresh.outputs = copy.deepcopy(stored.outputs)
            fresh.execution_count = stored.execution_count
        action = "synced"
    else:
        _execute(new, md.parent)
        action = "executed"
        from tools.stamp import record_execution  # where and with what the outputs were produced

        record_execution(ipynb)
    _normalise(new)
    text = nbformat.writes(new) + "\n"
    if ipynb.exists() and ipynb.read_text(encoding="utf-8") == text:
        return "unchanged"
    ipynb.write_text(text, encoding="utf-8")
    return action


def library_fingerprint(root: Path = Path(".")) -> str:
    """SHA-256 over the library the notebooks import and the pinned requirements."""
    digest = hashlib.sha256()
    files = sorted((root / "dlnotes").rglob("*.py")) + [root / "requirements.txt"]
    for path in files:
        if not path.exists():
            continue
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def guard_cache(build: Path, root: Path = Path(".")) -> bool:
    """Forget every executed notebook in ``build`` if the library changed; return True if it did.

    Both caches must go: jupyter-cache (keyed on notebook code) and Sphinx's
    environment (keyed on file times), or an unchanged ``.ipynb`` is simply not
    read again and the broken library is never run.
    """
    stamp = build / ".dlnotes-fingerprint"
    current = library_fingerprint(root)
    stale = not stamp.exists() or stamp.read_text() != current
    if stale:
        for name in (".jupyter_cache", ".doctrees", "jupyter_execute"):
            shutil.rmtree(build / name, ignore_errors=True)
    build.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current)
    return stale


def prefill_cache(build: Path, root: Path = Path("."), timeout: int = 300) -> dict[str, list[str]]:
    """Execute the paired notebooks missing from ``build/.jupyter_cache`` in parallel."""
    import logging

    from jupyter_cache import get_cache
    from jupyter_cache.executors import load_executor

    cache = get_cache(str(build / ".jupyter_cache"))
    for _, ipynb in paired_notebooks(root):
        cache.add_nb_to_project(str(ipynb.resolve()))
    logger = logging.getLogger("dlnotes.prefill")
    result = load_executor("local-parallel", cache=cache, logger=logger).run_and_cache(timeout=timeout)
    return {"succeeded": sorted(Path(u).stem for u in result.succeeded),
            "excepted": sorted(Path(u).stem for u in result.excepted),
            "errored": sorted(Path(u).stem for u in result.errored)}


def seed_cache(build: Path, root: Path = Path(".")) -> int:
    """Store every paired ``.ipynb`` (already executed and verified) in ``build/.jupyter_cache``."""
    from jupyter_cache import get_cache

    cache = get_cache(str(build / ".jupyter_cache"))
    pairs = paired_notebooks(root)
    for md, ipynb in pairs:
        problems = pairing_problems(md, ipynb)
        if problems:
            raise SystemExit("cannot seed the book's cache from notebooks out of step:\n" + "\n".join(problems))
        cache.cache_notebook_file(str(ipynb.resolve()), check_validity=False, overwrite=True)
    return len(pairs)


def run_notebooks(paths: list[Path]) -> int:
    """Execute each notebook's stored code in a fresh kernel, writing nothing; 1 if any cell fails."""
    import nbformat
    from nbclient.exceptions import CellExecutionError

    failed = 0
    for path in paths:
        ipynb = path.with_suffix(".ipynb")
        nb = nbformat.read(ipynb, as_version=4)
        try:
            _execute(nb, ipynb.parent.resolve())
            print(f"   passed  {ipynb}", flush=True)
        except CellExecutionError as err:
            failed += 1
            lines = [line for line in str(err).splitlines() if line.strip()]
            print(f"   FAILED  {ipynb}: {lines[-1] if lines else err}", flush=True)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.notebooks")
    sub = parser.add_subparsers(dest="command", required=True)
    sync = sub.add_parser("sync", help="rebuild .ipynb files from their .md, executing where code changed")
    sync.add_argument("--force", action="store_true", help="execute every notebook, changed or not")
    sync.add_argument("notebooks", nargs="*", type=Path, help="only these .md files (default: all)")
    sub.add_parser("check", help="fail if any .md and .ipynb are out of step")
    guard = sub.add_parser("guard-cache", help="forget executed notebooks in the build folder if dlnotes changed")
    guard.add_argument("build", type=Path)
    prefill = sub.add_parser("prefill-cache", help="execute uncached notebooks in parallel for the book build")
    prefill.add_argument("build", type=Path)
    seed = sub.add_parser("seed-cache", help="use the verified stored notebooks as the book's executed notebooks")
    seed.add_argument("build", type=Path)
    run = sub.add_parser("run", help="execute notebooks without writing them (every check must pass); "
                                     "DLNOTES_SEED_OFFSET and DLNOTES_DEVICE reach the kernel")
    run.add_argument("notebooks", nargs="+", type=Path, help=".md or .ipynb files")
    args = parser.parse_args(argv)

    if args.command == "run":
        return run_notebooks(args.notebooks)

    if args.command == "seed-cache":
        print(f"the book uses the verified stored outputs of {seed_cache(args.build)} notebooks")
        return 0

    if args.command == "prefill-cache":
        outcome = prefill_cache(args.build)
        print(f"executed for the book: {len(outcome['succeeded'])} notebooks {outcome['succeeded']}"
              + (f"; failed (the build will show why): {outcome['excepted'] + outcome['errored']}"
                 if outcome["excepted"] or outcome["errored"] else ""))
        return 0

    if args.command == "guard-cache":
        if guard_cache(args.build):
            print(f"dlnotes changed since the last build in {args.build}: every notebook will execute")
        return 0

    pairs = paired_notebooks()
    if args.command == "check":
        problems = [p for md, nb in pairs for p in pairing_problems(md, nb)]
        for p in problems:
            print(p, file=sys.stderr)
        print(json.dumps({"notebooks": len(pairs), "problems": len(problems)}))
        return 1 if problems else 0

    if args.notebooks:
        wanted = {p.resolve() for p in args.notebooks}
        pairs = [(md, nb) for md, nb in pairs if md.resolve() in wanted]
        missing = wanted - {md.resolve() for md, _ in pairs}
        if missing:
            print(f"not paired notebooks: {', '.join(map(str, sorted(missing)))}", file=sys.stderr)
            return 2
    for md, nb in pairs:
        print(f"{sync_one(md, nb, force=args.force):>9}  {nb}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
