"""``python -m dlnotes.doctor``: is this environment the one the book was verified in?

Three things, in a few seconds, without a traceback whatever is installed:

1. your versions of Python, torch, NumPy, matplotlib, SymPy and jupytext beside
   the versions that produced and verified the book's stored outputs (read from
   ``notebooks/verified-on.json`` in a checkout of the book, else from
   ``dlnotes/_verified.json`` shipped inside the package, for a plain
   ``pip install dlnotes`` on Colab);
2. for each version that differs, the chapters whose code uses that package,
   directly or through the ``dlnotes`` modules they call;
3. a smoke check of four core claims on your device (``dlnotes.device()``):
   the softmax of (2, 1, 0), attention over identical keys averaging the values,
   an autograd gradient equal to its formula, and a seeded ``dlnotes.randn``
   giving the same numbers on the CPU and your device (and the book's numbers).

Exit status: 0 all the same and every smoke claim holds; 1 a smoke claim
failed; 2 a package is missing or cannot be imported; 3 only versions differ.
``DLNOTES_DOCTOR_VERIFIED=path.json`` reads the verified versions from another
file (to see what the doctor says about a mismatch).
"""

from __future__ import annotations

import ast
import json
import math
import os
import platform
import re
import sys
from collections import Counter
from importlib import metadata
from pathlib import Path

PACKAGES = ("python", "torch", "numpy", "matplotlib", "sympy", "jupytext")
REQUIRED = ("torch", "numpy")  # dlnotes itself cannot run without them
_HERE = Path(__file__).resolve().parent
_SHIPPED = _HERE / "_verified.json"
_CHECKOUT_STAMP = _HERE.parent / "notebooks" / "verified-on.json"
OK, BAD = "✔", "✘"


# ----------------------------------------------------------------------------- versions


def installed_versions() -> dict[str, str | None]:
    """Installed version of each package in ``PACKAGES`` (None if not installed), read without importing it."""
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES[1:]:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def _release(version: str) -> tuple[int, ...]:
    """The numeric release of a version string: '2.13.0+cpu' -> (2, 13, 0)."""
    numbers = re.findall(r"\d+", version.split("+")[0])[:3]
    return tuple(int(n) for n in numbers)


def compare(yours: str | None, verified: str | None) -> str:
    """'same', 'missing', 'unknown' (nothing recorded), or 'older'/'newer' (with 'patch' when only that differs)."""
    if verified is None:
        return "unknown"
    if yours is None:
        return "missing"
    mine, theirs = _release(yours), _release(verified)
    if mine == theirs:
        return "same"
    direction = "older" if mine < theirs else "newer"
    return f"{direction} patch" if mine[:2] == theirs[:2] else direction


def _load_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def verified_record() -> tuple[dict, str]:
    """The record of the verifying environment and where it was read from.

    The record has ``versions`` (package -> version), ``chapters`` (chapter ->
    packages its code uses; may be empty), ``book_draw`` and ``about``.
    """
    override = os.environ.get("DLNOTES_DOCTOR_VERIFIED", "").strip()
    candidates = [Path(override)] if override else [_CHECKOUT_STAMP, _SHIPPED]
    for path in candidates:
        data = _load_json(path)
        if data is None:
            continue
        if "notebooks" in data:  # a stamp file: one entry per notebook
            return summarise_stamps(data), str(path)
        return data, str(path)
    return {"versions": {}, "chapters": {}}, "nowhere (no record of the verified versions was found)"


def summarise_stamps(stamps: dict) -> dict:
    """One verified version per package (the one most notebooks were verified with), from a stamp file."""
    entries = list(stamps.get("notebooks", {}).values())
    versions = {}
    for name in PACKAGES:
        seen = Counter(entry[name] for entry in entries if entry.get(name))
        if seen:
            versions[name] = seen.most_common(1)[0][0]
    dates = sorted(entry.get("outputs_date", "") for entry in entries)
    devices = sorted({entry.get("device", "") for entry in entries} - {""})
    span = dates[0] if dates and dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}" if dates else ""
    about = f"{len(entries)} notebooks, outputs of {span}, on {', '.join(devices)}" if entries else ""
    return {"versions": versions, "chapters": {}, "book_draw": stamps.get("book_draw"), "about": about}


# ----------------------------------------------------------------------------- which chapters


_IMPORT_LINE = re.compile(r"^[ \t]*(?:from[ \t]+([\w.]+)[ \t]+import|import[ \t]+([\w., \t]+))", re.M)
_DLNOTES_NAME = re.compile(r"\bdlnotes((?:\.\w+)*)")


def _top_level_imports(source: str) -> set[str]:
    names = set()
    for module, listed in _IMPORT_LINE.findall(source):
        for item in ([module] if module else listed.split(",")):
            item = item.strip().split(" as ")[0].strip()
            if item and not item.startswith("."):
                names.add(item.split(".")[0])
    return names


_DEPENDENCIES: dict[str, set[str]] = {}


