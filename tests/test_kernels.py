"""Kernel start under nbval: the cause of "Kernel died before replying to kernel_info" and its fix (tools/kernels.py)."""

import os
import socket

import pytest

pytest.importorskip("nbval")

from jupyter_client.manager import KernelManager  # noqa: E402

from tools import kernels  # noqa: E402


def test_a_tcp_port_taken_before_the_kernel_binds_it_kills_the_kernel_before_kernel_info(tmp_path):
    # The planted defect: another process holds the port the client chose for the kernel.
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    manager = KernelManager(kernel_name="python3")
    manager.cache_ports = False
    manager.shell_port = holder.getsockname()[1]
    stderr_path = tmp_path / "stderr.txt"
    try:
        with open(stderr_path, "w") as stderr:
            manager.start_kernel(stderr=stderr)
        client = manager.client()
        client.start_channels()
        with pytest.raises(RuntimeError, match="Kernel died before replying to kernel_info"):
            client.wait_for_ready(timeout=60)
        client.stop_channels()
    finally:
        if manager.has_kernel:
            manager.shutdown_kernel(now=True)
        holder.close()
    assert "Address already in use" in stderr_path.read_text()


def test_nbval_kernels_start_on_unix_sockets_and_run_code():
    import nbval.kernel

    kernels.pytest_configure(config=None)
    assert nbval.kernel.start_new_kernel is kernels._nbval_start_new_kernel
    manager, client = nbval.kernel.start_new_kernel(kernel_name=nbval.kernel.CURRENT_ENV_KERNEL_NAME)
    try:
        assert manager.transport == "ipc"
        assert os.path.exists(manager.ip + "-1")  # the shell socket is a file in a private folder
        reply = client.execute_interactive("x = 6 * 7", timeout=60)
        assert reply["content"]["status"] == "ok"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_a_kernel_that_dies_at_start_reports_its_stderr(tmp_path):
    import nbval.kernel

    # The planted defect: the kernel's interpreter exits while starting, saying why on stderr.
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\nsys.stderr.write('planted start-up failure\\n')\nsys.exit(3)\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    with pytest.raises(RuntimeError, match="planted start-up failure"):
        kernels._nbval_start_new_kernel(kernel_name=nbval.kernel.CURRENT_ENV_KERNEL_NAME, env=env)
