"""`deploy_liquidation`: one mechanism and the fund, wired both ways, parameters overridden by name."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from dsi.protocol import deploy_liquidation, liquidation_params

WAD = 10**18


def test_deploy_liquidation_wires_and_sets_parameters(project, world):
    p = dataclasses.replace(world.p, extra=dict(world.p.extra))  # the session's protocol object stays as is
    deploy_liquidation(project, p, "fixed", fund_capital=1_000, penalty=8 * 10**16, close_factor=WAD)
    liq, fund = p.liquidator, p.insurance_fund
    assert p.mechanism == "fixed"
    assert (p.engine.liquidator(), p.engine.insurance_fund()) == (liq.address, fund.address)
    assert fund.liquidator() == liq.address and p.series.is_payer(fund.address)
    assert fund.capital() == 1_000 * 10**6
    params = liquidation_params(liq, "fixed")
    assert params["penalty"] == 8 * 10**16 and params["close_factor"] == WAD
    assert params["whole_below"] == 2_000 * WAD  # untouched default


def test_deploy_liquidation_turns_the_reserve_on(project, world):
    p = dataclasses.replace(world.p, extra=dict(world.p.extra))
    deploy_liquidation(project, p, "dynamic", reserve=(800_000, 100_000, 10**12))
    fund = p.insurance_fund
    assert (fund.reserve_base_gas(), fund.reserve_position_gas(), fund.reserve_gas_price()) == (800_000, 100_000, 10**12)
    assert fund.reserve_required(2) == 1_000_000 * 10**12


SIZE_BOUND = 20_000  # bytes: EIP-170's 24,576 less >= 18% headroom for what comes next (issue 14)


def _deployed(world) -> dict:
    """Every contract the protocol deploys (core, margin, fund, all three mechanisms) by name."""
    p = world.p
    out = {name: getattr(p, name) for name in ("usd", "weth", "pool", "lender", "twap", "feed", "oracle", "pricer",
                                               "option_token", "series", "vault")}
    out.update({k: v for k, v in p.extra.items() if hasattr(v, "address")})
    out.update({f"liquidator:{name}": c for name, c in world.mechanisms.items()})
    return out


def test_every_deployed_contract_leaves_headroom_under_eip170(world, chain):
    """Each deployed contract's code (runtime plus the 32 bytes per immutable Vyper appends) is at
    most 20,000 bytes: the EIP-170 limit of 24,576 with >= 18% room for the next feature."""
    contracts = _deployed(world)
    assert {"engine", "model", "calculator", "risk_arrays", "vol_feed", "insurance_fund",
            "liquidator:dutch", "liquidator:fixed", "liquidator:dynamic"} <= set(contracts)
    sizes = {name: len(chain.provider.get_code(c.address)) for name, c in contracts.items()}
    for name, size in sorted(sizes.items(), key=lambda kv: -kv[1]):
        print(f"{name:22s} {size:7,d} bytes")
    assert all(size > 1_000 for size in sizes.values()), sizes  # real code at every address
    over = {name: size for name, size in sizes.items() if size > SIZE_BOUND}
    assert not over, f"over {SIZE_BOUND:,} bytes: {over}"


def test_every_compiled_contract_fits_the_bound(node_project):
    """Every contract in contracts/ (attack fixtures and probes included), from its compiled
    runtime code: none needs more than the bound before its immutables."""
    root = Path(__file__).resolve().parents[3] / "contracts"
    # Deployable contracts are CapitalisedNames; lowercase files are modules (math, ledger, core).
    names = sorted(f.stem for f in root.rglob("*.vy") if f.stem[0].isupper())
    sizes = {name: (len(getattr(node_project, name).contract_type.runtime_bytecode.bytecode) - 2) // 2 for name in names}
    print("\n".join(f"{name:24s} {size:7,d} bytes" for name, size in sorted(sizes.items(), key=lambda kv: -kv[1])))
    assert {"MarginEngine", "MarginModel", "RiskArrays", "OptionSeries", "DutchAuction"} <= set(sizes)
    over = {name: size for name, size in sizes.items() if size > SIZE_BOUND}
    assert not over, f"over {SIZE_BOUND:,} bytes: {over}"


def test_deploy_liquidation_rejects_unknown_names(project, world):
    with pytest.raises(ValueError, match="unknown liquidation mechanism"):
        deploy_liquidation(project, world.p, "english")
    with pytest.raises(ValueError, match="unknown dutch parameters"):
        deploy_liquidation(project, world.p, "dutch", penalty=1)  # raises before deploying anything
