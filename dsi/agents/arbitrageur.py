"""The arbitrageur: trades the constant-product pool onto an exogenous price.

`amount_to_price` is the closed form of a constant-product trade (fee on the input, as the
pool charges it); `trade_to_price` mints what it needs (the lab's arbitrageur is assumed to
have inventory elsewhere) and swaps. Works on any Ape network.
"""

from __future__ import annotations

import math

WAD = 10**18


def amount_to_price(reserve_weth: int, reserve_usd: int, target_price_wad: int, fee_bps: int,
                    weth_decimals: int = 18, usd_decimals: int = 6) -> tuple[str, int]:
    """(token to sell: "weth" | "usd", raw input amount) that moves spot to `target_price_wad`.

    With k = x*y and price P = y/x (decimal-adjusted), the post-trade reserves are
    x' = sqrt(k / P'), y' = sqrt(k * P'); the input is the reserve increase divided by
    (1 - fee). Returns ("none", 0) when the pool is already there.
    """
    scale = 10 ** (weth_decimals - usd_decimals)  # raw USD per raw WETH at price 1
    k = reserve_weth * reserve_usd
    # target raw ratio y/x = P * 10^usd / 10^weth
    ratio = target_price_wad / WAD / scale
    x_new = math.isqrt(int(k / ratio)) if ratio > 0 else 0
    y_new = math.isqrt(int(k * ratio))
    keep = 1 - fee_bps / 10_000
    # Below a millionth of a unit the pool would return nothing: already there.
    if x_new > reserve_weth + 10 ** (weth_decimals - 6):
        return "weth", int((x_new - reserve_weth) / keep) + 1
    if y_new > reserve_usd + 1:
        return "usd", int((y_new - reserve_usd) / keep) + 1
    return "none", 0


def trade_to_price(protocol, target_price_wad: int, trader=None) -> int:
    """Swap on the pool until its spot is ~`target_price_wad`; returns the raw amount sold."""
    trader = trader or protocol.arbitrageur
    pool = protocol.pool
    side, amount = amount_to_price(pool.reserve0(), pool.reserve1(), target_price_wad, pool.fee_bps())
    if side == "none" or amount == 0:
        return 0
    token = protocol.weth if side == "weth" else protocol.usd
    token.mint(trader, amount, sender=protocol.deployer)
    token.approve(pool.address, amount, sender=trader)
    pool.swap_exact_in(token.address, amount, 0, trader, sender=trader)
    return amount
