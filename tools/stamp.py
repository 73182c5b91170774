"""Verified-on stamps: the environment in which each notebook's stored outputs were produced.

``notebooks/verified-on.json`` holds one entry per notebook: the versions of
Python, torch, NumPy, matplotlib, SymPy and jupytext, the dlnotes version and
git commit, the device kind and the date the outputs were produced.  It lives
beside the notebooks, never inside them, so the stored ``.ipynb`` files stay
identical on every machine.

* ``python -m tools.notebooks sync`` calls :func:`record_execution` for every
  notebook it executes (the date is that day).
* ``python -m tools.stamp --all`` stamps every notebook with the current
  environment, dated by (and naming) the commit that last changed its stored
  outputs: for outputs produced before stamps existed.  ``make notebooks-force``
  re-executes every notebook and so restamps every one itself.
* Both rewrite ``dlnotes/_verified.json``: the verified versions, the map of
  chapters to the packages they use, and the book's seeded draw, shipped in the
  package so that ``python -m dlnotes.doctor`` works after a plain
  ``pip install dlnotes`` (Colab), with no notebooks at hand.

The book build shows the stamps (``tools/sphinx_stamp.py``).
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import subprocess
from pathlib import Path

from dlnotes import __version__
from dlnotes.doctor import installed_versions, scan_chapters, summarise_stamps

ROOT = Path(__file__).resolve().parents[1]
STAMP_NAME = "verified-on.json"
SHIPPED = ROOT / "dlnotes" / "_verified.json"
ABOUT = ("The environment in which each notebook's stored outputs were produced and verified; written by "
         "`python -m tools.notebooks sync` when it executes a notebook, or `python -m tools.stamp --all`.")


def _git(*args: str, cwd: Path = ROOT) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def commit(root: Path = ROOT) -> str:
    """Short HEAD commit, with '+' when the library (dlnotes/) has uncommitted changes."""
    head = _git("rev-parse", "--short=10", "HEAD", cwd=root)
    if not head:
        return "unknown"
    dirty = _git("status", "--porcelain", "--", "dlnotes", cwd=root)
    return head + ("+" if dirty else "")


@functools.lru_cache(maxsize=1)
def device_kind() -> str:
    """The kind of device ``dlnotes.device()`` picks here: 'cpu', or 'cuda (device name)'."""
    import torch

    import dlnotes

    dev = dlnotes.device()
    if dev.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(dev)})"
    return dev.type


@functools.lru_cache(maxsize=1)
def book_draw() -> list[float]:
    """The first numbers of the book's seeded draw, ``dlnotes.randn(6, generator=dlnotes.generator(0))``."""
    import torch

    import dlnotes

    if dlnotes.seed_offset() != 0:
        raise SystemExit("unset DLNOTES_SEED_OFFSET: the stamp records the book's own draw (offset 0)")
    return dlnotes.randn(6, generator=dlnotes.generator(0), dtype=torch.float64).tolist()


def environment(date: str, at_commit: str | None = None) -> dict[str, str]:
    """This environment, as one stamp entry whose outputs are dated ``date`` (YYYY-MM-DD)."""
    entry = {name: version or "not installed" for name, version in installed_versions().items()}
    entry.update(dlnotes=__version__, commit=at_commit or commit(), device=device_kind(), outputs_date=date)
    return entry


def read(folder: Path) -> dict:
    path = folder / STAMP_NAME
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    return {"about": ABOUT, "notebooks": {}}


def write(folder: Path, stamps: dict) -> None:
    stamps["about"] = ABOUT
    stamps["book_draw"] = book_draw()
    stamps["notebooks"] = dict(sorted(stamps["notebooks"].items()))
    (folder / STAMP_NAME).write_text(json.dumps(stamps, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if folder.resolve() == (ROOT / "notebooks").resolve():
        write_shipped(stamps, folder)


def write_shipped(stamps: dict, folder: Path) -> None:
    """``dlnotes/_verified.json``: what the doctor needs when only the package is installed."""
    shipped = summarise_stamps(stamps)
    shipped["chapters"] = scan_chapters(folder)
    shipped["about"] = "shipped with dlnotes " + __version__ + (f": {shipped['about']}" if shipped.get("about") else "")
    SHIPPED.write_text(json.dumps(shipped, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def record_execution(ipynb: Path) -> None:
    """Stamp one notebook just executed by ``tools.notebooks sync`` (outputs dated today, UTC)."""
    folder = ipynb.parent
    stamps = read(folder)
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    stamps["notebooks"][ipynb.stem] = environment(today)
    write(folder, stamps)


def outputs_origin(ipynb: Path) -> tuple[str, str | None]:
    """Date and commit of the commit that last changed ``ipynb`` (its stored outputs); today and HEAD if uncommitted."""
    committed = _git("log", "-1", "--format=%cs %h", "--abbrev=10", "--", str(ipynb.resolve()))
    changed = _git("status", "--porcelain", "--", str(ipynb.resolve()))
    if committed and not changed:
        date, sha = committed.split()
        return date, sha
    return datetime.datetime.now(datetime.timezone.utc).date().isoformat(), None


def stamp_all(folder: Path = ROOT / "notebooks") -> int:
    from tools.notebooks import paired_notebooks

    stamps = read(folder)
    pairs = paired_notebooks(folder.parent)
    stamps["notebooks"] = {ipynb.stem: environment(*outputs_origin(ipynb)) for _, ipynb in pairs}
    write(folder, stamps)
    return len(pairs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.stamp", description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--all", action="store_true", help="stamp every notebook with this environment")
    group.add_argument("--shipped", action="store_true", help="only rewrite dlnotes/_verified.json from the stamps")
    args = parser.parse_args(argv)
    folder = ROOT / "notebooks"
    if args.shipped:
        write_shipped(read(folder), folder)
        print(f"wrote {SHIPPED.relative_to(ROOT)}")
        return 0
    print(f"stamped {stamp_all(folder)} notebooks in {(folder / STAMP_NAME).relative_to(ROOT)} "
          f"and wrote {SHIPPED.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
