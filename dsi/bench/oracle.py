"""Gas of the market and oracle on a real node (anvil through Ape): rows for reports/gas.json.

Gas here is a transaction's execution gas: `gas_used` (or `eth_estimateGas` for views) minus
the 21,000 intrinsic base and the calldata cost, so it is comparable with the pricing rows.
Errors are not applicable to these rows (None).
"""

from __future__ import annotations

from dsi.agents.arbitrageur import trade_to_price
from dsi.anvil import bulk_call
from dsi.bench.report import exec_gas_tx, exec_gas_view, node_row
from dsi.protocol import deploy

WAD = 10**18


def measure(project, accounts, chain) -> list[dict]:
    p = deploy(project, accounts)
    rows = []
    arb = p.arbitrageur
    p.usd.mint(arb, 10**14, sender=p.deployer)
    p.usd.approve(p.pool.address, 10**14, sender=arb)
    chain.mine(deltatime=12)
    r = p.pool.swap_exact_in(p.usd.address, 3_000 * 10**6, 0, arb, sender=arb)
    rows.append(node_row("pool swap (first touch of block, accumulator update)", exec_gas_tx(r)))
    chain.mine(deltatime=12)
    r = p.twap.update(sender=p.keeper)
    rows.append(node_row("twap observation write", exec_gas_tx(r)))
    # Fill the ring to its 1,024 cardinality, then read windows through the binary search.
    bulk_call(chain, p.keeper, p.twap, "update", 1_030, 12)
    rows.append(node_row("twap read 1024 observations (30 min)", exec_gas_view(p.twap, "twap", 1_800, sender=p.keeper)))
    rows.append(node_row("twap read 1024 observations (12,000 s, near oldest)", exec_gas_view(p.twap, "twap", 12_000, sender=p.keeper)))
    p.feed.submit(3_000 * WAD, sender=p.reporter)
    rows.append(node_row("oracle price read fresh, live TWAP", exec_gas_view(p.oracle, "price", sender=p.keeper)))
    chain.mine(deltatime=12)
    r = p.oracle.poke(sender=p.keeper)
    rows.append(node_row("oracle poke (observation + evaluation + TWAP cache)", exec_gas_tx(r)))
    rows.append(node_row("oracle price read fresh", exec_gas_view(p.oracle, "price", sender=p.keeper)))
    # An expiry 10 minutes out, observed every block through it: the first poke after expiry
    # records the pool reference (30 sub-window TWAPs over the 1,024-observation ring).
    expiry = chain.blocks.head.timestamp + 600
    r = p.series.list_series(3_000 * WAD, expiry, True, False, sender=p.deployer)
    rows.append(node_row("series listing (registers the expiry with the oracle)", exec_gas_tx(r)))
    bulk_call(chain, p.keeper, p.twap, "update", 51, 12)
    p.feed.submit(3_000 * WAD, sender=p.reporter)
    chain.mine(deltatime=12)
    r = p.oracle.poke(sender=p.keeper)
    rows.append(node_row("oracle poke recording a settlement checkpoint (median of 30 sub-window TWAPs)",
                         exec_gas_tx(r)))
    r = p.oracle.settle(expiry, sender=p.keeper)
    rows.append(node_row("oracle settle (feed at expiry, binary search over rounds, agreeing)", exec_gas_tx(r)))
    chain.mine(deltatime=3_700)
    p.twap.update(sender=p.keeper)
    rows.append(node_row("oracle price read fallback (stale feed)", exec_gas_view(p.oracle, "price", sender=p.keeper)))
    return rows
