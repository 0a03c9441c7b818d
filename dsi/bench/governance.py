"""Governance gas on anvil: what the timelock and the risk governor cost per operation.

The whole protocol (margin, Dutch liquidation, a fund) handed to the governor
(`dsi.governance.govern`), then: a timelock `schedule`, the `execute` of a risk update through `set_risk` (a 2-word setter and the
14-word Dutch auction setter; each includes the timelock's bookkeeping and the target's own
setter), a wiring `execute`, the guardian's `tighten` and an anyone's `lapse`.
"""

from __future__ import annotations

from dsi.bench.report import exec_gas_tx, node_row
from dsi.governance import DELAY, Council, call_data, govern
from dsi.protocol import MECHANISM_PARAMS, deploy, deploy_liquidation, deploy_margin, liquidation_params

DAY = 86_400


def measure(project, accounts, chain) -> list[dict]:
    p = deploy_liquidation(project, deploy_margin(project, deploy(project, accounts)), "dutch", fund_capital=1_000)
    govern(project, p)
    council = Council(p, chain)
    rows = []

    def through(target, data, risk, label):
        payload, salt = council.schedule(target, data, risk)
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
    through(p.liquidator, call_data(p.liquidator, "set_parameters", words), True,
            "governance set_risk 14 words (DutchAuction.set_parameters)")
    im, mm = p.model.im_params(), p.model.mm_params()
    receipt = p.governor.tighten(p.model.address, call_data(p.model, "set_standard_params",
                                                            [im[0] + 10**16, im[1], mm[0], mm[1]]), sender=p.guardian)
    rows.append(node_row("governance guardian tighten (model.set_standard_params)", exec_gas_tx(receipt)))
    chain.mine(deltatime=8 * DAY)
    receipt = p.governor.lapse(p.model.address, call_data(p.model, "set_standard_params", [0, 0, 0, 0])[:4],
                               sender=p.keeper)
    rows.append(node_row("governance lapse (model.set_standard_params)", exec_gas_tx(receipt)))
    return rows
