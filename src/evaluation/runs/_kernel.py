"""The kernel manager scheduled runs use: local IPC sockets, and no SIGINT at shutdown.

Two lines reached cron's mail on every successful run, both from the kernel
process (whose stderr is the runner's):

- ``Kernel is running over TCP without encryption`` -- ipykernel warns whenever
  it binds TCP sockets without CurveZMQ keys. A kernel on the same machine needs
  no network at all, so we use Unix domain sockets (``transport="ipc"``) in a
  private 0700 folder; the warning then has no cause rather than being hidden.
- ``[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel`` -- jupyter_client's
  ``shutdown_kernel`` always sends SIGINT before the shutdown request, and an
  idle kernel logs it as an error. The shutdown request alone stops the kernel;
  one that does not stop in ``shutdown_wait_time`` is still terminated/killed by
  jupyter_client. So the interrupt is skipped only while shutting down.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager


class QuietKernelManager(AsyncKernelManager):
    """AsyncKernelManager over IPC sockets that does not interrupt a kernel it is shutting down."""

    def __init__(self, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        # short absolute path: Unix socket paths are limited to ~107 bytes; relative ones would
        # resolve against two different working folders (runner and kernel)
        self._ipc_dir = tempfile.mkdtemp(prefix="evk-")
        self.transport = "ipc"
        self.ip = str(Path(self._ipc_dir) / "k")

    async def _async_interrupt_kernel(self) -> None:
        if self.shutting_down:
            return
        await super()._async_interrupt_kernel()

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            shutil.rmtree(self._ipc_dir, ignore_errors=True)
