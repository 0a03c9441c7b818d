"""Margin-check gas on anvil: `margin(owner, sub)` for 1, 4, 16 and 32 positions per mode.

Each account writes N different series (calls and puts across strikes 0.5x..2x spot on a
30-day expiry with a skewed SVI slice), then the view's execution gas is measured with
eth_estimateGas minus the 21,000 base and calldata. Positions are opened in cross mode (cheap
checks) and the account switched to its mode at the end.

Portfolio margin is measured twice: with every series' risk array refreshed and valid (the
headline `margin portfolio N positions` rows: scenario deltas read from the arrays) and after
a vol push has invalidated them all (`margin portfolio N positions live`: every position
revalued on the 33 scenarios, the fallback). `risk array refresh` is one `RiskArrays.refresh`
transaction.
"""

from __future__ import annotations

from dsi.bench.report import exec_gas_tx, exec_gas_view, node_row
from dsi.protocol import deploy, deploy_margin

WAD = 10**18
DAY = 86_400
SLICE = (10**16, 8 * 10**16, -3 * 10**17, 0, 2 * 10**17)  # a, b, rho, m, sigma
MODES = {"isolated": 0, "cross": 1, "portfolio": 2}


def _name(mode: str, n: int, suffix: str = "") -> str:
    return f"margin {mode} {n} position{'s' if n > 1 else ''}{suffix}"


def measure(project, accounts, chain, counts=(1, 4, 16, 32)) -> list[dict]:
    p = deploy_margin(project, deploy(project, accounts))
    d, writer, keeper = p.deployer, p.writer, p.keeper
    expiry = chain.blocks.head.timestamp + 30 * DAY
    p.vol_feed.push(expiry, *SLICE, sender=p.reporter)
    ids = []
    for i in range(max(counts)):
        strike = (1500 + 150 * (i // 2) + 75 * (i % 2)) * WAD
        is_call = strike >= 3000 * WAD
        p.series.list_series(strike, expiry, is_call, False, sender=d)
        ids.append(p.series.find_series(strike, expiry, is_call, False))
    refresh_gas = [exec_gas_tx(p.risk_arrays.refresh(i, sender=keeper)) for i in ids]
    p.usd.mint(writer, 10**15, sender=d)
    p.usd.approve(p.engine.address, 10**15, sender=writer)
    rows = [node_row("risk array refresh", max(refresh_gas))]
    portfolio_subs = {}
    sub = 0
    for mode, code in MODES.items():
        for n in counts:
            if mode == "isolated" and n > 1:
                continue
            sub += 1
            p.engine.deposit(sub, 10**12, 0, sender=writer)  # 1M USD
            p.engine.set_mode(sub, 1, sender=writer)
            for i in range(n):
                p.engine.open_short(sub, ids[i], WAD // 10, sender=writer)
            if code != 1:
                p.engine.set_mode(sub, code, sender=writer)
            if mode == "portfolio":
                portfolio_subs[n] = sub
                continue
            gas = exec_gas_view(p.engine, "margin", writer, sub, sender=writer)
            rows.append(node_row(_name(mode, n), gas))
    assert all(p.risk_arrays.is_valid(i) for i in ids)
    for n, sub in portfolio_subs.items():
        rows.append(node_row(_name("portfolio", n), exec_gas_view(p.engine, "margin", writer, sub, sender=writer)))
    # A new vol slice invalidates every array: the check falls back to the live revaluation.
    chain.mine(1, deltatime=12)
    p.vol_feed.push(expiry, *SLICE, sender=p.reporter)
    assert not any(p.risk_arrays.is_valid(i) for i in ids)
    for n, sub in portfolio_subs.items():
        gas = exec_gas_view(p.engine, "margin", writer, sub, sender=writer)
        rows.append(node_row(_name("portfolio", n, " live"), gas))
    return rows
