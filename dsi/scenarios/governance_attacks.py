"""Governance attacks (issue 15 §5): `governance_flash_loan` and `guardian_abuse`.

Both run on the standard world and book, governed as deployed (`build_world(governance=...)`:
the timelock and the risk governor own every contract; with a liquidation mechanism also the
stress monitor).

`governance_flash_loan` (Beanstalk, 17 April 2022: ~1B USD flash-borrowed into votes, a
proposal executed in the same transaction, 182M USD lost). The attacker's contract
(`GovernanceFlashAttacker`) borrows the flash lender's whole USD balance and, holding it, makes
every governance call that could buy power: queue a proposal in the timelock, execute it, grant
itself the proposer role, call the governor's timelock-only and monitor-only paths, set the
monitor's thresholds, withdraw from the fund. Then it makes the same calls again without the
loan, straight from its key. Pass criteria: every call reverts, with or without the loan, for the
same reason (the balance buys nothing: governance holds no votes); nothing is queued; the
governor's record is unchanged; the attacker is out the flash fee.

`guardian_abuse`: the attacker holds the guardian key. It tries to loosen (a FIXED word, a word
against its direction), to over-tighten (two steps, then a ratchet of one step on one step), to
move funds (the governor's `execute`, the fund, the timelock), to take the other roles
(guardian, monitor, stress level), and switches safe mode on. Pass criteria: no value reaches the
guardian and the protocol's holdings are unchanged; every loosening and fund movement is
refused with the governor's (or the target's) reason; one step of tightening is accepted and
lapses after 7 days, restoring the approved values, and safe mode lapses the same way, with
users able to deposit and buy back throughout.
"""

from __future__ import annotations

import eth_abi

from dsi.governance import call_data
from dsi.scenarios import Result
from dsi.scenarios.world import build_world

WAD = 10**18
RUG_SALT = b"\x42" * 32


def _reason(output: bytes) -> str:
    """A revert's reason from its raw data (Error(string)); the selector otherwise."""
    data = bytes(output)
    if data[:4] == bytes.fromhex("08c379a0"):
        try:
            return eth_abi.decode(["string"], data[4:])[0]
        except Exception:  # noqa: BLE001 - truncated data: report it raw
            return "0x" + data.hex()
    return "0x" + data.hex() if data else "(no reason)"


def _holdings(p) -> dict:
    out = {"engine_usd": p.usd.balanceOf(p.engine), "engine_weth": p.weth.balanceOf(p.engine),
           "series_usd": p.usd.balanceOf(p.series), "lender_usd": p.usd.balanceOf(p.lender),
           "pool_usd": p.usd.balanceOf(p.pool)}
    if "insurance_fund" in p.extra:
        out.update(fund_usd=p.usd.balanceOf(p.insurance_fund), fund_capital=p.insurance_fund.capital())
    return out


def _record(p) -> list:
    """Every registered setter's approved and applied words in the governor."""
    from dsi.governance import risk_setters

    g = p.governor
    rows = []
    for name, method, words, _ in risk_setters(p):
        contract = getattr(p, name)
        key = g.key(contract.address, call_data(contract, method, words)[:4])
        rows.append((name, method, [g.approved(key, i) for i in range(len(words))], list(words)))
    return rows


def _governance_calls(p, attacker: str) -> list[tuple[str, object, bytes]]:
    """(label, target, calldata) of every call that could buy governance power."""
    g, t = p.governor, p.timelock
    rug, salt = _rug(p), RUG_SALT
    calls = [
        ("timelock.schedule(governor.set_risk(haircuts 0))", t, t.schedule.encode_input(
            g.address, 0, rug, b"\x00" * 32, salt, t.get_minimum_delay())),
        ("timelock.execute(the same operation)", t, t.execute.encode_input(g.address, 0, rug, b"\x00" * 32, salt)),
        ("timelock.grantRole(PROPOSER, attacker)", t, t.grantRole.encode_input(t.PROPOSER_ROLE(), attacker)),
        ("governor.set_risk(haircuts 0)", g, rug),
        ("governor.set_guardian(attacker)", g, g.set_guardian.encode_input(attacker)),
        ("governor.set_monitor(attacker)", g, g.set_monitor.encode_input(attacker)),
        ("governor.stress(0)", g, g.stress.encode_input(0)),
        ("governor.register(model.set_haircuts)", g, g.register.encode_input(
            p.model.address, call_data(p.model, "set_haircuts", [0, 0]), [(0, 0, 0, 0, 1, 0, 0)] * 2)),
        ("model.set_haircuts(0, 0)", p.model, p.model.set_haircuts.encode_input(0, 0)),
    ]
    if "insurance_fund" in p.extra:
        fund = p.insurance_fund
        calls += [("governor.execute(fund.withdraw(attacker, capital))", g, g.execute.encode_input(
            fund.address, fund.withdraw.encode_input(attacker, fund.capital()))),
                  ("fund.set_liquidator(attacker)", fund, fund.set_liquidator.encode_input(attacker))]
    if "monitor" in p.extra:
        m = p.monitor
        calls.append(("monitor.set_thresholds(never)", m, m.set_thresholds.encode_input(
            [[2**256 - 1] * 3, [2**256 - 1] * 3, [0, 0, 0], [2**256 - 1] * 3, [2**256 - 1] * 3], 0)))
    return calls


