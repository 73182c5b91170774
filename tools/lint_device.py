"""Lint: no random number is drawn on the compute device.

The book promises the same inputs on every device.  CPU and CUDA have different
random generators, so ``torch.randn(3, device=device)`` gives other numbers on a
GPU.  Random inputs are drawn on the CPU and moved (``dlnotes.randn``,
``dlnotes.rand``, ``dlnotes.randint``, or ``torch.randn(..., generator=g).to(device)``).

This lint reads the code cells of each chapter with ``ast`` and rejects:

``device-draw``
    a call of a ``torch`` random function (``randn``, ``rand``, ``randint``,
    ``randperm``, ``normal``, ``bernoulli``, ``multinomial``, ``poisson``,
    ``rand_like``, ``randn_like``, ``randint_like``) with a ``device=`` keyword
    that is not the literal ``"cpu"``, or with ``**kw`` where ``kw`` is a dict
    (``dict(...)`` or ``{...}``) bound in the notebook that carries a
    ``device`` key;
``device-like``
    ``torch.*_like(x)`` without a CPU ``device=``, where ``x`` is a tensor
    known to live on the device (see below): ``_like`` draws where ``x`` lives;
``device-inplace``
    an in-place random fill (``.normal_()``, ``.uniform_()``, ``.bernoulli_()``,
    ``.random_()``, ``.exponential_()``, ``.cauchy_()``, ``.log_normal_()``,
    ``.geometric_()``) or ``nn.init.<name>_(t)`` of a tensor or module known to
    live on the device.

"Known to live on the device": an expression built with a non-CPU ``device=``
(or a dict carrying one), moved with ``.to(device)``/``.cuda()``, or a name
(or the attribute of a name, ``layer.weight``) bound to such an expression.
The analysis is local and syntactic: a tensor that reaches the device through
a function's return value is not seen (false negative); nothing that draws on
the CPU is rejected.

Usage::

    python -m tools.lint_device [notebooks/X.md ...]
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from tools.audit_source import lint_main, parse_notebook_code, read_chapter
from tools.lint_checks import Offence

RANDOM_FUNCTIONS = {"randn", "rand", "randint", "randperm", "normal", "bernoulli", "multinomial", "poisson",
                    "rand_like", "randn_like", "randint_like"}
INPLACE_RANDOM = {"normal_", "uniform_", "bernoulli_", "random_", "exponential_", "cauchy_", "log_normal_",
                  "geometric_"}


def _is_cpu_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.split(":")[0] == "cpu"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "device" \
            and node.args and isinstance(node.args[0], ast.Constant):
        return str(node.args[0].value).split(":")[0] == "cpu"
    return False


def _dict_carries_device(node: ast.expr | None) -> bool:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        return any(k.arg == "device" and not _is_cpu_literal(k.value) for k in node.keywords)
    if isinstance(node, ast.Dict):
        return any(isinstance(k, ast.Constant) and k.value == "device" and not _is_cpu_literal(v)
                   for k, v in zip(node.keys, node.values))
    return False


class _Lint:
    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.device_dicts: set[str] = set()
        # name -> first line at which it is bound to something on the device
        self.device_names: dict[str, int] = {}
        assigns = [n for n in ast.walk(tree) if isinstance(n, ast.Assign)]
        for node in assigns:
            if _dict_carries_device(node.value):
                self.device_dicts |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        # names bound to device tensors or modules (a fixed point: y = x * 2 after x = ....to(device))
        for _ in range(3):
            for node in assigns:
                if self._on_device(node.value, node.lineno):
                    for target in node.targets:
                        for name in ast.walk(target):
                            if isinstance(name, ast.Name):
                                line = min(node.lineno, self.device_names.get(name.id, node.lineno))
                                self.device_names[name.id] = line

    def _device_keyword(self, call: ast.Call) -> bool:
        for keyword in call.keywords:
            if keyword.arg == "device" and not _is_cpu_literal(keyword.value):
                return True
            if keyword.arg is None and isinstance(keyword.value, ast.Name) and keyword.value.id in self.device_dicts:
                return True
            if keyword.arg is None and _dict_carries_device(keyword.value):
                return True
        return False

    def _on_device(self, node: ast.expr, line: int) -> bool:
        """Whether ``node``, evaluated at ``line``, is (or holds) a tensor on the compute device."""
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call):
                if self._device_keyword(sub):
                    return True
                func = sub.func
                if isinstance(func, ast.Attribute) and func.attr == "cuda":
                    return True
                if isinstance(func, ast.Attribute) and func.attr == "to":
                    args = list(sub.args) + [k.value for k in sub.keywords if k.arg == "device"]
                    if any(not _is_cpu_literal(a) and not _is_dtype(a) for a in args):
                        return True
            elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load) \
                    and self.device_names.get(sub.id, line + 1) <= line:
                return True
        return False

    def offences(self, path: Path, lines: list[str]) -> list[Offence]:
        found = []
        for node in ast.walk(self.tree):
            if not isinstance(node, ast.Call):
                continue
            reason = self._reason(node)
            if reason:
                text = lines[node.lineno - 1].strip() if 0 < node.lineno <= len(lines) else ""
                found.append(Offence(path, node.lineno, reason, text))
        return sorted(found, key=lambda o: o.line)

    def _reason(self, call: ast.Call) -> str | None:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in RANDOM_FUNCTIONS and _is_torch(func.value):
            if self._device_keyword(call):
                return f"device-draw: torch.{func.attr} draws on the compute device; draw on the CPU and move it"
            cpu_requested = any(k.arg == "device" for k in call.keywords)
            if func.attr.endswith("_like") and call.args and not cpu_requested \
                    and self._on_device(call.args[0], call.lineno):
                return f"device-like: torch.{func.attr} draws where its argument lives, on the compute device"
        if isinstance(func, ast.Attribute) and func.attr in INPLACE_RANDOM:
            if self._on_device(func.value, call.lineno):
                return f"device-inplace: .{func.attr}() fills a device tensor from the device's generator"
        if isinstance(func, ast.Attribute) and func.attr.endswith("_") and _is_nn_init(func.value) and call.args:
            if self._on_device(call.args[0], call.lineno):
                return f"device-inplace: nn.init.{func.attr} fills a device tensor from the device's generator"
        return None


def _is_dtype(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "torch" \
        and node.attr.startswith(("float", "double", "int", "long", "bool", "half", "bfloat", "complex", "uint"))


def _is_torch(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "torch"


def _is_nn_init(node: ast.expr) -> bool:
    # torch.nn.init.x_, nn.init.x_, init.x_
    if isinstance(node, ast.Attribute) and node.attr == "init":
        return True
    return isinstance(node, ast.Name) and node.id == "init"


def lint_source(code: str, path: Path = Path("<snippet>")) -> list[Offence]:
    tree = ast.parse(code)
    return _Lint(tree).offences(path, code.splitlines())


def lint_chapter(path: Path) -> list[Offence]:
    chapter = read_chapter(path)
    return _Lint(parse_notebook_code(chapter)).offences(path, chapter.lines)


def main(argv: list[str] | None = None) -> int:
    return lint_main(argv, "python -m tools.lint_device", __doc__.splitlines()[0], lint_chapter, "random draw(s) on the compute device")


if __name__ == "__main__":
    sys.exit(main())
