"""Owner key compromised (issue 15's outside review): the attacker holds the deployer key.

Before the risk governor that key took 118,571 USD in one block: it re-pointed the insurance
fund's liquidator at itself and paid the fund out through `pay_subsidy` (the 5,000-a-week
withdrawal limit bypassed), took the reserves, and re-pointed the engine's liquidator to
`transfer_share` every account to itself after loosening haircuts and margins to their bounds.

The standard world and book, then `dsi.governance.govern`: the timelock and the governor own
every contract, the deployer key is the timelock's proposer (the council's key: the attacker has
it), the guardian watches the timelock's queue.

1. The one-block rug: every call of the old rug, and every other owner function that can move
   funds or re-point wiring, straight from the key. Value taken: the key's wallet (USD + WETH at
   the market) after minus before, gas aside.
2. The rug through the timelock: the key queues the re-pointing of the fund and the engine and
   the lender's withdrawal (each announced by `CallScheduled`, pending for the delay), and asks
   the governor to loosen haircuts to 50% (`check_risk`: refused, step too large). The guardian
   cancels every queued operation it sees; after the delay the key tries to execute them.

Pass criteria: the one-block rug takes 0 USD and no call succeeds; everything queued was
pending for at least the delay and the guardian's cancellation left nothing executable; the
governor refuses the loosest haircuts.
"""

from __future__ import annotations

from dsi.agents.attackers import wallet_value
from dsi.governance import Council, call_data, govern
from dsi.scenarios import Result
from dsi.scenarios.world import build_world

WAD = 10**18


def _rug_calls(p, d) -> list[tuple[str, object, tuple]]:
    calls = []
    fund = getattr(p, "insurance_fund", None)
    if fund is not None:
        capital = fund.capital()
        calls += [("fund.set_liquidator(key)", fund.set_liquidator, (d,)),
                  ("fund.pay_subsidy(key, capital)", fund.pay_subsidy, (d, capital, 0)),
                  ("fund.withdraw(key, capital)", fund.withdraw, (d, capital)),
                  ("fund.set_limits(0, 50%)", fund.set_limits, (0, 5 * 10**17))]
    calls += [("engine.set_liquidation(key, key)", p.engine.set_liquidation, (d, d)),
              ("model.set_haircuts(50%, 50%)", p.model.set_haircuts, (5 * 10**17, 5 * 10**17)),
              ("lender.withdraw(USD, all, key)", p.lender.withdraw, (p.usd.address, p.usd.balanceOf(p.lender), d)),
              ("pool.skim(key)", p.pool.skim, (d,)),
              ("option_token.set_minter(key)", p.option_token.set_minter, (d, True)),
              ("series.set_payer(key)", p.series.set_payer, (d, True)),
              ("feed.set_reporter(key)", p.feed.set_reporter, (d, True)),
              ("engine.transfer_ownership(key)", p.engine.transfer_ownership, (d,))]
    return calls


def run(ctx, name: str = "owner_key_compromised", backend_kind: str = "revm") -> Result:
    backend = ctx.make_backend(backend_kind)
    world = build_world(backend, ctx.params, ctx.mechanism)
    p, chain = world.p, world.chain
    govern(backend.project, p)
    d = p.deployer
    r = Result(name, ctx.mechanism, backend.name)
    market = world.market

    # 1. the one-block rug, straight from the key
    before = wallet_value(p, d, market)
    block = chain.block_number
    outcomes = []
    for label, fn, args in _rug_calls(p, d):
        ok, why = chain.attempt(fn, *args, sender=d)
        outcomes.append((label, ok, why))
    for a in world.book:  # transfer_share of every account to the key (needs the liquidator role)
        ok, why = chain.attempt(p.engine.transfer_share, p.writer, a.sub, d, 0, WAD, 0, sender=d)
        outcomes.append((f"engine.transfer_share(writer {a.sub})", ok, why))
    taken = wallet_value(p, d, market) - before
    succeeded = [label for label, ok, _ in outcomes if ok]
    r.check("the one-block rug takes 0 USD", taken <= 0 and not succeeded, round(taken, 2),
            f"{len(outcomes)} calls from the key in blocks {block}..{chain.block_number}, {len(succeeded)} succeeded"
            f"{': ' + ', '.join(succeeded) if succeeded else ''}; reasons: "
            + "; ".join(sorted({why for _, ok, why in outcomes if not ok})))

    # 2. the rug through the timelock, and the guardian
    council = Council(p, chain, proposer=d)
    queued = []
    wiring = [(p.engine, p.engine.set_liquidation.encode_input(d, d)),
              (p.lender, p.lender.withdraw.encode_input(p.usd.address, p.usd.balanceOf(p.lender), d))]
    if getattr(p, "insurance_fund", None) is not None:
        wiring.insert(0, (p.insurance_fund, p.insurance_fund.set_liquidator.encode_input(d)))
    for target, data in wiring:
        payload, salt = council.schedule(target, data)
        op = council.op_id(payload, salt)
        queued.append((payload, salt, op, p.timelock.get_timestamp(op) - chain.timestamp))
    pending = all(p.timelock.is_operation_pending(op) for *_, op, _ in queued)
    min_wait = min(w for *_, w in queued)
    for *_, op, _ in queued:  # the guardian cancels what it sees queued
        p.timelock.cancel(op, sender=p.guardian)
    chain.mine(deltatime=p.timelock.get_minimum_delay() + 1)
    executed = [chain.attempt(council.execute, payload, salt)[0] for payload, salt, _, _ in queued]
    r.check("everything queued was announced, pending the delay, and cancelled",
            pending and min_wait >= p.timelock.get_minimum_delay() and not any(executed), len(queued),
            f"{len(queued)} operations queued, each ready no sooner than {min_wait:,} s "
            f"(delay {p.timelock.get_minimum_delay():,} s); executed after the guardian's cancellation: "
            f"{sum(executed)}")
    ok, why = chain.attempt(p.governor.check_risk, p.model.address,
                            call_data(p.model, "set_haircuts", [5 * 10**17, 5 * 10**17]), [])
    r.check("the governor refuses the loosest haircuts", not ok, why if not ok else "accepted",
            "model.set_haircuts(50%, 50%) through set_risk: " + (why if not ok else "ACCEPTED"))
    r.notes.append(f"rug calls: {len(outcomes)}; value taken {taken:,.2f} USD; wiring queued {len(queued)}, "
                   "all cancelled by the guardian")
    return r
