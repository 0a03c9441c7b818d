"""Gas of the market and oracle on a real node (anvil through Ape): rows for reports/gas.json.

Gas here is a transaction's execution gas: `gas_used` (or `eth_estimateGas` for views) minus
the 21,000 intrinsic base and the calldata cost, so it is comparable with the pricing rows.
Errors are not applicable to these rows (None).
"""

from __future__ import annotations

from dsi.agents.arbitrageur import trade_to_price
from dsi.anvil import bulk_call
from dsi.protocol import deploy

WAD = 10**18


def _calldata_gas(data: bytes) -> int:
    return sum(16 if b else 4 for b in data)


def _exec_gas_view(contract, method, *args, sender) -> int:
    data = getattr(contract, method).encode_input(*args)
    est = getattr(contract, method).estimate_gas_cost(*args, sender=sender)
    return est - 21_000 - _calldata_gas(bytes(data))


def _exec_gas_tx(receipt) -> int:
    return receipt.gas_used - 21_000 - _calldata_gas(bytes(receipt.transaction.data))


def _row(name, gas):
    return {"name": name, "gas_median": gas, "gas_max": gas, "max_abs_err": None, "max_rel_err": None, "points": 1}


def measure(project, accounts, chain) -> list[dict]:
    p = deploy(project, accounts)
    rows = []
    arb = p.arbitrageur
    p.usd.mint(arb, 10**14, sender=p.deployer)
    p.usd.approve(p.pool.address, 10**14, sender=arb)
    chain.mine(deltatime=12)
    r = p.pool.swap_exact_in(p.usd.address, 3_000 * 10**6, 0, arb, sender=arb)
    rows.append(_row("pool swap (first touch of block, accumulator update)", _exec_gas_tx(r)))
    chain.mine(deltatime=12)
    r = p.twap.update(sender=p.keeper)
    rows.append(_row("twap observation write", _exec_gas_tx(r)))
    # Fill the ring to its 1,024 cardinality, then read windows through the binary search.
    bulk_call(chain, p.keeper, p.twap, "update", 1_030, 12)
    rows.append(_row("twap read 1024 observations (30 min)", _exec_gas_view(p.twap, "twap", 1_800, sender=p.keeper)))
    rows.append(_row("twap read 1024 observations (12,000 s, near oldest)", _exec_gas_view(p.twap, "twap", 12_000, sender=p.keeper)))
    p.feed.submit(3_000 * WAD, sender=p.reporter)
    rows.append(_row("oracle price read fresh", _exec_gas_view(p.oracle, "price", sender=p.keeper)))
    r = p.oracle.poke(sender=p.keeper)
    rows.append(_row("oracle poke (observation + evaluation)", _exec_gas_tx(r)))
    chain.mine(deltatime=3_700)
    p.twap.update(sender=p.keeper)
    rows.append(_row("oracle price read fallback (stale feed)", _exec_gas_view(p.oracle, "price", sender=p.keeper)))
    trade_to_price(p, 2_500 * WAD)
    chain.mine(deltatime=3_600)
    r = p.oracle.settle(chain.blocks.head.timestamp - 60, sender=p.keeper)
    rows.append(_row("oracle settle (TWAP ending at expiry)", _exec_gas_tx(r)))
    return rows
