"""Governance gas on anvil: what the timelock and the risk governor cost per operation.

The whole protocol (margin, Dutch liquidation, a fund) handed to the governor
(`dsi.governance.govern`), then: a timelock `schedule`, the `execute` of a risk update through `set_risk` (a 2-word setter and the
14-word Dutch auction setter, a loosening checked against its stress attestation and one
verification by the `StressGate`; each includes the timelock's bookkeeping and the target's own
setter), posting a stress attestation to the registry, a wiring `execute`, the guardian's `tighten` and an anyone's `lapse`; the stress
monitor's `poke` calm and with level changes.
"""

from __future__ import annotations

from dsi.attest import STRESS_SCHEMA, StressClaim, post_verification
from dsi.bench.report import exec_gas_tx, node_row
from dsi.governance import DELAY, Council, call_data, govern
from dsi.protocol import MECHANISM_PARAMS, deploy, deploy_liquidation, deploy_margin, liquidation_params

DAY = 86_400


def measure(project, accounts, chain) -> list[dict]:
    p = deploy_liquidation(project, deploy_margin(project, deploy(project, accounts)), "dutch", fund_capital=1_000)
    test_accounts = getattr(accounts, "test_accounts", accounts)
    risk_team, verifier = test_accounts[8], test_accounts[9]
    govern(project, p, attesters=(risk_team, verifier))
    council = Council(p, chain)
    rows = []

    def through(target, data, risk, label, proof=()):
        payload, salt = council.schedule(target, data, risk, proof)
        chain.mine(deltatime=DELAY + 1)
        receipt = council.execute(payload, salt)
        rows.append(node_row(label, exec_gas_tx(receipt)))

    t = p.timelock
    payload = p.governor.execute.encode_input(p.series.address, p.series.set_payer.encode_input(p.keeper, True))
    receipt = t.schedule(p.governor.address, 0, payload, b"\x00" * 32, b"\x07" * 32, DELAY, sender=p.deployer)
    rows.append(node_row("governance timelock schedule", exec_gas_tx(receipt)))
    chain.mine(deltatime=DELAY + 1)
    receipt = t.execute(p.governor.address, 0, payload, b"\x00" * 32, b"\x07" * 32, sender=p.deployer)
    rows.append(node_row("governance execute wiring (series.set_payer)", exec_gas_tx(receipt)))
    through(p.model, call_data(p.model, "set_haircuts", [2 * 10**16, 15 * 10**16]), True,
            "governance set_risk 2 words (model.set_haircuts)")
    words = [liquidation_params(p.liquidator, "dutch")[n] for n in MECHANISM_PARAMS["dutch"]]
    words[-1] = words[-1] + words[-1] // 8  # fund_share +12.5%
    data = call_data(p.liquidator, "set_parameters", words)
    after = bytes(p.governor.params_digest_after(p.liquidator.address, data))
    claim = StressClaim(b"\x01" * 32, b"\x00" * 20, after, b"\x00" * 32, 16, 1, True, 0, 0, 0)
    receipt = p.registry.attest(p.registry.schema_uid(STRESS_SCHEMA, True), "0x" + "00" * 20, 0, True, b"\x00" * 32,
                                claim.encode(), sender=risk_team)  # the gate registered the schema
    uid = bytes(p.registry.last_uid(risk_team.address))
    rows.append(node_row("attestation registry attest (a stress claim, 320 bytes)", exec_gas_tx(receipt)))
    proof = [uid, post_verification(p.registry, verifier, uid, claim.report_digest, after, True)]
    through(p.liquidator, data, True,
            "governance set_risk 14 words, a loosening: attestation + 1 verification (DutchAuction.set_parameters)",
            proof)
    im, mm = p.model.im_params(), p.model.mm_params()
    receipt = p.governor.tighten(p.model.address, call_data(p.model, "set_standard_params",
                                                            [im[0] + 10**16, im[1], mm[0], mm[1]]), sender=p.guardian)
    rows.append(node_row("governance guardian tighten (model.set_standard_params)", exec_gas_tx(receipt)))
    chain.mine(deltatime=8 * DAY)
    receipt = p.governor.lapse(p.model.address, call_data(p.model, "set_standard_params", [0, 0, 0, 0])[:4],
                               sender=p.keeper)
    rows.append(node_row("governance lapse (model.set_standard_params)", exec_gas_tx(receipt)))
    rows += monitor_rows(p, chain)
    return rows


def monitor_rows(p, chain) -> list[dict]:
    """The stress monitor's `poke`: calm (no level change), and a level change that re-applies the
    four stressed setters through the governor (and, at the top level, the two switches)."""
    wad = 10**18
    for _ in range(31):  # half an hour of TWAP at 3,000, then a fresh print
        chain.mine(deltatime=60)
        p.twap.update(sender=p.keeper)
    p.feed.submit(3_000 * wad, sender=p.reporter)
    p.oracle.poke(sender=p.keeper)
    expiry = chain.blocks.head.timestamp + 30 * DAY
    p.series.list_series(2_700 * wad, expiry, False, False, sender=p.deployer)
    p.vol_feed.push(expiry, 10**16, 8 * 10**16, -3 * 10**17, 0, 2 * 10**17, sender=p.reporter)

    def poke(price):
        chain.mine(deltatime=60)
        p.twap.update(sender=p.keeper)
        p.feed.submit(int(price * wad), sender=p.reporter)
        p.oracle.poke(sender=p.keeper)
        return p.monitor.poke(sender=p.keeper)

    rows = []
    poke(3_000)  # seeds the trailing levels
    rows.append(node_row("monitor poke, calm (5 indicators, no level change)", exec_gas_tx(poke(3_000))))
    receipt = poke(3_270)
    assert p.monitor.level() == 2, p.monitor.level()
    rows.append(node_row("monitor poke, level 0 -> 2 (4 stressed setters re-applied)", exec_gas_tx(receipt)))
    p.vol_feed.push(expiry, 4 * 10**16, 32 * 10**16, -3 * 10**17, 0, 2 * 10**17, sender=p.reporter)  # ATM vol x2
    receipt = poke(3_270)
    assert p.monitor.level() == 3 and p.engine.safe_mode()
    rows.append(node_row("monitor poke, level 2 -> 3 (+ safe mode, frozen listing)", exec_gas_tx(receipt)))
    return rows
