"""`make lab` works: JupyterLab opens a chapter's .md as a notebook, runs a cell, and saves the pair.

The server runs headless on a random free loopback port with a token, in a
scratch copy of one chapter (so saving never touches the repository); every
request and the server itself have a deadline, and the server is shut down
(killed if it will not stop) whatever happens.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "multihead_parameters"
JUPYTER = Path(sys.executable).parent / "jupyter"
STARTUP_DEADLINE_S = 40.0
REQUEST_TIMEOUT_S = 10.0
CELL_DEADLINE_S = 30.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Lab:
    """A headless JupyterLab server and a small client for its REST API."""

    def __init__(self, root: Path, runtime: Path):
        self.port, self.token = _free_port(), secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(runtime), JUPYTER_PLATFORM_DIRS="1")
        self.log = (runtime / "server.log").open("w")
        self.process = subprocess.Popen(
            [str(JUPYTER), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
             "--ServerApp.port_retries=0", "--allow-root", f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}",
             "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
            cwd=root, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def request(self, method: str, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Authorization": f"token {self.token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=REQUEST_TIMEOUT_S) as response:
            text = response.read().decode()
        return json.loads(text) if text else {}

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.flush()
                log = Path(self.log.name).read_text()[-2000:]
                pytest.fail(f"jupyter lab exited with {self.process.returncode}:\n{log}")
            try:
                self.request("GET", "/api/status")
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        pytest.fail(f"jupyter lab did not answer within {STARTUP_DEADLINE_S} s")

    def stop(self) -> None:
        try:
            self.request("POST", "/api/shutdown")
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.log.close()


def run_cell(lab: Lab, kernel_id: str, code: str) -> str:
    """Execute ``code`` over the kernel's websocket; return what it printed."""
    import websocket

    ws = websocket.create_connection(
        f"ws://127.0.0.1:{lab.port}/api/kernels/{kernel_id}/channels?token={lab.token}", timeout=CELL_DEADLINE_S)
    try:
        msg_id = uuid.uuid4().hex
        ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test", "session": uuid.uuid4().hex,
                       "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell",
            "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        printed, deadline = [], time.monotonic() + CELL_DEADLINE_S
        while time.monotonic() < deadline:
            message = json.loads(ws.recv())
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "stream":
                printed.append(content["text"])
            elif kind == "error":
                pytest.fail(f"the cell raised {content['ename']}: {content['evalue']}")
            elif kind == "status" and content["execution_state"] == "idle":
                return "".join(printed)
        pytest.fail(f"the cell did not finish within {CELL_DEADLINE_S} s")
    finally:
        ws.close()


@pytest.fixture
def lab(tmp_path):
    root = tmp_path / "book"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / "jupytext.toml", root)
    shutil.copy(ROOT / "notebooks" / f"{CHAPTER}.md", root / "notebooks")
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    server = Lab(root, runtime)
    try:
        server.wait_until_up()
        server.root = root
        yield server
    finally:
        server.stop()


def test_makefile_starts_jupyterlab_in_the_venv():
    makefile = (ROOT / "Makefile").read_text()
    assert "\nlab: venv" in makefile and "$(VENV)/bin/jupyter lab" in makefile


def test_a_chapter_opens_runs_and_saves_as_a_pair(lab):
    path = f"notebooks/{CHAPTER}.md"
    model = lab.request("GET", f"/api/contents/{path}?type=notebook&content=1")
    assert model["type"] == "notebook", "jupytext's contents manager did not open the .md as a notebook"
    cells = model["content"]["cells"]
    assert any(c["cell_type"] == "code" for c in cells) and any(c["cell_type"] == "markdown" for c in cells)

    session = lab.request("POST", "/api/sessions", {"path": path, "type": "notebook", "name": "",
                                                    "kernel": {"name": "python3"}})
    printed = run_cell(lab, session["kernel"]["id"],
                       "import torch, dlnotes\n"
                       "w = torch.softmax(torch.tensor([2.0, 1.0, 0.0], dtype=torch.float64), 0)\n"
                       "print(round(float(w[0]), 6), dlnotes.__name__)")
    assert printed.split() == ["0.665241", "dlnotes"]

    # Saving the notebook writes both halves of the pair, as jupytext.toml asks.
    model["content"]["cells"].append({"cell_type": "markdown", "metadata": {}, "source": "A note added in the lab."})
    lab.request("PUT", f"/api/contents/{path}", {"type": "notebook", "format": "json", "content": model["content"]})
    assert "A note added in the lab." in (lab.root / path).read_text()
    paired = json.loads((lab.root / "notebooks" / f"{CHAPTER}.ipynb").read_text())
    assert paired["cells"][-1]["source"] in ("A note added in the lab.", ["A note added in the lab."])
    lab.request("DELETE", f"/api/sessions/{session['id']}")
