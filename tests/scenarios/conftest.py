"""Scenario fixtures: a lab context whose `ape` backend is this test session's anvil (each
test isolated by Ape) and whose `revm` backend is a fresh in-process EVM; shortened runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsi.protocol import Params
from dsi.scenarios import BackendMaker, Context

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def lab(node_project, accounts, node_chain):
    make_backend = BackendMaker(node_project, accounts, node_chain)

    def _ctx(**kwargs):
        kwargs.setdefault("quick", True)
        return Context(make_backend=make_backend, params=Params(), data=str(DATA), **kwargs)

    yield _ctx
    make_backend.close()


def checks(result) -> dict:
    return {c.name: c for c in result.checks}