def run(ctx, name: str, backend_kind: str = "revm", attack: str = "governance_flash_loan") -> Result:
    backend = ctx.make_backend(backend_kind)
    governance = "on" if ctx.mechanism != "none" else "off"
    world = build_world(backend, ctx.params, ctx.mechanism, governance=governance)
    if attack == "governance_flash_loan":
        return _flash_loan(ctx, name, backend, world)
    if attack == "guardian_abuse":
        return _guardian_abuse(ctx, name, backend, world)
    raise ValueError(f"governance_attacks: unknown attack {attack!r}")


def _flash_loan(ctx, name, backend, world) -> Result:
    p, chain = world.p, world.chain
    r = Result(name, ctx.mechanism, backend.name)
    a = p.attacker
    bot = backend.project.GovernanceFlashAttacker.deploy(p.lender.address, sender=a)
    amount = p.usd.balanceOf(p.lender)
    fee = p.lender.flashFee(p.usd.address, amount)
    p.usd.mint(bot.address, fee, sender=p.deployer)  # the attacker's own money pays the fee
    calls = _governance_calls(p, bot.address)
    record, held = _record(p), _holdings(p)
    before = p.usd.balanceOf(bot.address)
    bot.attack(p.usd.address, amount, [(target.address, data) for _, target, data in calls], sender=a)
    with_loan = _outcomes(bot, len(calls))
    spent = (before - p.usd.balanceOf(bot.address)) / 10**6
    bot.probe([(target.address, data) for _, target, data in calls], sender=a)  # the same calls, no loan
    without = _outcomes(bot, len(calls))
    succeeded = [label for (label, _, _), (ok, _) in zip(calls, with_loan) if ok]
    r.check("every governance call fails while holding the loan", not succeeded and bot.borrowed() == amount,
            len(succeeded), f"borrowed {amount / 10**6:,.0f} USD (held {bot.balance_during() / 10**6:,.0f} during the "
            f"calls); {len(calls)} calls, {len(succeeded)} succeeded{': ' + ', '.join(succeeded) if succeeded else ''}; "
            "reasons: " + "; ".join(sorted({why for _, why in with_loan})))
    same = [label for (label, _, _), x, y in zip(calls, with_loan, without) if x != y]
    r.check("the loan buys nothing: every outcome is the same without it", not same, len(same),
            f"{len(calls)} calls compared with and without {amount / 10**6:,.0f} USD borrowed; differing: "
            + (", ".join(same) if same else "none"))
    r.check("nothing queued, the governor's record and the protocol's holdings unchanged",
            _record(p) == record and {**_holdings(p), "lender_usd": p.usd.balanceOf(p.lender) - fee} == held and not p.timelock.is_operation(
                p.timelock.hash_operation(p.governor.address, 0, _rug(p), b"\x00" * 32, RUG_SALT)),
            None, f"{len(record)} registered setters compared word by word; holdings {sorted(held)} (the lender's "
            "plus the fee)")
    r.check("the attacker is out the flash fee", abs(spent - fee / 10**6) < 1e-9, round(spent, 6),
            f"paid {spent:,.2f} USD (fee {fee / 10**6:,.2f} USD on {amount / 10**6:,.0f} USD)")
    r.metrics = {"borrowed_usd": amount / 10**6, "calls": len(calls), "succeeded": len(succeeded),
                 "attacker_pnl_usd": -spent}
    return r


def _rug(p) -> bytes:
    """The proposal the attacker would queue: the governor's `set_risk` of haircuts at 0."""
    return p.governor.set_risk.encode_input(p.model.address, call_data(p.model, "set_haircuts", [0, 0]), [])


def _outcomes(bot, n: int) -> list[tuple[bool, str]]:
    return [(bot.succeeded(i), _reason(bot.outputs(i)) if not bot.succeeded(i) else "ok") for i in range(n)]