def _module_dependencies(module: str) -> set[str]:
    """Third-party top-level packages that ``dlnotes.<module>`` imports, following dlnotes's own imports."""
    if module in _DEPENDENCIES:
        return _DEPENDENCIES[module]
    _DEPENDENCIES[module] = found = set()  # filled in below; a cycle sees it as it is so far
    path = _HERE.joinpath(*module.split(".")) if module else _HERE
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(["dlnotes", *parts, *([base] if base else [])])
            targets = [base]
            if node.module is None or base in ("dlnotes", f"dlnotes.{package}".rstrip(".")):
                targets += [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            if target.split(".")[0] == "dlnotes":
                sub = target[len("dlnotes."):] if target != "dlnotes" else ""
                candidate = _HERE.joinpath(*sub.split(".")) if sub else _HERE
                if candidate.is_dir() or candidate.with_suffix(".py").exists():
                    found |= _module_dependencies(sub)
            elif target and target.split(".")[0] not in sys.stdlib_module_names and target != "__future__":
                found.add(target.split(".")[0])
    return found


def packages_used(code: str) -> set[str]:
    """Packages a chapter's code uses: what it imports, and what the dlnotes modules it names import."""
    used = {name for name in _top_level_imports(code) if name not in sys.stdlib_module_names and name != "dlnotes"}
    for suffix in _DLNOTES_NAME.findall(code):
        parts = suffix.strip(".").split(".") if suffix else []
        while parts and not (_HERE.joinpath(*parts).is_dir() or _HERE.joinpath(*parts).with_suffix(".py").exists()):
            parts.pop()  # dlnotes.attention.softmax -> dlnotes.attention
        used |= _module_dependencies(".".join(parts))
    return used


def scan_chapters(folder: Path) -> dict[str, list[str]]:
    """Chapter name -> sorted packages its code cells use, for every ``X.md`` notebook in ``folder``."""
    chapters = {}
    fence = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.M | re.S)
    for md in sorted(folder.glob("*.md")):
        text = md.read_text(encoding="utf-8")
        if "jupytext" in text[:2000]:
            code = "\n".join(block for block in fence.findall(text) if not block.lstrip().startswith("%pip"))
            chapters[md.stem] = sorted(packages_used(code))
    return chapters


def chapters_by_package(record: dict) -> dict[str, list[str]]:
    """Package -> chapters using it, from the notebooks of a checkout if present, else the shipped map."""
    folder = _CHECKOUT_STAMP.parent
    chapters = scan_chapters(folder) if folder.is_dir() else {}
    chapters = chapters or record.get("chapters", {})
    users: dict[str, list[str]] = {}
    for chapter, packages in sorted(chapters.items()):
        for package in packages:
            users.setdefault(package, []).append(chapter)
    if chapters:
        users["python"] = sorted(chapters)
    return users


# ----------------------------------------------------------------------------- smoke check


def _smoke_claims(torch, dlnotes, book_draw: list[float] | None) -> list[tuple[str, object]]:
    """(claim, function returning an error message or None) for each core claim, run on dlnotes.device()."""
    from dlnotes.attention import attention, softmax

    dev = dlnotes.device()
    dtype = torch.float32 if dev.type == "mps" else torch.float64  # MPS has no float64
    tol = 1e-6 if dtype == torch.float32 else 1e-12

    def softmax_of_2_1_0():
        got = softmax(torch.tensor([2.0, 1.0, 0.0], dtype=dtype, device=dev)).cpu().tolist()
        total = math.exp(2) + math.exp(1) + 1
        want = [math.exp(2) / total, math.exp(1) / total, 1 / total]
        worst = max(abs(a - b) for a, b in zip(got, want))
        return None if worst <= tol else f"softmax(2, 1, 0) = {[round(x, 6) for x in got]}, off by {worst:.2e}"

    def identical_keys_average_values():
        gen = dlnotes.generator(11)
        q = dlnotes.randn(2, 4, dtype=dtype, device=dev, generator=gen)
        k = dlnotes.randn(1, 4, dtype=dtype, device=dev, generator=gen).expand(5, 4)
        v = dlnotes.randn(5, 3, dtype=dtype, device=dev, generator=gen)
        out, _ = attention(q, k, v)
        worst = float((out - v.mean(0, keepdim=True)).abs().max())
        return None if worst <= 10 * tol else f"output differs from the mean of the values by {worst:.2e}"

    def cross_entropy_gradient():
        logits = dlnotes.randn(3, 5, dtype=dtype, device=dev, generator=dlnotes.generator(12)).requires_grad_()
        target = torch.tensor([0, 3, 4], device=dev)
        torch.nn.functional.cross_entropy(logits, target, reduction="sum").backward()
        formula = torch.softmax(logits.detach(), -1) - torch.nn.functional.one_hot(target, 5).to(dtype)
        worst = float((logits.grad - formula).abs().max())
        return None if worst <= 10 * tol else f"autograd differs from softmax − one-hot by {worst:.2e}"

    def seeded_draw_is_device_independent():
        on_cpu = dlnotes.randn(6, generator=dlnotes.generator(0), dtype=torch.float64)
        on_device = dlnotes.randn(6, generator=dlnotes.generator(0), dtype=torch.float64 if dev.type != "mps"
                                  else torch.float32, device=dev).cpu().double()
        if not torch.allclose(on_cpu, on_device, rtol=0, atol=tol):
            return f"the draw on {dev.type} differs from the CPU's"
        if book_draw and dlnotes.seed_offset() == 0:
            worst = max(abs(a - b) for a, b in zip(on_cpu.tolist(), book_draw))
            if worst > 1e-12:
                return "the seeded draw differs from the book's: this torch's random generator changed"
        return None

    where = f"on {dev}" + (" and the CPU" if dev.type != "cpu" else "")
    return [
        ("softmax(2, 1, 0) equals e^(2, 1, 0) / (e² + e + 1)", softmax_of_2_1_0),
        ("attention over identical keys returns the mean of the values", identical_keys_average_values),
        ("autograd gradient of cross-entropy equals softmax − one-hot", cross_entropy_gradient),
        (f"seeded dlnotes.randn gives the same numbers {where}" + (" as the book" if book_draw else ""),
         seeded_draw_is_device_independent),
    ]


