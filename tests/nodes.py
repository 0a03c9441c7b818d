"""A second anvil for the tests that need a node of their own (a testnet stand-in, a node that
outlives one `ape run`): `anvil_node(chain_id)` starts it on a free port, yields its URL and
stops it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def anvil_node(chain_id: int):
    anvil = shutil.which("anvil") or str(ROOT / "node_modules" / ".bin" / "anvil")
    port = free_port()
    proc = subprocess.Popen([anvil, "--chain-id", str(chain_id), "--port", str(port), "--silent",
                             "--hardfork", "prague", "--gas-limit", "30000000"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail(f"anvil (chain id {chain_id}) did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
