"""Writers and buyers: a realistic book on the margin engine.

`STANDARD_BOOK` mixes the three margin modes and the usual strategies, strikes as multiples of
spot on one 30-day expiry: naked puts (isolated, cross, portfolio), covered calls (WETH
collateral), a put spread and a call spread (portfolio, the long leg deposited in the account).
Each account is funded at `leverage` x its initial margin (USD accounts) or with the WETH it
covers (covered calls). The writer's leftover longs go to the buyer.
"""

from __future__ import annotations

from dataclasses import dataclass

WAD = 10**18
ISOLATED, CROSS, PORTFOLIO = 0, 1, 2
MODE_NAMES = {ISOLATED: "isolated", CROSS: "cross", PORTFOLIO: "portfolio"}


@dataclass(frozen=True)
class AccountSpec:
    sub: int
    mode: int
    strategy: str
    legs: tuple  # ((strike ratio, is_call, signed lots), ...): negative = short
    weth_collateral: float = 0.0  # WETH deposited (covered calls); 0 = USD-funded


STANDARD_BOOK = (
    AccountSpec(1, ISOLATED, "naked put", ((0.9, False, -10),)),
    AccountSpec(2, CROSS, "naked puts", ((0.9, False, -10), (0.8, False, -10))),
    AccountSpec(3, PORTFOLIO, "naked puts", ((0.9, False, -10), (0.8, False, -10))),
    AccountSpec(4, CROSS, "covered call", ((1.1, True, -10),), weth_collateral=10.0),
    AccountSpec(5, PORTFOLIO, "covered call", ((1.2, True, -10),), weth_collateral=10.0),
    AccountSpec(6, PORTFOLIO, "put spread", ((0.9, False, -10), (0.8, False, 10))),
    AccountSpec(7, PORTFOLIO, "call spread", ((1.1, True, -10), (1.2, True, 10))),
)

# Three accounts, one per mode, for the short scenarios on the real node (each transaction
# through Ape costs ~0.1 s): naked put (isolated), covered call (cross), naked puts (portfolio).
SMALL_BOOK = (STANDARD_BOOK[0], STANDARD_BOOK[3], STANDARD_BOOK[2])


def strike_of(spot: float, ratio: float) -> int:
    """A listable strike (WAD) at `ratio` x spot, rounded to 4 significant digits."""
    from decimal import Decimal

    return int(Decimal(f"{spot * ratio:.4g}") * WAD)


def post_reserve(p, owner, sub: int, positions: int) -> int:
    """With the liquidation reserve on, post what an account with `positions` positions must hold
    (WETH into the insurance fund, minted for the lab's writer) before it opens shorts; returns
    the wei posted (0 with the reserve off or no fund)."""
    if "insurance_fund" not in getattr(p, "extra", {}):
        return 0
    fund = p.insurance_fund
    need = fund.reserve_required(positions) - fund.reserves(owner, sub)
    if need <= 0:
        return 0
    p.weth.mint(owner, need, sender=p.deployer)
    p.weth.approve(fund.address, need, sender=owner)
    fund.post_reserve(sub, need, sender=owner)
    return need


def build(p, series_ids: dict, book=STANDARD_BOOK, leverage: float = 1.25) -> list[AccountSpec]:
    """Open every account of `book` for `p.writer`; `series_ids[(ratio, is_call)]` is the series
    id. Shorts first (they mint the longs), then the long legs, then the funding trim."""
    engine, writer, d = p.engine, p.writer, p.deployer
    p.usd.mint(writer, 10**16, sender=d)
    p.usd.approve(engine.address, 2**256 - 1, sender=writer)
    weth_needed = sum(a.weth_collateral for a in book)
    if weth_needed:
        p.weth.mint(writer, int(weth_needed * WAD), sender=d)
        p.weth.approve(engine.address, 2**256 - 1, sender=writer)
    p.option_token.setApprovalForAll(engine.address, True, sender=writer)
    for a in book:
        if a.weth_collateral:
            engine.deposit(a.sub, 0, int(a.weth_collateral * WAD), sender=writer)
        else:
            engine.deposit(a.sub, 10_000_000 * 10**6, 0, sender=writer)
        engine.set_mode(a.sub, CROSS if a.mode == ISOLATED else a.mode, sender=writer)
    # shorts in every account first: they mint the longs the spreads deposit
    for a in book:
        post_reserve(p, writer, a.sub, len(a.legs))
        for ratio, is_call, lots in a.legs:
            if lots < 0:
                engine.open_short(a.sub, series_ids[(ratio, is_call)], int(round(-lots * WAD)), sender=writer)
    for a in book:
        for ratio, is_call, lots in a.legs:
            if lots > 0:
                engine.deposit_long(a.sub, series_ids[(ratio, is_call)], int(round(lots * WAD)), sender=writer)
        if a.mode == ISOLATED:
            engine.set_mode(a.sub, ISOLATED, sender=writer)
    for a in book:
        if a.weth_collateral:
            continue
        m = engine.margin(writer, a.sub)
        excess = (m.equity - m.initial * leverage) / WAD  # USD of equity above the target
        free = int(excess / 0.99 * 10**6) - 10**6  # 1% USD haircut, 1 USD of rounding room
        if free > 0:
            engine.withdraw(a.sub, free, 0, sender=writer)
    # the buyer holds the longs the writer did not use
    for (ratio, is_call), sid in series_ids.items():
        left = p.option_token.balanceOf(writer, sid)
        if left:
            p.option_token.safeTransferFrom(writer, p.buyer, sid, left, b"", sender=writer)
    return list(book)