def smoke_check(book_draw: list[float] | None = None, out=print) -> int:
    """Run the core claims; print one ✔/✘ line each. 0 if all hold, 1 if one fails, 2 if torch/dlnotes won't import."""
    try:
        import torch

        import dlnotes
        claims = _smoke_claims(torch, dlnotes, book_draw)
        device = dlnotes.device()
    except Exception as err:  # a broken install must give a message, not a traceback
        out(f"  {BAD} cannot run the smoke check: {type(err).__name__}: {err}")
        return 2
    out(f"smoke check on {device}:")
    failed = 0
    for claim, run in claims:
        try:
            problem = run()
        except Exception as err:
            problem = f"{type(err).__name__}: {err}"
        failed += problem is not None
        out(f"  {OK} {claim}" if problem is None else f"  {BAD} {claim}: {problem}")
    return 1 if failed else 0


# ----------------------------------------------------------------------------- report


def _chapter_list(chapters: list[str], total: int) -> str:
    if not chapters:
        return "no chapter imports it"
    if len(chapters) == total and total > 3:
        return f"every chapter ({total})"
    return ", ".join(chapters)


def report(*, smoke: bool = True, brief: bool = False, out=print) -> int:
    """Print the comparison (and run the smoke check); return the exit status described in the module docstring."""
    record, source = verified_record()
    verified = record.get("versions", {})
    yours = installed_versions()
    users = chapters_by_package(record)
    total = len(users.get("python", []))
    if not brief:
        out("dlnotes doctor: this environment against the one that verified the book's outputs")
        out(f"verified versions from {source}" + (f" ({record['about']})" if record.get("about") else ""))
    differing, missing = 0, []
    rows = []
    for name in PACKAGES:
        verdict = compare(yours[name], verified.get(name))
        line = f"  {name:<11} {yours[name] or '(not installed)':<17} {verified.get(name) or '(not recorded)':<17}"
        if verdict in ("same", "unknown"):
            mark = OK if verdict == "same" else "?"
            rows.append(f"{line} {mark} {verdict}")
            continue
        differing += 1
        if verdict == "missing":
            missing.append(name)
            what = f"missing: pip install \"{name}=={verified[name].split('+')[0]}\""
        else:
            what = f"{verdict} than verified"
        rows.append(f"{line} {BAD} {what}; chapters: {_chapter_list(users.get(name, []), total)}")
    if not brief or differing:
        out(f"  {'package':<11} {'yours':<17} {'verified':<17}")
        for row in rows:
            if not brief or BAD in row:
                out(row)
    status = 0
    if any(name in REQUIRED for name in missing):
        out(f"{BAD} dlnotes needs {' and '.join(n for n in REQUIRED if n in missing)}: "
            "install them, then run the doctor again")
        return 2
    if smoke:
        status = smoke_check(record.get("book_draw"), out=out)
        if status == 2:
            pins = " ".join(f'"{n}=={verified[n].split("+")[0]}"' for n in REQUIRED if verified.get(n)) or "torch numpy"
            out(f"{BAD} torch (or dlnotes) is installed but cannot be imported: reinstall it, for example "
                f"pip install --force-reinstall {pins}, then run the doctor again")
            return 2
    if missing:
        out(f"{BAD} not installed: {', '.join(missing)} (the chapters listed need it)")
        status = 2
    elif status == 0 and differing:
        status = 3
    if differing:
        out(f"{differing} package version(s) differ from the verified ones: a result that differs from the book "
            "in the chapters listed may come from that; the smoke check says whether the core claims still hold.")
    elif status == 0:
        out(f"{OK} same versions as the verified book, and the core claims hold on this device")
    return status


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    unknown = [a for a in args if a not in ("--brief", "--no-smoke", "-h", "--help")]
    if unknown or "-h" in args or "--help" in args:
        print("usage: python -m dlnotes.doctor [--brief] [--no-smoke]\n" + (__doc__ or "").split("\n\n")[0])
        return 0 if not unknown else 2
    try:
        return report(smoke="--no-smoke" not in args, brief="--brief" in args)
    except Exception as err:  # the doctor must never show a reader a traceback
        print(f"{BAD} the doctor itself failed: {type(err).__name__}: {err}")
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
