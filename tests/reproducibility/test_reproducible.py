"""Every notebook reproduces its stored text outputs byte for byte, with the network blocked.

nbval (``make test-notebooks``) re-runs each notebook with one thread and compares
through its sanitizer.  This test runs each notebook once more, with the thread
count the caller sets (``make test-repro`` uses 2), and compares every text
output with the stored one exactly: no sanitizer, no tolerance.  Two executions
with different thread counts, both equal to the stored outputs, are equal to
each other.

The kernel runs with the network blocked: its Python refuses every non-loopback
connection and name lookup (``netguard/sitecustomize.py``), it talks to this
process over Unix sockets rather than TCP, and ``make test-repro`` also runs it
in an empty network namespace where the machine allows that.
"""

import copy
import os
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from tools.notebooks import coalesce_streams

ROOT = Path(__file__).resolve().parents[2]
NETGUARD = Path(__file__).resolve().parent / "netguard"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IGNORED_TAGS = {"nbval-ignore-output", "nbval-skip"}
TEXT_MIME = ("text/plain", "text/html", "text/markdown", "text/latex", "application/json")


def text_outputs(cell) -> list:
    """The outputs of a code cell as comparable text, consecutive streams merged (images are not compared)."""
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


def kernel_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(NETGUARD), env.get("PYTHONPATH", "")]))
    return env


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_reproduces_its_stored_outputs(path, tmp_path):
    stored = nbformat.read(path, as_version=4)
    fresh = nbformat.read(path, as_version=4)
    manager = KernelManager(kernel_name="python3", transport="ipc", ip=str(tmp_path / "kernel"))
    client = NotebookClient(fresh, km=manager, timeout=300, allow_errors=False, record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute(env=kernel_env())

    stored_code = [c for c in stored.cells if c.cell_type == "code"]
    fresh_code = [c for c in fresh.cells if c.cell_type == "code"]
    for number, (old, new) in enumerate(zip(stored_code, fresh_code), start=1):
        if IGNORED_TAGS & set(old.metadata.get("tags", [])):
            continue
        assert text_outputs(new) == text_outputs(old), f"{path.name}, code cell {number}: output changed"


def test_the_network_guard_blocks_a_download(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import urllib.request\nurllib.request.urlopen('http://example.org', timeout=5)")])
    manager = KernelManager(kernel_name="python3", transport="ipc", ip=str(tmp_path / "kernel"))
    client = NotebookClient(nb, km=manager, timeout=60, allow_errors=True)
    client.execute(env=kernel_env())
    error = nb.cells[0].outputs[-1]
    assert error["output_type"] == "error" and "blocked" in error["evalue"]


def test_every_notebook_is_covered():
    assert NOTEBOOKS and all(p.with_suffix(".md").exists() for p in NOTEBOOKS)
