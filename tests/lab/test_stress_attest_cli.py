"""`ape run stress --attest` posts to the registry of a running node, and a second process with
another account runs `--verify UID --attest` and gets the same digest (issue 15 §3, done-when).
The node is an anvil started here (chain id 1337, what Ape's URI provider signs for)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def node():
    anvil = shutil.which("anvil") or str(ROOT / "node_modules" / ".bin" / "anvil")
    port = _free_port()
    proc = subprocess.Popen([anvil, "--chain-id", "1337", "--port", str(port), "--silent", "--hardfork", "prague",
                             "--gas-limit", "30000000"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("anvil did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _stress(uri, out, *args) -> subprocess.CompletedProcess:
    ape = str(Path(sys.executable).parent / "ape")
    cmd = [ape, "run", "stress", "--scenario", "flash_pump", "--mechanism", "fixed", "--quick", "--jobs", "0",
           "--out", str(out), "--network", f"ethereum:local:{uri}", *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, env=dict(os.environ))


def test_attest_then_verify_from_a_second_process(node, tmp_path):
    first = _stress(node, tmp_path, "--attest", "--allow-dirty")
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    m = re.search(r"attested: uid (0x[0-9a-f]{64}) in registry (0x[0-9a-fA-F]{40})", first.stdout)
    assert m, first.stdout[-2000:]
    uid, registry = m.groups()
    digest = re.search(r"report digest (0x[0-9a-f]{64})", first.stdout).group(1)
    second = _stress(node, tmp_path, "--verify", uid, "--attest", "--attester", "TEST::1", "--registry", registry)
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    assert f"report digest {digest}" in second.stdout
    assert re.search(rf"verified {uid}: MATCH \(verification uid 0x[0-9a-f]{{64}}\)", second.stdout), second.stdout[-2000:]
    wrong = _stress(node, tmp_path, "--verify", uid, "--seed", "5", "--registry", registry)
    assert wrong.returncode != 0 and "the attestation was made with" in wrong.stdout + wrong.stderr
