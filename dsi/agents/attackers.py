"""Attackers: the same-block flash pump and the multi-block TWAP push.

Both keep score in USD at the honest market price: what they hold in their wallet (USD + WETH)
and in their margin account (collateral less the mark of their shorts), before and after; a
loan is repaid inside the attack, so PnL = value after - value before.
"""

from __future__ import annotations

from dsi.agents.arbitrageur import amount_to_price

WAD = 10**18


def wallet_value(p, who, price: float) -> float:
    return p.usd.balanceOf(who) / 1e6 + p.weth.balanceOf(who) / WAD * price


def account_value(p, who, sub, price: float, marks: dict) -> float:
    _, usd, weth, _ = p.engine.account(who, sub)
    value = usd / 1e6 + weth / WAD * price
    for pos in p.engine.positions(who, sub):
        value += pos.amount / WAD * marks[pos.id] / WAD
    return value


def fund_taker_account(p, who, sub: int, approve_fund: bool = True) -> None:
    """A cross-mode account of `who` holding 1M USD, from 2M USD minted to its wallet, to take
    liquidated books into; with `approve_fund`, the insurance fund may pull its fee share from
    the wallet."""
    p.usd.mint(who, 2_000_000 * 10**6, sender=p.deployer)
    p.usd.approve(p.engine.address, 2**256 - 1, sender=who)
    p.engine.deposit(sub, 1_000_000 * 10**6, 0, sender=who)
    p.engine.set_mode(sub, 1, sender=who)
    if approve_fund:
        p.usd.approve(p.insurance_fund.address, 2**256 - 1, sender=who)


def open_levered_short(p, who, sub: int, series_id: int, lots: int, leverage: float = 1.02) -> None:
    """A cross account short `lots` of `series_id`, funded at `leverage` x initial margin: the
    account an attacker would like to drain at a manipulated price."""
    p.usd.mint(who, 10**13, sender=p.deployer)
    p.usd.approve(p.engine.address, 2**256 - 1, sender=who)
    p.engine.deposit(sub, 10**12, 0, sender=who)
    p.engine.set_mode(sub, 1, sender=who)
    p.engine.open_short(sub, series_id, lots * WAD, sender=who)
    m = p.engine.margin(who, sub)
    free = int((m.equity - m.initial * leverage) / WAD / 0.99 * 10**6) - 10**6
    p.engine.withdraw(sub, free, 0, sender=who)
    # what is left in the wallet is not part of the game
    p.usd.transfer(p.deployer, p.usd.balanceOf(who), sender=who)


class FlashPumpAttacker:
    """bZx 2020 in one transaction through the real FlashLender (contracts/test/OraclePumpAttacker):
    borrow USD, buy WETH (pumping spot `factor`x), read the oracle, sell back, repay."""

    def __init__(self, backend, p):
        self.p = p
        self.contract = backend.project.OraclePumpAttacker.deploy(
            p.lender.address, p.pool.address, p.oracle.address, p.twap.address, sender=p.attacker)

    def attack(self, factor: float) -> dict:
        p = self.p
        spot = p.pool.spot_price()
        side, amount = amount_to_price(p.pool.reserve0(), p.pool.reserve1(), int(spot * factor), p.pool.fee_bps())
        assert side == "usd"
        fees = amount // 20  # covers 2 x 30 bps swap fees and the 5 bps flash fee
        p.usd.mint(self.contract.address, fees, sender=p.deployer)
        before = p.usd.balanceOf(self.contract.address)
        p.usd.approve(p.lender.address, 0, sender=p.attacker)  # (the contract approves itself)
        self.contract.attack(p.usd.address, amount, sender=p.attacker)
        c = self.contract
        return {
            "factor": factor, "borrowed_usd": amount / 1e6,
            "spot_before": c.spot_before() / WAD, "spot_pumped": c.spot_pumped() / WAD,
            "oracle_pumped": c.oracle_price_pumped() / WAD, "status_pumped": c.oracle_status_pumped(),
            "twap_pumped": c.twap_pumped() / WAD, "spot_after": c.spot_after() / WAD,
            "pnl_usd": (p.usd.balanceOf(c.address) - before) / 1e6,
        }


def pump_from_wallet(p, who, target_price_wad: int) -> int:
    """Buy WETH with (borrowed) USD until spot is `target_price_wad`; returns the WETH bought."""
    side, amount = amount_to_price(p.pool.reserve0(), p.pool.reserve1(), target_price_wad, p.pool.fee_bps())
    if side != "usd" or amount == 0:
        return 0
    p.usd.approve(p.pool.address, amount, sender=who)
    before = p.weth.balanceOf(who)
    p.pool.swap_exact_in(p.usd.address, amount, 0, who, sender=who)
    return p.weth.balanceOf(who) - before


def dump_to_wallet(p, who, weth_amount: int) -> None:
    if weth_amount:
        p.weth.approve(p.pool.address, weth_amount, sender=who)
        p.pool.swap_exact_in(p.weth.address, weth_amount, 0, who, sender=who)
