"""Lint: every ``dlnotes.check`` / ``check_bound`` must be able to fail.

A check is evidence only if its ``actual`` depends on the computation under
test.  This lint reads the code cells of each chapter (``notebooks/*.md``) with
``ast`` and rejects a check whose ``actual`` is, by construction, one of:

``literal``
    built only from literals and arithmetic on them, including ``math.*`` of
    literals and names bound exactly once, to such an expression, anywhere in
    the notebook (``d = 768`` then ``d // 12``).
``same-as-expected``
    the same expression as ``expected`` (compared as syntax trees), after
    replacing names bound exactly once by what they were bound to; this covers
    a deterministic call compared with itself, directly
    (``check(.., f(x), f(x))``) or through variables (``a = f(x)`` then
    ``check(.., a, f(x))``, or ``a = f(x); b = f(x); check(.., a, b)``).
``shape-of-slice``
    the shape (``.shape``, ``.size()``, ``len``, ``.numel()``, wrapped in
    ``tuple``/``list`` or indexed) of a slice or index of a tensor
    (``x[..., :3].shape``, ``tuple(w[0:64].T.shape)``): slicing fixes the shape.

What is *not* rejected, on purpose (no false positives on legitimate checks):
a computed variable against a literal (``check(.., loss, 0.25)``); the shape of
a computed tensor (``attention(q, k, v).shape``); a name bound more than once
(a loop variable, a reassigned result), whose value the lint cannot know.
Known blind spots (false negatives): an identity that holds by construction
through different code (``nn.Sequential`` against its own layers), gradients
through integer operations, quantities measured where they cannot be nonzero.
Those are for review; this lint catches the mechanical cases.

Usage::

    python -m tools.lint_checks [notebooks/X.md ...]

prints ``file:line: reason: source`` per offence and a count per chapter;
exit status 1 if any check is rejected.
"""

from __future__ import annotations

import ast
import copy
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tools.audit_source import lint_main, parse_notebook_code, read_chapter

CHECK_FUNCTIONS = {"check", "check_bound"}
_PURE_BUILTINS = {"abs", "round", "int", "float", "pow", "min", "max", "sum", "len", "complex", "bool", "divmod",
                  "tuple", "list", "sorted", "range"}
_PURE_MODULES = {"math", "fractions", "decimal"}
_SHAPE_WRAPPERS = {"tuple", "list", "len"}
_TRANSPARENT_METHODS = {"contiguous", "detach", "clone", "cpu", "to", "float", "double", "t", "numpy", "squeeze",
                        "unsqueeze", "flatten", "reshape", "view", "transpose", "permute"}


@dataclass(frozen=True)
class Offence:
    path: Path
    line: int
    reason: str
    source: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}: {self.source}"


# ----------------------------------------------------------------------------- bindings


class _Bindings(ast.NodeVisitor):
    """How many times each name is bound anywhere, and the value of single plain assignments."""

    def __init__(self) -> None:
        self.count: Counter[str] = Counter()
        self.value: dict[str, ast.expr] = {}

    def _targets(self, target: ast.AST) -> None:
        for node in ast.walk(target):
            if isinstance(node, ast.Name):
                self.count[node.id] += 1

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._targets(target)
            if isinstance(target, ast.Name):
                self.value[target.id] = node.value
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._targets(node.target)
        if isinstance(node.target, ast.Name) and node.value is not None:
            self.value[node.target.id] = node.value
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._targets(node.target)
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        self._targets(node.target)
        self.generic_visit(node)

    visit_AsyncFor = visit_For

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self._targets(node.target)
        self.generic_visit(node)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self._targets(node.target)
        self.generic_visit(node)

    def visit_withitem(self, node: ast.withitem) -> None:
        if node.optional_vars is not None:
            self._targets(node.optional_vars)
        self.generic_visit(node)

    def visit_arg(self, node: ast.arg) -> None:
        self.count[node.arg] += 1

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.count[node.name] += 1
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.count[node.name] += 1
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.count[(alias.asname or alias.name).split(".")[0]] += 1

    visit_ImportFrom = visit_Import

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.count[node.name] += 1
        self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> None:
        for name in node.names:
            self.count[name] += 2  # rebound elsewhere: unknown

    def single(self, name: str) -> ast.expr | None:
        """The value a name is bound to, if it is bound exactly once by a plain assignment."""
        return self.value.get(name) if self.count[name] == 1 else None


def _check_names(tree: ast.Module) -> dict[str, str]:
    """Local names that refer to dlnotes.check / check_bound (``from dlnotes import check as verify``)."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "dlnotes":
            for alias in node.names:
                if alias.name in CHECK_FUNCTIONS:
                    names[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Attribute) \
                and node.value.attr in CHECK_FUNCTIONS and _is_dlnotes(node.value.value):
            names.update({t.id: node.value.attr for t in node.targets if isinstance(t, ast.Name)})
    return names


def _is_dlnotes(node: ast.expr) -> bool:
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) and node.id == "dlnotes"


def _check_kind(call: ast.Call, local_names: dict[str, str]) -> str | None:
    """'check' or 'check_bound' if ``call`` calls one of them."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in CHECK_FUNCTIONS and _is_dlnotes(func.value):
        return func.attr
    if isinstance(func, ast.Name) and func.id in local_names:  # imported from dlnotes, not a chapter's own
        return local_names[func.id]
    return None


def _argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    if len(call.args) > position and not any(isinstance(a, ast.Starred) for a in call.args[:position + 1]):
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


# ----------------------------------------------------------------------------- rules


