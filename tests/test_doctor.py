"""`python -m dlnotes.doctor`: version differences, the chapters they touch, a smoke check, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


from dlnotes import doctor

ROOT = Path(__file__).resolve().parents[1]


def run_doctor(tmp_path: Path, verified: dict | None, *args: str, extra_path: Path | None = None):
    env = dict(os.environ)
    if verified is not None:
        path = tmp_path / "verified.json"
        path.write_text(json.dumps(verified))
        env["DLNOTES_DOCTOR_VERIFIED"] = str(path)
    if extra_path is not None:
        env["PYTHONPATH"] = f"{extra_path}{os.pathsep}{env.get('PYTHONPATH', '')}"
    return subprocess.run([sys.executable, "-m", "dlnotes.doctor", *args], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=120)


def test_versions_compare_on_their_release_only():
    assert doctor.compare("2.13.0+cpu", "2.13.0") == "same"
    assert doctor.compare("2.4.3", "2.4.6") == "older patch"
    assert doctor.compare("2.5.0", "2.4.6") == "newer"
    assert doctor.compare(None, "1.14.0") == "missing"
    assert doctor.compare("1.0", None) == "unknown"


def test_chapters_are_mapped_to_the_packages_their_code_uses():
    chapters = doctor.scan_chapters(ROOT / "notebooks")
    assert set(chapters) == {p.stem for p in (ROOT / "notebooks").glob("*.md")}
    assert all({"torch", "numpy"} <= set(packages) for packages in chapters.values())  # through dlnotes
    assert "sympy" in chapters["vanishing_gradients"] and "sympy" not in chapters["multihead_parameters"]


def fake_record(monkeypatch, versions: dict) -> None:
    monkeypatch.setattr(doctor, "verified_record", lambda: ({"versions": versions}, "a faked record"))


def test_same_environment_passes_with_exit_status_0(monkeypatch, capsys):
    fake_record(monkeypatch, doctor.installed_versions())
    assert doctor.main([]) == 0
    out = capsys.readouterr().out
    assert out.count("✔") >= 4 + len(doctor.PACKAGES) and "✘" not in out


def test_a_mismatched_environment_names_the_packages_and_chapters(monkeypatch, capsys):
    fake_record(monkeypatch, dict(doctor.installed_versions(), numpy="1.26.4", sympy="1.12"))
    assert doctor.main(["--no-smoke"]) == 3
    lines = capsys.readouterr().out.splitlines()
    numpy_line = next(line for line in lines if line.strip().startswith("numpy"))
    sympy_line = next(line for line in lines if line.strip().startswith("sympy"))
    assert "✘ newer than verified" in numpy_line and "every chapter" in numpy_line
    assert "vanishing_gradients" in sympy_line and "multihead_parameters" not in sympy_line
    assert any("2 package version(s) differ" in line for line in lines)


def test_the_override_file_is_read(tmp_path, monkeypatch):
    path = tmp_path / "verified.json"
    path.write_text(json.dumps({"versions": {"numpy": "1.26.4"}}))
    monkeypatch.setenv("DLNOTES_DOCTOR_VERIFIED", str(path))
    assert doctor.verified_record() == ({"versions": {"numpy": "1.26.4"}}, str(path))


def test_a_broken_torch_gives_a_message_and_status_2(tmp_path):
    fake = tmp_path / "shadow" / "torch"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('libtorch_cpu.so: cannot open shared object file')\n")
    result = run_doctor(tmp_path, {"versions": doctor.installed_versions()}, extra_path=tmp_path / "shadow")
    assert result.returncode == 2
    assert "✘ cannot run the smoke check: ImportError: libtorch_cpu.so" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_a_missing_required_package_is_named(monkeypatch, capsys):
    monkeypatch.setattr(doctor, "installed_versions", lambda: {**{n: "1" for n in doctor.PACKAGES}, "torch": None})
    monkeypatch.setattr(doctor, "verified_record", lambda: ({"versions": {"torch": "2.13.0"}}, "test"))
    assert doctor.report() == 2
    out = capsys.readouterr().out
    assert 'missing: pip install "torch==2.13.0"' in out and "dlnotes needs torch" in out


def test_the_smoke_check_can_fail(monkeypatch, capsys):
    import dlnotes.attention

    monkeypatch.setattr(dlnotes.attention, "softmax", lambda x, dim=-1: x.exp() / x.exp().sum() + 1e-3)
    assert doctor.smoke_check() == 1
    out = capsys.readouterr().out
    assert "✘ softmax(2, 1, 0)" in out and "✔ autograd gradient" in out  # attention uses softmax, so it fails too


def test_the_smoke_check_compares_with_the_books_draw(capsys):
    assert doctor.smoke_check(book_draw=[0.0] * 6) == 1
    assert "differs from the book's" in capsys.readouterr().out


def test_the_package_ships_the_verified_versions_of_the_stamps():
    stamps = json.loads((ROOT / "notebooks" / "verified-on.json").read_text())
    shipped = json.loads((ROOT / "dlnotes" / "_verified.json").read_text())
    assert shipped["versions"] == doctor.summarise_stamps(stamps)["versions"], "run `python -m tools.stamp --shipped`"
    assert shipped["chapters"] == doctor.scan_chapters(ROOT / "notebooks"), "run `python -m tools.stamp --shipped`"
    assert shipped["book_draw"] == stamps["book_draw"] and len(shipped["book_draw"]) == 6
    assert '"_verified.json"' in (ROOT / "pyproject.toml").read_text()


def test_bad_arguments_are_refused_without_a_traceback(capsys):
    assert doctor.main(["--frobnicate"]) == 2
    assert "usage: python -m dlnotes.doctor" in capsys.readouterr().out


def test_the_install_cell_template_calls_the_doctor_after_installing(tmp_path):
    from tools.install_cell import DOCTOR_CALL, refresh_install_cell, repository_url

    chapter = tmp_path / "multihead_parameters.md"
    current = (ROOT / "notebooks" / chapter.name).read_text()
    assert f"    {DOCTOR_CALL}\n" in current  # every chapter's install cell has the call
    original = current.replace(f"    {DOCTOR_CALL}\n", "", 1)  # the cell as it was before the doctor
    chapter.write_text(original)
    assert refresh_install_cell(chapter, repository_url(ROOT / "_config.yml"))
    assert not refresh_install_cell(chapter, repository_url(ROOT / "_config.yml"))  # idempotent
    added = [line for line in chapter.read_text().splitlines() if line not in original.splitlines()]
    assert added == [f"    {DOCTOR_CALL}"]  # inside the `if`: silent wherever dlnotes is already installed
    assert DOCTOR_CALL.split("  #")[0].endswith("report(brief=True)")


def test_a_missing_optional_package_names_its_chapters(monkeypatch, capsys):
    fake_record(monkeypatch, doctor.installed_versions())
    real = doctor.installed_versions()
    monkeypatch.setattr(doctor, "installed_versions", lambda: dict(real, sympy=None))
    assert doctor.report(smoke=False) == 2
    out = capsys.readouterr().out
    sympy_line = next(line for line in out.splitlines() if line.strip().startswith("sympy"))
    assert 'missing: pip install "sympy==' in sympy_line and "vanishing_gradients" in sympy_line
    assert "not installed: sympy" in out
