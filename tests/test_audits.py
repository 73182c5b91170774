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
