"""Integration fixtures: the whole protocol, deployed once per session by `dsi.protocol.deploy`.

Every test starts from the session's state and leaves nothing behind (the in-process chain's
snapshot is restored, tests/conftest.py), so tests may move prices and time freely.
"""

from __future__ import annotations

import pytest

from dsi.protocol import Params, deploy

WAD = 10**18


@pytest.fixture(scope="session")
def protocol(project, accounts):
    return deploy(project, accounts, Params())


@pytest.fixture(scope="session")
def node_protocol(node_project, accounts):
    """The same deployment on anvil (for what is measured on the node: gas)."""
    return deploy(node_project, accounts, Params())


@pytest.fixture(scope="session")
def oracle(protocol):
    return protocol.oracle


@pytest.fixture
def advance(chain, protocol):
    """advance(seconds, observe=True): move time by `seconds` in one block; by default a
    keeper then writes a TWAP observation (as a keeper bot would every block)."""

    def _advance(seconds: int, observe: bool = True):
        chain.mine(deltatime=seconds)
        if observe:
            protocol.twap.update(sender=protocol.keeper)

    return _advance


@pytest.fixture
def build_history(chain, protocol):
    """build_history(seconds, step=60): observations every `step` seconds at the current price,
    enough for the protocol's TWAP window."""

    def _build(seconds: int, step: int = 60):
        for _ in range(seconds // step):
            chain.mine(deltatime=step)
            protocol.twap.update(sender=protocol.keeper)

    return _build
