"""Each notebooks/X.md and its notebooks/X.ipynb hold the same cells, and the .ipynb is executed.

The .md is what people edit, the .ipynb holds the reviewed outputs that nbval and
the book use.  If they drift apart, the book shows code that is not the code in
the repository, or outputs that no longer belong to it.
"""

from pathlib import Path

import nbformat
import pytest

from tools.notebooks import paired_notebooks, pairing_problems, sync_one

ROOT = Path(__file__).resolve().parents[1]
PAIRS = paired_notebooks(ROOT)


def test_there_are_notebooks():
    assert PAIRS, "no paired notebooks found under notebooks/"


def test_every_ipynb_has_a_markdown_source():
    sources = {nb for _, nb in PAIRS}
    orphans = [p for p in (ROOT / "notebooks").glob("*.ipynb") if p not in sources]
    assert not orphans, f"notebooks without a paired .md: {orphans}"


@pytest.mark.parametrize("md, ipynb", PAIRS, ids=[md.stem for md, _ in PAIRS])
def test_pair_is_in_step(md, ipynb):
    assert pairing_problems(md, ipynb) == []


@pytest.mark.parametrize("md, ipynb", PAIRS, ids=[md.stem for md, _ in PAIRS])
def test_stored_notebook_is_exactly_what_sync_writes(md, ipynb, tmp_path):
    """No timestamps, kernel versions or other noise: a sync of an in-step pair changes nothing."""
    copy = tmp_path / ipynb.name
    copy.write_bytes(ipynb.read_bytes())
    assert sync_one(md, copy) == "unchanged"


def test_the_check_detects_drift(tmp_path):
    md, ipynb = PAIRS[0]
    text = md.read_text(encoding="utf-8")
    opening = "```{code-cell} ipython3\n"
    assert opening in text
    drifted_md = tmp_path / md.name
    drifted_md.write_text(text.replace(opening, opening + "edited = True\n", 1), encoding="utf-8")
    assert any("code cells differ" in p for p in pairing_problems(drifted_md, ipynb))

    unexecuted = tmp_path / ipynb.name
    nb = nbformat.read(ipynb, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.execution_count, cell.outputs = None, []
    nbformat.write(nb, unexecuted)
    assert any("without stored outputs" in p for p in pairing_problems(md, unexecuted))


def test_stream_outputs_are_merged_however_the_kernel_split_them():
    from tools.notebooks import coalesce_streams

    split = [{"output_type": "stream", "name": "stdout", "text": "✔ check a"},
             {"output_type": "stream", "name": "stdout", "text": "\n✔ check b\n"},
             {"output_type": "stream", "name": "stderr", "text": "warning\n"}]
    assert coalesce_streams(split) == [{"output_type": "stream", "name": "stdout", "text": "✔ check a\n✔ check b\n"},
                                       {"output_type": "stream", "name": "stderr", "text": "warning\n"}]
