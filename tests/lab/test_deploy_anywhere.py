"""`ape run deploy`'s logic against a second anvil started with Sepolia's chain id (11155111),
a stand-in for a public testnet: the first run deploys and writes deployments/<chain-id>.json,
the second finds it and sends nothing, a mismatch is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nodes import anvil_node

from dsi.chain import ApeChain
from dsi.deployment import CONTRACTS, deploy_or_load
from dsi.protocol import Params

ROOT = Path(__file__).resolve().parents[2]
SEPOLIA = 11_155_111


@pytest.fixture
def testnet_stand_in(networks, monkeypatch):
    # Ape waits for 2 confirmations on Sepolia; the stand-in mines only on transactions
    # (automine), so the test network asks for none (a real testnet keeps the default).
    monkeypatch.setattr(networks.ethereum.sepolia.config, "required_confirmations", 0)
    with anvil_node(SEPOLIA) as uri:
        yield uri


def test_deploy_is_idempotent_on_a_testnet_stand_in(node_project, accounts, networks, testnet_stand_in, tmp_path):
    project = node_project
    from ape import chain

    deployer = accounts[0]  # ape test account 0: anvil funds the same mnemonic
    with networks.ethereum.sepolia.use_provider(testnet_stand_in):
        facade = ApeChain(chain, block_interval=None)
        assert facade.chain_id == SEPOLIA
        first = deploy_or_load(project, facade, deployer, Params(), folder=tmp_path, log=lambda *_: None)
        path = tmp_path / f"{SEPOLIA}.json"
        assert json.loads(path.read_text()) == first
        assert first["chain_id"] == SEPOLIA and first["params"] == Params().to_dict()
        assert set(first["contracts"]) == set(CONTRACTS)
        assert all(facade.code_size(e["address"]) > 0 for e in first["contracts"].values())
        engine = project.MarginEngine.at(first["contracts"]["engine"]["address"])
        assert engine.collateral_adequacy() >= 0  # a live, wired engine answers
        # The governor owns every protocol contract; the deployer owns none (issue 15 §1).
        governor = first["contracts"]["governor"]["address"]
        from dsi.governance import OWNED
        for name in OWNED:
            c = getattr(project, first["contracts"][name]["type"]).at(first["contracts"][name]["address"])
            assert c.owner() == governor, name
        timelock = project.Timelock.at(first["contracts"]["timelock"]["address"])
        assert timelock.get_minimum_delay() == 2 * 86_400
        assert project.RiskGovernor.at(governor).bootstrapper() == "0x" + "00" * 20
        block = facade.block_number

        again = deploy_or_load(project, facade, deployer, Params(), folder=tmp_path, log=lambda *_: None)
        assert again == first
        assert facade.block_number == block  # nothing sent

        with pytest.raises(RuntimeError, match="deployed with different parameters"):
            deploy_or_load(project, facade, deployer, Params(spot=2_000.0), folder=tmp_path, log=lambda *_: None)


def test_a_manifest_pointing_at_no_code_is_refused(node_project, accounts, networks, testnet_stand_in, tmp_path):
    project = node_project
    from ape import chain

    fake = {"version": 1, "chain_id": SEPOLIA, "block": 1, "params": Params().to_dict(),
            "contracts": {name: {"type": "X", "address": "0x" + "12" * 20} for name in CONTRACTS}}
    (tmp_path / f"{SEPOLIA}.json").write_text(json.dumps(fake))
    with networks.ethereum.sepolia.use_provider(testnet_stand_in):
        facade = ApeChain(chain, block_interval=None)
        with pytest.raises(RuntimeError, match="no code at usd 0x1212"):
            deploy_or_load(project, facade, accounts[0], Params(), folder=tmp_path, log=lambda *_: None)


def test_deployment_manifests_of_test_chains_stay_out_of_git():
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "deployments/31337.json" in ignored and f"deployments/{SEPOLIA}.json" in ignored