def _guardian_abuse(ctx, name, backend, world) -> Result:
    p, chain = world.p, world.chain
    g, gk = p.governor, p.guardian
    r = Result(name, ctx.mechanism, backend.name)
    held, wallet = _holdings(p), (p.usd.balanceOf(gk), p.weth.balanceOf(gk))
    im, mm = p.model.im_params(), p.model.mm_params()
    key = g.key(p.model.address, call_data(p.model, "set_standard_params", [0, 0, 0, 0])[:4])
    step = g.bounds(key, 0)[2]
    cap = p.engine.open_interest_cap()
    words = [im[0], im[1], mm[0], mm[1]]

    def std(*w):
        return call_data(p.model, "set_standard_params", list(w))

    loosen = [
        ("haircuts down (FIXED for the guardian)", g.tighten,
         (p.model.address, call_data(p.model, "set_haircuts", [0, 10**17]))),
        ("initial margin down", g.tighten, (p.model.address, std(im[0] - step, im[1], mm[0], mm[1]))),
        ("maintenance down (FIXED)", g.tighten, (p.model.address, std(im[0], im[1], mm[0] - 1, mm[1]))),
        ("open-interest cap up", g.tighten, (p.engine.address, call_data(p.engine, "set_open_interest_cap",
                                                                         [cap + cap // 8]))),
        ("initial margin two steps up", g.tighten, (p.model.address, std(im[0] + 2 * step, im[1], mm[0], mm[1]))),
    ]
    moves = [
        ("governor.execute(lender.withdraw(all))", g.execute, (p.lender.address, p.lender.withdraw.encode_input(
            p.usd.address, p.usd.balanceOf(p.lender), gk))),
        ("lender.withdraw(all)", p.lender.withdraw, (p.usd.address, p.usd.balanceOf(p.lender), gk)),
        ("governor.set_guardian(itself)", g.set_guardian, (gk,)),
        ("governor.set_monitor(itself)", g.set_monitor, (gk,)),
        ("governor.stress(3)", g.stress, (3,)),
        ("timelock.schedule(a fund move)", p.timelock.schedule, (
            g.address, 0, g.execute.encode_input(p.lender.address, p.lender.withdraw.encode_input(
                p.usd.address, 1, gk)), b"\x00" * 32, b"\x01" * 32, p.timelock.get_minimum_delay())),
        ("engine.set_liquidation(itself)", p.engine.set_liquidation, (gk, gk)),
    ]
    if "insurance_fund" in p.extra:
        fund = p.insurance_fund
        moves += [("governor.execute(fund.withdraw(capital))", g.execute, (fund.address, fund.withdraw.encode_input(
            gk, fund.capital()))), ("fund.withdraw(capital)", fund.withdraw, (gk, fund.capital()))]
    refused = {}
    for label, fn, args in loosen + moves:
        ok, why = chain.attempt(fn, *args, sender=gk)
        refused[label] = "ACCEPTED" if ok else why
    accepted = [label for label, why in refused.items() if why == "ACCEPTED"]
    r.check("the guardian never loosens and never moves funds", not accepted
            and _holdings(p) == held and (p.usd.balanceOf(gk), p.weth.balanceOf(gk)) == wallet, len(accepted),
            f"{len(refused)} attempts, accepted: {', '.join(accepted) or 'none'}; "
            + "; ".join(f"{k}: {v}" for k, v in refused.items()))

    # One step is allowed; a second step on top of it (a ratchet) is not; it lapses after 7 days.
    chain.attempt(g.tighten, p.model.address, std(im[0] + step, *words[1:]), sender=gk)
    one = p.model.im_params()[0]
    ok2, why2 = chain.attempt(g.tighten, p.model.address, std(im[0] + step + 1, *words[1:]), sender=gk)
    sid = p.switches["safe_mode"] if "safe_mode" in p.switches else None
    safe_on = sid is not None and chain.attempt(g.switch_on, sid, sender=gk)[0]
    users_ok, detail_users = True, ""
    if safe_on:
        sub = 98  # a fresh account of the writer: a deposit, then a new short
        p.usd.mint(p.writer, 10_000 * 10**6, sender=p.deployer)
        p.usd.approve(p.engine, 10_000 * 10**6, sender=p.writer)
        dep_ok, why_dep = chain.attempt(p.engine.deposit, sub, 10_000 * 10**6, 0, sender=p.writer)
        refused_new, why_new = chain.attempt(p.engine.open_short, sub, next(iter(world.series_info)),
                                             int(p.series.min_size()), sender=p.writer)
        users_ok = (not refused_new and why_new == "margin: safe mode: risk-reducing only") and dep_ok
        detail_users = f"new short: {why_new}; deposit: {'accepted' if dep_ok else why_dep}"
    early, why_early = chain.attempt(g.lapse, p.model.address, std(0, 0, 0, 0)[:4], sender=p.keeper)
    chain.mine(deltatime=g.GUARDIAN_TTL() + 1)
    p.feed.submit(int(world.market * WAD), sender=p.reporter)
    p.oracle.poke(sender=p.keeper)
    lapsed, _ = chain.attempt(g.lapse, p.model.address, std(0, 0, 0, 0)[:4], sender=p.keeper)
    off = (not safe_on) or chain.attempt(g.switch_off, sid, sender=p.keeper)[0]
    restored = p.model.im_params()[0] == g.approved(key, 0) == im[0] and not p.engine.safe_mode()
    r.check("one step of tightening, no ratchet, and it lapses by itself",
            one == im[0] + step and not ok2 and why2 == "governor: step too large" and not early
            and lapsed and off and restored, one / WAD,
            f"im.a {im[0] / WAD:.4f} -> {one / WAD:.4f} (one step), a second step refused: {why2}; "
            f"lapse before 7 days: {why_early}; after: restored to {p.model.im_params()[0] / WAD:.4f}; "
            f"safe mode on: {safe_on}, off after 7 days by anyone: {off}")
    r.check("safe mode from the guardian stops only risk-increasing actions", users_ok, users_ok,
            detail_users if safe_on else "no safe-mode switch")
    r.metrics = {"attempts": len(refused), "accepted": len(accepted), "attacker_pnl_usd": 0.0}
    return r
