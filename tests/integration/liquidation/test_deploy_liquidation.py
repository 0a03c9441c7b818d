"""`deploy_liquidation`: one mechanism and the fund, wired both ways, parameters overridden by name."""

from __future__ import annotations

import dataclasses

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


def test_margin_engine_fits_eip170(world, chain):
    """The engine's deployed code (runtime + 32 bytes per immutable, appended by Vyper) stays within
    the EIP-170 limit of 24,576 bytes (the node would refuse the deployment otherwise)."""
    size = len(chain.provider.get_code(world.engine.address))
    print(f"MarginEngine deployed code: {size:,} bytes")
    assert size <= 24_576


def test_deploy_liquidation_rejects_unknown_names(project, world):
    with pytest.raises(ValueError, match="unknown liquidation mechanism"):
        deploy_liquidation(project, world.p, "english")
    with pytest.raises(ValueError, match="unknown dutch parameters"):
        deploy_liquidation(project, world.p, "dutch", penalty=1)  # raises before deploying anything
