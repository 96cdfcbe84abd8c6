"""The causes of the two stderr lines cron mailed on every run, removed at their source (evaluation._kernel).

- "Kernel is running over TCP without encryption": ipykernel warns when it binds TCP without CurveZMQ keys.
- "[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel": jupyter_client's shutdown sends SIGINT first.
"""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from jupyter_client.manager import AsyncKernelManager

from evaluation.runs._kernel import QuietKernelManager

pytestmark = pytest.mark.notebook


def _start_and_stop(manager_class, monkeypatch) -> tuple[list[str], dict, Path]:
    sent: list[str] = []
    real = AsyncKernelManager._async_interrupt_kernel

    async def spy(self):
        sent.append("SIGINT")
        await real(self)

    monkeypatch.setattr(AsyncKernelManager, "_async_interrupt_kernel", spy)

    async def go():
        km = manager_class(kernel_name="evaluation")
        await km.start_kernel()
        info = json.loads(Path(km.connection_file).read_text())
        kc = km.client()
        kc.start_channels()
        await kc.wait_for_ready(timeout=120)
        kc.stop_channels()
        await km.shutdown_kernel()
        return info, Path(getattr(km, "_ipc_dir", "/nonexistent"))

    info, ipc_dir = asyncio.run(go())
    return sent, info, ipc_dir


def test_stock_manager_interrupts_at_shutdown_and_binds_tcp(kernel_name, monkeypatch):
    """The control case: this is what papermill did before."""
    sent, info, _ = _start_and_stop(AsyncKernelManager, monkeypatch)
    assert sent == ["SIGINT"] and info["transport"] == "tcp"


def test_quiet_manager_uses_ipc_and_sends_no_sigint(kernel_name, monkeypatch):
    sent, info, ipc_dir = _start_and_stop(QuietKernelManager, monkeypatch)
    assert sent == [] and info["transport"] == "ipc"
    assert info["ip"].startswith(str(ipc_dir)) and not ipc_dir.exists()  # sockets cleaned up
