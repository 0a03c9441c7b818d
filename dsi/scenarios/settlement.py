"""Settlement flows shared by the settlement scenarios (`settlement_push`, `settle_order_grief`)
and the settlement bench: settle an expiry whatever rule the oracle applies, pay every short in,
value what a holder received, at a given price.

`settle_expiry(world, sid)` settles series `sid` (and so its whole expiry). A settlement the
oracle defers (the series reverts "series: settlement deferred", or the oracle's price stays 0)
is reported as deferred; when the oracle has a `settlement_delay()` getter the market then runs
on (the world's arbitrageur, reporter and keeper, one block an hour) until the delay has passed
after expiry and the series is settled again: the way-out price. Today's oracle (the arithmetic
TWAP of the window ending at expiry) never defers.
"""

from __future__ import annotations

from dataclasses import dataclass

WAD = 10**18
DEFERRED = "series: settlement deferred"


@dataclass
class Settled:
    price: float  # the settlement price fixed (USD per WETH)
    deferred: bool  # the first attempt was deferred
    waited_s: int  # seconds after expiry the price was fixed at
    first_attempt: str  # "settled" or the revert reason of the first attempt

    @property
    def rule(self) -> str:
        return "deferred -> way out" if self.deferred else "settled"


def settle_expiry(world, sid: int, step_s: int = 3_600) -> Settled:
    """Settle series `sid` (the keeper sends it); when deferred, run the world past the oracle's
    `settlement_delay()` after expiry and settle again. Raises if it cannot be settled."""
    p, chain = world.p, world.chain
    expiry = world.expiry
    ok, why = chain.attempt(p.series.settle, sid, sender=p.keeper)
    deferred = (not ok and "deferred" in str(why)) or (ok and not p.series.is_settled(sid))
    if not ok and not deferred:
        raise RuntimeError(f"settlement: series {sid} refused to settle: {why}")
    first = "settled" if ok and not deferred else (why if not ok else "oracle returned 0")
    if deferred:
        delay = getattr(p.oracle, "settlement_delay", None)
        if delay is None:
            raise RuntimeError(f"settlement: deferred ({first}) and the oracle has no settlement_delay()")
        end = expiry + int(delay()) + 1
        while chain.timestamp < end:
            world.step(world.market, min(step_s, end - chain.timestamp))
        ok, why = chain.attempt(p.series.settle, sid, sender=p.keeper)
        if not ok or not p.series.is_settled(sid):
            raise RuntimeError(f"settlement: series {sid} still not settled after the delay: {why}")
    return Settled(p.series.settlement_price(sid) / WAD, deferred, chain.timestamp - expiry, first)


def payoff(world, sid: int, price: float) -> float:
    """Payoff per option of series `sid` at `price` (USD)."""
    strike, is_call = world.series_info[sid]
    k = strike / WAD
    return max(price - k, 0.0) if is_call else max(k - price, 0.0)


def wallet_usd(p, who, price: float) -> float:
    """USD + WETH (at `price`) in `who`'s wallet."""
    return p.usd.balanceOf(who) / 1e6 + p.weth.balanceOf(who) / WAD * price


def account_collateral(p, owner, sub: int, price: float) -> float:
    _, usd, weth, _ = p.engine.account(owner, sub)
    return usd / 1e6 + weth / WAD * price


def pending_claims(world, holder) -> float:
    """The unpaid part of `holder`'s redeemed claims over the world's series, USD."""
    p = world.p
    return sum(p.series.pending_claim(sid, holder) for sid in world.series_info) / WAD


def settle_shorts(world, accounts, vault_writers=()) -> int:
    """Every short pays in: `settle_position` on each account's positions in the world's series
    (longs in custody are redeemed too), `settle_writer` for each (series, writer) of the vault,
    then the insurance fund's `cover_settlement` on every series with settlement bad debt.
    Returns the USD units the fund paid into pools."""
    p = world.p
    for owner, sub in accounts:
        for pos in list(p.engine.positions(owner, sub)):
            if pos.id in world.series_info:
                p.engine.settle_position(owner, sub, pos.id, sender=p.keeper)
    for sid, writer in vault_writers:
        if p.vault.written(sid, writer):
            p.vault.settle_writer(sid, writer, sender=p.keeper)
    return cover_bad_debt(world)


def cover_bad_debt(world) -> int:
    p = world.p
    paid = 0
    if "insurance_fund" not in p.extra:
        return 0
    fund = p.insurance_fund
    for sid in world.series_info:
        if p.engine.series_bad_debt(sid):
            before = fund.capital()
            fund.cover_settlement(sid, sender=p.keeper)
            paid += before - fund.capital()
    return paid


def redeem_wallet(world, who) -> None:
    """`who` redeems every long of the world's series held in its wallet."""
    p = world.p
    for sid in world.series_info:
        bal = p.option_token.balanceOf(who, sid)
        if bal:
            p.series.redeem(sid, bal, sender=who)
