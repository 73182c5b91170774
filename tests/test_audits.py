"""Unit tests of the audits (tools/lint_checks.py, tools/lint_device.py, tools/audit_numbers.py).

Each rule is shown one snippet it must reject and one it must accept, so that a
rule cannot silently become too weak or start rejecting legitimate checks.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tools import lint_checks


def reasons(code: str) -> list[str]:
    return [o.reason.split(":")[0] for o in lint_checks.lint_source(textwrap.dedent(code))]


# ----------------------------------------------------------------------------- check lint

@pytest.mark.parametrize("code", [
    "import dlnotes\ndlnotes.check('d_head', 768 // 12, 64)",
    "import math, dlnotes\ndlnotes.check('e', math.exp(1) + 2 * math.pi, 8.0, atol=1.0)",
    "import math, dlnotes\nz = math.log(1e6 - 1)\ndlnotes.check('gain', z, 13.8155, atol=1e-4)",
    "import dlnotes\ndlnotes.check_bound('literal bound', abs(1 - 2.1 ** 2), lower=1.0)",
    "from dlnotes import check\ncheck('sizes', [64 * 64, 3 * 1000], [4096, 3000])",
])
def test_literal_actual_is_rejected(code):
    assert reasons(code) == ["literal"]


@pytest.mark.parametrize("code", [
    "import dlnotes\nloss = model(x)\ndlnotes.check('loss', loss, 0.25, atol=1e-9)",
    "import dlnotes\nd = 768\ndlnotes.check('count', mha_param_count(d, 12), 2_362_368)",
    "import dlnotes\nz = 1.0\nfor step in range(3):\n    z = z / 2\ndlnotes.check('halved', z, 0.125)",
    "import dlnotes\nxs = [1]\nxs.append(2)\ndlnotes.check('list', len(xs), 2)",
])
def test_computed_actual_is_accepted(code):
    assert reasons(code) == []


@pytest.mark.parametrize("code", [
    "import dlnotes\ndlnotes.check('same', softmax(x), softmax(x), atol=1e-12)",
    "import dlnotes\na = attention(q, k, v)\ndlnotes.check('twice', a, attention(q, k, v))",
    "import dlnotes\na = attention(q, k, v)\nb = attention(q, k, v)\ndlnotes.check('twice', a, b)",
    "from dlnotes import check as verify\nverify('same', f(x) + 1, f(x) + 1)",
])
def test_same_expression_as_expected_is_rejected(code):
    assert reasons(code) == ["same-as-expected"]


@pytest.mark.parametrize("code", [
    "import dlnotes\ndlnotes.check('fused = reference', fused(q, k, v), reference(q, k, v), atol=1e-12)",
    "import dlnotes\na = attention(q, k, v)\nb = attention(q, k, 2 * v)\ndlnotes.check('linear in v', b, 2 * a)",
])
def test_different_computations_are_accepted(code):
    assert reasons(code) == []


@pytest.mark.parametrize("code", [
    "import dlnotes\ndlnotes.check('head', tuple(w[0:64].T.shape), (768, 64))",
    "import dlnotes\ndlnotes.check('slice', x[..., :3].shape, (2, 3))",
    "import dlnotes\nhead = w[0:64]\ndlnotes.check('head', list(head.shape), [64, 768])",
    "import dlnotes\ndlnotes.check('rows', len(x[2:5]), 3)",
])
def test_shape_of_a_slice_is_rejected(code):
    assert reasons(code) == ["shape-of-slice"]


@pytest.mark.parametrize("code", [
    "import dlnotes\nout = attention(q, k, v)\ndlnotes.check('shape', tuple(out.shape), (2, 5, 8))",
    "import dlnotes\ndlnotes.check('shape', layer(x).shape, (2, 5))",
    "import dlnotes\ndlnotes.check('first row', out[0], torch.tensor([1.0, 2.0]))",
])
def test_shape_of_a_computation_is_accepted(code):
    assert reasons(code) == []


def test_chapter_cells_are_read_with_md_line_numbers(tmp_path):
    md = tmp_path / "chapter.md"
    md.write_text(textwrap.dedent("""\
        ---
        jupytext: {}
        ---
        # Title

        Some prose with dlnotes.check('x', 1, 1) in it, not code.

        ```{code-cell} ipython3
        :tags: [remove-cell]

        %pip install dlnotes
        ```

        ```{code-cell} ipython3
        ---
        mystnb:
          figure:
            caption: "a caption"
        ---
        import dlnotes
        dlnotes.check('d_head', 768 // 12, 64)
        ```
        """))
    offences = lint_checks.lint_chapter(md)
    assert [(o.line, o.reason.split(":")[0]) for o in offences] == [(21, "literal")]
    assert lint_checks.main([str(md)]) == 1


# ----------------------------------------------------------------------------- device lint

from tools import lint_device  # noqa: E402


def device_reasons(code: str) -> list[str]:
    return [o.reason.split(":")[0] for o in lint_device.lint_source(textwrap.dedent(code))]


@pytest.mark.parametrize("code", [
    "x = torch.randn(3, 4, device=device)",
    "f64 = dict(dtype=torch.float64, device=device)\nx = torch.rand(3, **f64)",
    "kw = {'device': dev}\nx = torch.randint(0, 5, (3,), **kw)",
    "x = torch.randperm(10, device='cuda')",
    "w = torch.empty(3, 3, device=device).normal_()",
])
def test_random_draw_on_the_device_is_rejected(code):
    assert device_reasons(code)[:1] in (["device-draw"], ["device-inplace"])


@pytest.mark.parametrize("code", [
    "x = torch.randn(3, 4, generator=g).to(device)",
    "f64 = dict(dtype=torch.float64)\nx = torch.rand(3, **f64)",
    "x = torch.randn(3, device='cpu')",
    "x = dlnotes.randn(3, 4, dtype=torch.float64, device=device)",
    "x = torch.zeros(3, device=device)",
    "w = torch.empty(3, 3).normal_().to(device)",
    "cpu_f64 = dict(dtype=torch.float64, device='cpu')\nx = torch.randn(2, **cpu_f64)",
])
def test_random_draw_on_the_cpu_is_accepted(code):
    assert device_reasons(code) == []


@pytest.mark.parametrize("code, expected", [
    ("x = torch.zeros(3).to(device)\nnoise = torch.randn_like(x)", ["device-like"]),
    ("x = torch.zeros(3)\nnoise = torch.randn_like(x)", []),
    ("layer = torch.nn.Linear(3, 3, device=device)\ntorch.nn.init.xavier_uniform_(layer.weight)", ["device-inplace"]),
    ("layer = torch.nn.Linear(3, 3)\ntorch.nn.init.xavier_uniform_(layer.weight)\nlayer = layer.to(device)", []),
    ("h = torch.zeros(4).cuda()\nh.uniform_()", ["device-inplace"]),
])
def test_draws_that_inherit_the_device(code, expected):
    assert device_reasons(code) == expected


# ----------------------------------------------------------------------------- number audit

import json  # noqa: E402

from tools import audit_numbers  # noqa: E402

HEADER = "---\njupytext: {}\n---\n"


def audit(tmp_path: Path, prose: str, check_lines: list[str]) -> audit_numbers.ChapterAudit:
    md = tmp_path / "chapter.md"
    md.write_text(HEADER + textwrap.dedent(prose), encoding="utf-8")
    nb = {"cells": [{"cell_type": "code", "outputs": [
        {"output_type": "stream", "name": "stdout", "text": [line + "\n" for line in check_lines]}]}]}
    md.with_suffix(".ipynb").write_text(json.dumps(nb), encoding="utf-8")
    return audit_numbers.audit_chapter(md)


def unbacked(result: audit_numbers.ChapterAudit) -> list[str]:
    return [n.text for n in result.unbacked]


@pytest.mark.parametrize("text, line", [
    ("The weight is 0.73.", "✔ check weight — 0.7310585786 (atol 1e-09)"),
    ("The layer holds 2,362,368 parameters.", "✔ check full layer — 2,362,368 (exact)"),
    ("They agree to 1e-15.", "✔ check agreement — [1, 2] (atol 1e-15)"),
    ("They agree to $10^{-15}$.", "✔ check agreement — 1 (atol 1e-15)"),
    ("They agree to 10⁻¹⁵.", "✔ check agreement — 1 (atol 1e-15)"),
    ("The error is 6.1% of the value.", "✔ check relative error — 0.061 (atol 0.001)"),
    ("The exponent is at least 1.6.", "✔ check fitted exponent — at least 1.6 (bound)"),
    ("For $n = 10$ the weight is $w = 0.2023$.", "✔ check n = 10, target weight — 0.2023048376 (atol 1e-09)"),
    ("It is $P = 2{,}362{,}368$ in all.", "✔ check count — 2,362,368 (exact)"),
    ("It is about 14 in all.", "✔ check gain — 13.8155 (atol 0.0001)"),
    ("Here $z = 4.5848633391$.", "✔ check z — 4.584863339 (atol 1e-09)"),
    ("The bound is $2.5 \\times 10^{-3}$.", "✔ check bound — at most 0.0025 (bound)"),
])
def test_a_backed_number_matches_its_check(tmp_path, text, line):
    result = audit(tmp_path, text + "\n", [line])
    assert result.numbers and unbacked(result) == []


@pytest.mark.parametrize("text, line, bad", [
    ("The weight is 0.74.", "✔ check weight — 0.7310585786 (atol 1e-09)", "0.74"),
    ("The layer holds 2,362,369 parameters.", "✔ check full layer — 2,362,368 (exact)", "2,362,369"),
    ("It is 14 in all.", "✔ check gain — 13.8155 (atol 0.0001)", "14"),
    ("It is $x = 0.5$.", "✔ check other — 0.25 (exact)", "0.5"),
])
def test_an_unbacked_number_is_reported(tmp_path, text, line, bad):
    assert unbacked(audit(tmp_path, text + "\n", [line])) == [bad]


@pytest.mark.parametrize("text", [
    "As {eq}`eq-count-12` shows, see {numref}`fig-3` and {cite}`vaswani2017attention`.",
    "Run `torch.randn(3, 4)` first; see [the docs](https://example.org/v2/page).",
    "Vaswani et al. 2017 and the paper (2017) introduced it.",
    "Equation 3, Section 2, Figure 4, step 5 and layer 7 name things.",
    "The weights $W_1, W^2$ and $x_{12}$ are notation; so are x_1, W2 and float64.",
    "A 2×2 matrix, a 2-2-1 network, the 3rd row and the fraction 1/2.",
    "1. first item\n2. second item\n",
    "$$\n\\sum_{i=1}^{n} x_i^2 \\le n \\max_i x_i^2\n$$ (eq-sum)\n",
    "(label-3)=\n## A heading\n",
    "% a comment with 42 in it\nNothing here.\n",
])
def test_numbers_that_are_not_results_are_excluded(tmp_path, text):
    assert audit(tmp_path, text + "\n", []).numbers == []


def test_a_given_declared_above_a_block_applies_to_that_block_only(tmp_path):
    prose = """\
    % given: 20, 0.5
    We train 20 networks with step 0.5.

    Then 20 of them succeed.
    """
    assert unbacked(audit(tmp_path, prose, [])) == ["20"]


def test_a_given_above_a_display_equation_and_a_list(tmp_path):
    prose = """\
    % given: 768, 12
    $$
    d = 768, \\quad h = 12
    $$

    % given: 3
    - the first item has 3 heads

    - the second also 3
    """
    assert unbacked(audit(tmp_path, prose, [])) == []


def test_exercises_are_questions_and_solutions_are_audited(tmp_path):
    prose = """\
    ```{exercise} Some exercise
    :label: ex-one

    How many of the $2^8 = 256$ functions of 3 inputs are separable?
    ```

    ```{solution} ex-one
    :class: dropdown

    The answer is 104.
    ```
    """
    result = audit(tmp_path, prose, ["✔ check other — 1 (exact)"])
    assert unbacked(result) == ["104"]


def test_captions_and_alt_texts_are_audited_and_givens_reach_them(tmp_path):
    prose = """\
    % given: 1000
    ```{code-cell} ipython3
    ---
    mystnb:
      figure:
        caption: "With gain 1000 the output rises within 0.0046."
      image:
        alt: "A curve through 0.5 at zero."
    ---
    plt.plot([1, 2])
    ```
    """
    result = audit(tmp_path, prose, ["✔ check midpoint — 0.5 (exact)"])
    assert [(n.where, n.text) for n in result.unbacked] == [("caption", "0.0046")]
    assert {n.where for n in result.numbers} == {"caption", "alt"}


def test_admonition_titles_are_audited(tmp_path):
    prose = """\
    ```{admonition} Mistake: "the layer has 1,769,472 parameters"
    :class: warning
    It has more.
    ```
    """
    assert unbacked(audit(tmp_path, prose, [])) == ["1,769,472"]


def test_cli_reports_and_fails(tmp_path, capsys):
    audit(tmp_path, "The weight is 0.74.\n", ["✔ check weight — 0.73 (exact)"])
    assert audit_numbers.main([str(tmp_path / "chapter.md"), "--json", str(tmp_path / "out.json")]) == 1
    out = capsys.readouterr().out
    assert "chapter.md:4: unbacked prose number 0.74" in out
    assert "numbers in the text backed by a check: 0 of 1" in out
    assert json.loads((tmp_path / "out.json").read_text())


def test_the_ledger_counts_backed_numbers_and_marks_draws(tmp_path):
    from types import SimpleNamespace

    from tools import sphinx_ext

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    audit(notebooks, "The weight is 0.73 and 0.74.\n", ["✔ check weight — 0.7310585786 (atol 1e-09)"])
    app = SimpleNamespace(srcdir=str(tmp_path))
    assert sphinx_ext._numbers_backed(app, "notebooks/chapter") == "1 of 2"
    assert sphinx_ext._numbers_backed(app, "notebooks/missing") == ""
    assert sphinx_ext._is_about_this_draw({"tolerance": "exact; about this draw"})
    assert not sphinx_ext._is_about_this_draw({"tolerance": "atol 1e-09"})


# ----------------------------------------------------------------------------- seed run

from tools import audit_seeds  # noqa: E402


def test_offsets_are_parsed():
    assert audit_seeds.parse_offsets("1-5") == [1, 2, 3, 4, 5]
    assert audit_seeds.parse_offsets("1,3") == [1, 3]
    with pytest.raises(ValueError):
        audit_seeds.parse_offsets("")


def test_the_seed_run_sets_the_offset_in_one_kernel_and_tells_a_failed_check_from_a_crash(tmp_path):
    import nbformat

    def notebook(name: str, source: str) -> str:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
        nbformat.write(nb, tmp_path / f"{name}.ipynb")
        return str(tmp_path / f"{name}.md")

    draw = notebook("draw", "import dlnotes\nleftover = 1\n"
                            "dlnotes.check_bound('offset below 2', dlnotes.seed_offset(), upper=1)")
    crash = notebook("crash", "print(leftover)")  # the namespace was reset: a NameError
    records = audit_seeds.run_notebooks([draw, crash], [1, 2])
    outcome = [(Path(r["notebook"]).stem, r["offset"], r["status"]) for r in records]
    assert outcome == [("draw", 1, "passed"), ("draw", 2, "check failed"),
                       ("crash", 1, "error"), ("crash", 2, "error")]
    assert records[2]["error"].startswith("NameError")


# ----------------------------------------------------------------------------- fault injection

def test_the_fault_hook_perturbs_only_the_named_function(tmp_path):
    import subprocess
    import sys

    from tools import faults

    (tmp_path / "sitecustomize.py").write_text(faults.HOOK)
    probe = ("import torch\nfrom dlnotes.attention import mha_param_count, softmax\nimport dlnotes.attention as A\n"
             "x = torch.tensor([1.0, 2.0, 0.0], dtype=torch.float64)\n"
             "print(mha_param_count(768, 12), A.mha_param_count(768, 12), float(softmax(x, dim=-1).sum()))\n")
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin", "DLNOTES_FAULT": "dlnotes.attention.mha_param_count"}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True).stdout
    count, qualified, total = out.split()
    assert count == qualified == "2362369" and abs(float(total) - 1) < 1e-12
    env["DLNOTES_FAULT"] = "dlnotes.attention.softmax"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True).stdout
    count, _, total = out.split()
    assert count == "2362368" and abs(float(total) - (1 + 1e-6)) < 1e-12


def test_the_functions_under_fault_are_the_chapters_calls():
    from tools import faults

    called = faults.functions_called()
    assert "dlnotes.attention.mha_param_count" in called
    assert not set(called) & faults.NOT_RESULTS
    assert all(chapters for chapters in called.values())


def test_a_chapters_own_check_function_is_not_linted():
    assert reasons("def check(name, a, b):\n    pass\ncheck('own', 1 + 1, 2)") == []
    assert reasons("import dlnotes\nverify = dlnotes.check_bound\nverify('alias', 2 * 3, lower=1)") == ["literal"]


def test_make_test_runs_the_audits_and_two_seed_offsets():
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    test_line = next(line for line in makefile.splitlines() if line.startswith("test:"))
    assert "test-audit" in test_line.split() and "test-seeds-quick" in test_line.split()
    for tool in ("tools.lint_checks", "tools.lint_device", "tools.audit_numbers"):
        assert f"$(PY) -m {tool}" in makefile
    quick = makefile[makefile.index("test-seeds-quick: venv"):].split("\n\n")[0]
    assert "--offsets 1,2" in quick and "netguard" in quick and "SEED_OFFSETS ?= 1-5" in makefile
    assert "$(PY) -m tools.faults" in makefile


def test_a_bound_is_shown_to_six_digits_and_a_longer_text_number_agrees_with_them(tmp_path):
    line = "✔ check below 4^-10 — at most 9.53674e-07 (bound)"
    assert unbacked(audit(tmp_path, "It is at most $9.5367431640625 \\times 10^{-7}$.\n", [line])) == []
    assert unbacked(audit(tmp_path, "It is at most $9.5368 \\times 10^{-7}$.\n", [line])) == ["9.5368 \\times 10^{-7}"]
