"""Verified-on stamps: one entry per notebook, written on execution, kept out of the notebooks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tools import notebooks, stamp
from tools.sphinx_stamp import stamp_sentence

ROOT = Path(__file__).resolve().parents[1]
KEYS = {"python", "torch", "numpy", "matplotlib", "sympy", "jupytext", "dlnotes", "commit", "device", "outputs_date"}


def test_every_notebook_has_a_stamp():
    stamps = json.loads((ROOT / "notebooks" / stamp.STAMP_NAME).read_text())["notebooks"]
    assert set(stamps) == {ipynb.stem for _, ipynb in notebooks.paired_notebooks(ROOT)}
    for name, entry in stamps.items():
        assert set(entry) == KEYS, name
        assert len(entry["outputs_date"]) == 10 and entry["commit"] != "unknown"


def test_stored_notebooks_carry_no_versions():
    versions = json.loads((ROOT / "notebooks" / stamp.STAMP_NAME).read_text())["notebooks"]
    torch_version = next(iter(versions.values()))["torch"]
    for _, ipynb in notebooks.paired_notebooks(ROOT):
        text = ipynb.read_text()
        assert torch_version not in text and "verified-on" not in text, ipynb


def test_executing_a_notebook_stamps_it_beside_the_notebook(tmp_path, monkeypatch):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    md = folder / "multihead_parameters.md"
    shutil.copy(ROOT / "notebooks" / md.name, md)
    shutil.copy(ROOT / "notebooks" / "multihead_parameters.ipynb", folder)
    before = (folder / "multihead_parameters.ipynb").read_text()
    stored = {c.source: c.outputs for c in __import__("nbformat").read(folder / "multihead_parameters.ipynb", 4).cells
              if c.cell_type == "code"}

    def fake_execute(nb, workdir, timeout=600):  # the stored outputs, as a real run would give them
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = stored[cell.source]
        return nb

    monkeypatch.setattr(notebooks, "_execute", fake_execute)
    assert notebooks.sync_one(md, md.with_suffix(".ipynb"), force=True) == "unchanged"
    assert (folder / "multihead_parameters.ipynb").read_text() == before  # the stamp is not in the notebook
    entry = json.loads((folder / stamp.STAMP_NAME).read_text())["notebooks"]["multihead_parameters"]
    assert set(entry) == KEYS and entry["device"] == stamp.device_kind()


def test_the_stamp_reads_as_a_sentence():
    entry = {"python": "3.11.7", "torch": "2.13.0+cpu", "numpy": "2.4.6", "dlnotes": "0.1.0", "commit": "abc",
             "device": "cpu", "outputs_date": "2026-11-21"}
    assert stamp_sentence(entry).startswith(
        "Outputs verified on 2026-11-21 with Python 3.11.7, torch 2.13.0+cpu and NumPy 2.4.6, on the CPU "
        "(dlnotes 0.1.0, commit abc).")