def _is_constant(node: ast.expr, bindings: _Bindings, depth: int = 0) -> bool:
    """Built only from literals, arithmetic, pure builtins and math.* (and names bound once to those)."""
    if depth > 20:
        return False
    recurse = lambda n: _is_constant(n, bindings, depth + 1)  # noqa: E731
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp):
        return recurse(node.operand)
    if isinstance(node, ast.BinOp):
        return recurse(node.left) and recurse(node.right)
    if isinstance(node, ast.BoolOp):
        return all(map(recurse, node.values))
    if isinstance(node, ast.Compare):
        return recurse(node.left) and all(map(recurse, node.comparators))
    if isinstance(node, ast.IfExp):
        return recurse(node.test) and recurse(node.body) and recurse(node.orelse)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(map(recurse, node.elts))
    if isinstance(node, ast.Dict):
        return all(k is not None and recurse(k) for k in node.keys) and all(map(recurse, node.values))
    if isinstance(node, ast.Attribute):  # math.pi, math.e, math.inf
        return isinstance(node.value, ast.Name) and node.value.id in _PURE_MODULES
    if isinstance(node, ast.Name):
        value = bindings.single(node.id)
        # only immutable values: a list bound once may still be appended to
        return value is not None and not isinstance(value, (ast.List, ast.Dict, ast.Set)) and recurse(value)
    if isinstance(node, ast.Call):
        func = node.func
        pure = (isinstance(func, ast.Name) and func.id in _PURE_BUILTINS and bindings.count[func.id] == 0) or (
            isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in _PURE_MODULES)
        return pure and all(map(recurse, node.args)) and all(recurse(k.value) for k in node.keywords)
    return False


class _Resolve(ast.NodeTransformer):
    """Replace names bound exactly once by the expression they were bound to."""

    def __init__(self, bindings: _Bindings) -> None:
        self.bindings = bindings
        self.seen: set[str] = set()

    def visit_Name(self, node: ast.Name) -> ast.AST:
        value = self.bindings.single(node.id)
        if value is None or node.id in self.seen:
            return node
        self.seen.add(node.id)
        try:
            return self.visit(copy.deepcopy(value))
        finally:
            self.seen.discard(node.id)


def _dump(node: ast.expr, bindings: _Bindings) -> str:
    return ast.dump(_Resolve(bindings).visit(copy.deepcopy(node)), annotate_fields=False, include_attributes=False)


def _is_slice_of_tensor(node: ast.expr, bindings: _Bindings, depth: int = 0) -> bool:
    if depth > 10:
        return False
    while True:
        if isinstance(node, ast.Attribute) and node.attr in {"T", "mT", "H", "mH", "real", "imag", "data"}:
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in _TRANSPARENT_METHODS and node.func.attr not in {"reshape", "view", "flatten"}:
            node = node.func.value
        else:
            break
    if isinstance(node, ast.Subscript):
        return True
    if isinstance(node, ast.Name):
        value = bindings.single(node.id)
        return value is not None and _is_slice_of_tensor(value, bindings, depth + 1)
    return False


def _is_shape_of_slice(node: ast.expr, bindings: _Bindings) -> bool:
    # unwrap tuple(...), list(...), len(...), and indexing a shape: x[0:3].shape[0]
    while True:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _SHAPE_WRAPPERS \
                and len(node.args) == 1:
            if node.func.id == "len":
                return _is_slice_of_tensor(node.args[0], bindings)
            node = node.args[0]
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "shape":
            node = node.value
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Call) \
                and isinstance(node.value.func, ast.Attribute) and node.value.func.attr == "size":
            node = node.value
        else:
            break
    if isinstance(node, ast.Attribute) and node.attr == "shape":
        return _is_slice_of_tensor(node.value, bindings)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr in {"size", "numel", "dim"}:
        return _is_slice_of_tensor(node.func.value, bindings)
    if isinstance(node, ast.Name):
        value = bindings.single(node.id)
        return value is not None and _is_shape_of_slice(value, bindings)
    return False


def lint_tree(tree: ast.Module, path: Path, lines: list[str]) -> list[Offence]:
    bindings = _Bindings()
    bindings.visit(tree)
    local_names = _check_names(tree)
    offences = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        kind = _check_kind(node, local_names)
        if kind is None:
            continue
        actual = _argument(node, 1, "actual")
        if actual is None:
            continue
        expected = _argument(node, 2, "expected") if kind == "check" else None
        reason = None
        if _is_constant(actual, bindings):
            reason = "literal: actual is built from literals only"
        elif expected is not None and _dump(actual, bindings) == _dump(expected, bindings):
            reason = "same-as-expected: actual is the same expression as expected"
        elif _is_shape_of_slice(actual, bindings):
            reason = "shape-of-slice: actual is the shape of a slice, fixed by the slicing"
        if reason:
            text = lines[node.lineno - 1].strip() if 0 < node.lineno <= len(lines) else ""
            offences.append(Offence(path, node.lineno, reason, text))
    return sorted(offences, key=lambda o: o.line)


def lint_source(code: str, path: Path = Path("<snippet>")) -> list[Offence]:
    """Lint plain Python source (used by the tests)."""
    return lint_tree(ast.parse(code), path, code.splitlines())


def lint_chapter(path: Path) -> list[Offence]:
    chapter = read_chapter(path)
    return lint_tree(parse_notebook_code(chapter), path, chapter.lines)


def main(argv: list[str] | None = None) -> int:
    return lint_main(argv, "python -m tools.lint_checks", __doc__.splitlines()[0], lint_chapter, "check(s) that cannot fail")


if __name__ == "__main__":
    sys.exit(main())
