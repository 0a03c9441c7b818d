"""Grading shared by the liquidation-aware scenarios: the checks every run under a mechanism
must pass (no sale at zero, resets re-anchor, the fund's books balance, what is still
insolvent is recorded), the headline metrics (deficit, bad debt, fund drawdown, socialised
loss, liquidations, keeper PnL) and the chart series."""

from __future__ import annotations

from dsi.metrics import warned_before_loss

WAD = 10**18
USD = 10**6


def fund_books_balance(p, settlement_paid: int = 0) -> tuple[bool, str]:
    """The insurance fund's identities: capital = deposits + income - subsidies - incentives -
    withdrawn - paid into settlement pools (`settlement_paid`, USD units, from
    `cover_settlement`) and bad_debt = covered + socialised (WAD)."""
    f = p.insurance_fund
    capital = f.capital()
    expected = (f.deposits() + f.income() - f.subsidies_paid() - f.incentives_paid() - f.withdrawn()
                - settlement_paid)
    ok = capital == expected and f.bad_debt() == f.covered() + f.socialised()
    return ok, (f"capital {capital / USD:,.2f} = deposits {f.deposits() / USD:,.2f} + income {f.income() / USD:,.2f} "
                f"- subsidies {f.subsidies_paid() / USD:,.2f} - incentives {f.incentives_paid() / USD:,.2f} - settlements "
                f"{settlement_paid / USD:,.2f}; "
                f"bad debt {f.bad_debt() / WAD:,.2f} = covered {f.covered() / WAD:,.2f} + socialised "
                f"{f.socialised() / WAD:,.2f}")


def liquidation_checks(result, world, settlement_paid: int = 0) -> None:
    """The checks every liquidation scenario shares, from the keeper's log: no sale at zero,
    resets re-anchor, the fund's books balance, what is still insolvent is recorded."""
    p, log = world.p, world.keeper.log
    takes = [a for a in log if a.kind == "take"]
    zero = [a for a in takes if a.detail.get("value_usd", 0) > 0 and a.detail.get("pay_usd", 0) <= 0]
    result.check("no sale at zero", not zero, len(zero),
                 f"{len(takes)} takes, {len(zero)} of a positive-value account for nothing; max discount "
                 f"{max((a.detail.get('discount', 0) for a in takes), default=0):.1%}")
    redos = [a for a in log if a.kind == "redo"]
    off = [a for a in redos if a.detail.get("anchor") != a.detail.get("oracle")]
    result.check("resets re-anchor to the oracle price", not off, len(off),
                 f"{len(redos)} resets, {len(off)} not anchored at the oracle price of their block")
    ok, detail = fund_books_balance(p, settlement_paid)
    result.check("the fund's books balance (capital, bad debt = covered + socialised)", ok, ok, detail)
    still = [a for a in world.book if _insolvent(world, a.sub)]
    unflagged = [a.sub for a in still if not p.liquidator.is_flagged(p.writer, a.sub)]
    result.check("every account still insolvent is recorded (flagged on chain)", not unflagged, len(unflagged),
                 f"{len(still)} insolvent at the end, unflagged subs: {unflagged or 'none'}")


def _insolvent(world, sub: int) -> bool:
    mtm, _ = world.p.liquidator.mtm(world.p.writer, sub)
    return mtm < 0



def fund_start(world) -> float | None:
    """The fund's starting capital (its deposits), USD; None without a fund."""
    p = world.p
    return p.insurance_fund.deposits() / 1e6 if "insurance_fund" in p.extra else None


def liquidation_metrics(world, steps: list) -> dict:
    """Fund balance and drawdown, socialised loss, takes and keeper PnL (None / 0 under none)."""
    funds = [s["fund_balance_usd"] for s in steps if s.get("fund_balance_usd") is not None]
    fund0 = fund_start(world)
    return {"fund_balance_usd": funds[-1] if funds else None,
            "fund_drawdown_usd": max(0.0, fund0 - min(funds)) if funds else None,
            "socialised_loss_usd": steps[-1].get("socialised_loss_usd"),
            "liquidations": world.keeper.liquidations, "keeper_pnl_usd": world.keeper.pnl}


def headline(world, steps: list, gas: int) -> dict:
    """The headline metrics every liquidation-aware scenario reports."""
    keeper = world.keeper
    fund = liquidation_metrics(world, steps)
    ok, misses = warned_before_loss(steps)
    takes = [a for a in keeper.log if a.kind == "take"]
    return {
        "drawdown": 1 - min(s["market"] for s in steps) / steps[0]["market"],
        "max_below_mm": max(s["below_mm"] for s in steps), "max_insolvent": max(s["insolvent"] for s in steps),
        "max_deficit_usd": max(s["deficit_usd"] for s in steps), "end_deficit_usd": steps[-1]["deficit_usd"],
        "bad_debt_usd": steps[-1]["bad_debt_usd"], "min_adequacy": min((s["adequacy"] for s in steps
                                                                        if s["adequacy"] is not None), default=None),
        "fund_balance_usd": fund["fund_balance_usd"], "fund_drawdown_usd": fund["fund_drawdown_usd"],
        "socialised_loss_usd": fund["socialised_loss_usd"],
        "liquidations": fund["liquidations"], "keeper_pnl_usd": fund["keeper_pnl_usd"],
        "liquidated_value_usd": sum(a.detail.get("value_usd", 0) for a in takes),
        "max_discount": max((a.detail.get("discount", 0) for a in takes), default=None),
        "attacker_pnl_usd": None, "gas_used": gas, "unwarned_insolvencies": misses,
    }


def series(steps: list) -> dict:
    return {"t": [s["t"] for s in steps], "market": [s["market"] for s in steps],
            "oracle": [s["oracle"] for s in steps], "deficit": [s["deficit_usd"] for s in steps],
            "bad_debt": [s["bad_debt_usd"] for s in steps],
            "fund_balance": [s["fund_balance_usd"] for s in steps] if steps[0]["fund_balance_usd"] is not None else [],
            "socialised": [s["socialised_loss_usd"] or 0.0 for s in steps],
            "healths_start": steps[0]["healths"], "healths_end": steps[-1]["healths"]}
