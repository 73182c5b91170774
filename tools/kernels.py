"""Jupyter kernels that start reliably on a busy machine.

Why a kernel can die before it replies to ``kernel_info``: over TCP,
jupyter_client chooses five free ports by binding port 0 and closing the
socket, writes them into the connection file and starts the kernel, which binds
them only after Python and ipykernel have loaded (about 1 s on a quiet machine,
several seconds on a loaded one).  Any process that binds a port in that window
(the other nbval worker's kernel, a browser, other work on the machine) makes
the kernel exit with ``ZMQError: Address already in use``, and the client
reports only "Kernel died before replying to kernel_info" because nbval sends
the kernel's stderr to /dev/null.  ``tests/test_kernels.py`` plants such a
collision and sees exactly that message.

Unix-domain sockets (``transport="ipc"``) in a private temporary folder have no
such window: their names are chosen by us, unique per kernel, and nothing else
can take them.  They also keep the notebooks off the network entirely.

* :func:`ipc_kernel_manager` builds a manager for nbclient and the seed runner.
* As a pytest plugin (``-p tools.kernels``, in the Makefile's nbval flags) this
  module makes nbval start its kernels the same way, and keeps each kernel's
  stderr in a file whose last lines are added to the error if a kernel dies.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

_STDERR_TAIL_LINES = 15
_FOLDERS: list[str] = []


@atexit.register
def _remove_folders() -> None:
    for folder in _FOLDERS:
        shutil.rmtree(folder, ignore_errors=True)


def ipc_kernel_manager(kernel_name: str = "python3", prefix: str = "dlnotes-kernel-", **kwargs):
    """A ``KernelManager`` on Unix sockets in a fresh private folder (see the module docstring)."""
    from jupyter_client.manager import KernelManager

    folder = tempfile.mkdtemp(prefix=prefix)
    _FOLDERS.append(folder)
    return KernelManager(kernel_name=kernel_name, transport="ipc", ip=os.path.join(folder, "kernel"), **kwargs)


def stderr_tail(path: Path, lines: int = _STDERR_TAIL_LINES) -> str:
    """The last ``lines`` lines of a kernel's stderr file ('' if none)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _nbval_start_new_kernel(startup_timeout: float = 60, kernel_name: str = "python", **kwargs):
    """nbval's ``start_new_kernel`` on Unix sockets, with the kernel's stderr kept for the error message."""
    import nbval.kernel

    manager = ipc_kernel_manager(kernel_name=kernel_name, prefix="dlnotes-nbval-",
                                 kernel_spec_manager=nbval.kernel.NbvalKernelspecManager())
    stderr_path = Path(manager.ip).parent / "stderr.txt"
    kwargs.pop("stderr", None)
    with open(stderr_path, "w", encoding="utf-8") as stderr:
        manager.start_kernel(stderr=stderr, **kwargs)
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=startup_timeout)
    except RuntimeError as err:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
        raise RuntimeError(f"{err}; the kernel's stderr ends with:\n{stderr_tail(stderr_path)}") from err
    return manager, client


def pytest_configure(config) -> None:
    """Loaded as a plugin (``-p tools.kernels``): nbval's kernels start on Unix sockets."""
    import nbval.kernel

    nbval.kernel.start_new_kernel = _nbval_start_new_kernel
