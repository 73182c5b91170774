"""The network guard of the reproducibility run, and that run's comparison itself.

``make test-repro`` runs ``python -m tools.audit_seeds --offsets 0,1,2 --compare-stored``:
every notebook reproduces its stored text outputs byte for byte at offset 0, and
passes every check at offsets 1 and 2, with two threads and the network blocked.

nbval (``make test-notebooks``) re-runs each notebook with one thread and compares
through its sanitizer; the reproducibility run compares every text output with
the stored one exactly, with no sanitizer and no tolerance.  Two executions with
different thread counts, both equal to the stored outputs, are equal to each
other.

The kernel runs with the network blocked: its Python refuses every non-loopback
connection and name lookup (``netguard/sitecustomize.py``), it talks to this
process over Unix sockets rather than TCP, and ``make test-repro`` also runs it
in an empty network namespace where the machine allows that.
"""

import os
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from tools.audit_seeds import run_notebooks

ROOT = Path(__file__).resolve().parents[2]
NETGUARD = Path(__file__).resolve().parent / "netguard"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def kernel_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(NETGUARD), env.get("PYTHONPATH", "")]))
    return env


def test_a_changed_output_is_caught(tmp_path):
    """The byte-for-byte comparison of ``make test-repro`` (tools/audit_seeds.py) sees a changed digit."""
    source = NOTEBOOKS[0]
    nb = nbformat.read(source, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and any(o.get("name") == "stdout" for o in c.outputs))
    stream = next(o for o in cell.outputs if o.get("name") == "stdout")
    stream["text"] = stream["text"].replace("✔", "✘", 1) if "✔" in stream["text"] else stream["text"] + "x"
    copy_md = tmp_path / source.with_suffix(".md").name
    nbformat.write(nb, copy_md.with_suffix(".ipynb"))
    records = run_notebooks([str(copy_md)], [0], extra_env=kernel_env(), compare_stored=True)
    assert records[0]["status"] == "output changed", records


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
