"""Integration fixtures: the whole protocol, deployed once per session (`build.protocol()`:
`dsi.protocol.deploy`).

Every test starts from the session's state and leaves nothing behind (the in-process chain's
snapshot is restored, tests/conftest.py), so tests may move prices and time freely.
"""

from __future__ import annotations

import pytest

WAD = 10**18


@pytest.fixture(scope="session")
def protocol(build):
    return build.protocol()


@pytest.fixture(scope="session")
def node_protocol(node_build):
    """The same deployment on anvil (for what is measured on the node: gas)."""
    return node_build.protocol()


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
def build_history(build, protocol):
    """build_history(seconds, step=60): observations every `step` seconds at the current price,
    enough for the protocol's TWAP window."""

    def _build(seconds: int, step: int = 60):
        build.twap_history(protocol, seconds // step, step)

    return _build
