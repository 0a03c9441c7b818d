"""`ape run stress --attest` posts to the registry of a running node, and a second process with
another account runs `--verify UID --attest` and gets the same digest (issue 15 §3, done-when).
The node is an anvil started here (chain id 1337, what Ape's URI provider signs for)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from nodes import anvil_node

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def node():
    with anvil_node(1337) as uri:
        yield uri


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
