"""A change to dlnotes must make the book re-execute every notebook (see guard_cache)."""

import shutil
from pathlib import Path

from tools.notebooks import guard_cache, library_fingerprint

ROOT = Path(__file__).resolve().parents[1]


def make_project(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "dlnotes", tmp_path / "dlnotes", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tools", tmp_path / "tools", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "requirements.txt", tmp_path)
    return tmp_path


def test_library_change_forgets_executed_notebooks(tmp_path):
    project = make_project(tmp_path)
    build = project / "_build"
    assert guard_cache(build, project)  # first build: nothing to trust
    for name in (".jupyter_cache", ".doctrees", "jupyter_execute"):
        (build / name).mkdir()
    assert not guard_cache(build, project)  # unchanged: caches kept
    assert (build / ".doctrees").exists()

    attention = project / "dlnotes" / "attention.py"
    attention.write_text(attention.read_text() + "\n# a change\n")
    assert guard_cache(build, project)
    assert not any((build / name).exists() for name in (".jupyter_cache", ".doctrees", "jupyter_execute"))


def test_build_machinery_changes_do_not_count(tmp_path):
    project = make_project(tmp_path)
    before = library_fingerprint(project)
    tool = project / "tools" / "notebooks.py"
    tool.write_text(tool.read_text() + "\n# a change\n")
    assert library_fingerprint(project) == before
