"""The fuzzer's economic invariant: no actor gains beyond what its positions fairly earned.

Review issue 13 asked for a lab that finds attacks it was not told about. Every named invariant
of `dsi.fuzz.machine` checks one mechanism's bookkeeping; this one checks the outcome: after
every step, for every actor (writer, buyer, attacker, keeper),

    gain = V(holdings after the step, marks after) - V(holdings before the step, marks after)

where V values everything the actor owns at the *fair* marks, independent of the protocol's own
prices: the market price (the price the market moved to, not the pool's spot an attacker may be
pushing, not the protocol's oracle), and options at Black-Scholes on the machine's SVI slice
before expiry, at their payoff at the market price at expiry after it. Valuing the holdings from
before the step at the marks after it is the "what its positions fairly earned": a market move or
time passing re-marks what the actor held; only what the step did to the holdings is left in
`gain`. It must stay under DUST unless a counterparty gave the value up:

- a liquidator may gain what the liquidated accounts lost plus what the insurance fund paid out
  in the step (discounts, tips, subsidies: the mechanism's designed incentive);
- the recipient of a gift (a plain token transfer) or the vault writers assigned an early
  American exercise may gain what the giver or exerciser lost.

Everything an actor owns: wallet USD, WETH and option tokens; each engine account (collateral,
custody longs, shorts, settlement claims under the account's key), valued at max(0, ...) since an
account's owner never owes more than the account (limited liability: an insolvent short's default
is not a gain, it is bad debt); settlement claims in its own name (their face value: what the
long was worth); its vault positions (its locked and free collateral less what its outstanding
written options are worth); its liquidation reserves at the fund.

DUST is gas-sized: 5 USD per actor per step (one 80k-gas transaction at 20 gwei and 3,000
USD/ETH) plus 1e-9 of the actor's gross value (float and 6-decimal rounding). Any real attack in
the review (+0.49M to +1.18M USD) is five orders of magnitude above it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dsi.reference import pricing
from dsi.reference.options import WALLET, engine_account

WAD = 10**18
USD_UNIT = 10**6
DUST_USD = 5.0
DUST_RELATIVE = 1e-9


@dataclass
class Account:
    usd: float  # USD
    weth: float  # WETH
    units: dict  # series id -> signed option units
    claims: float  # USD face of unpaid settlement claims under this account's key


@dataclass
class Holding:
    usd: float = 0.0
    weth: float = 0.0
    units: dict = field(default_factory=dict)  # wallet option units per series
    claims: float = 0.0  # wallet-keyed unpaid settlement claims, USD face
    accounts: list = field(default_factory=list)  # [Account]
    vault: list = field(default_factory=list)  # [(series id, collateral in the series' asset, written units)]
    reserves: float = 0.0  # WETH posted at the insurance fund


def holdings(machine) -> dict[str, Holding]:
    """What each actor owns now, read from the contracts (quantities, not values)."""
    p = machine.p
    s, engine = p.series, p.engine.address
    fund = p.extra.get("insurance_fund")
    ids = list(machine.all_ids)
    settled = sorted(machine.settled_series)
    # Series the vault has anything in, and settled series someone redeemed: the only ones a
    # vault position or a claim can be in (saves most of the views).
    in_vault = [i for i in ids if p.vault.series_collateral(i)]
    # A series whose pool paid the whole payoff of what was redeemed has no unpaid claim left
    # (claims never exceed it: the claims invariant).
    redeemed = [i for i in settled
                if s.paid_value(i) < s.payoff_per_unit(i) * s.redeemed_amount(i) // WAD]
    out = {}
    for role in machine.economic_roles:
        who = machine.w.actors[role]
        h = Holding(usd=p.usd.balanceOf(who) / USD_UNIT, weth=p.weth.balanceOf(who) / WAD)
        balances = p.option_token.balanceOfBatch([who] * len(ids), ids) if ids else []
        h.units = {i: b / WAD for i, b in zip(ids, balances) if b}
        h.claims = sum(s.claim_value(i, who, WALLET) - s.claim_paid(i, who, WALLET) for i in redeemed) / WAD
        for owner, sub in sorted(machine.accounts):
            if owner != who:
                continue
            _, usd, weth, _ = p.engine.account(owner, sub)
            key = engine_account(owner, sub)
            claims = sum(s.claim_value(i, engine, key) - s.claim_paid(i, engine, key) for i in redeemed) / WAD
            units = {pos[0]: pos[1] / WAD for pos in p.engine.positions(owner, sub)}
            h.accounts.append(Account(usd / USD_UNIT, weth / WAD, units, claims))
            if fund is not None:
                h.reserves += fund.reserves(owner, sub) / WAD
        for i in in_vault:
            position = p.vault.positions(i, who)
            if position[1] == 0 and position[3] == 0:  # no shares, nothing free: nothing there
                continue
            collateral = p.vault.locked_of(i, who) + p.vault.collectable(i, who)
            written = p.vault.written(i, who)
            if collateral or written:
                is_call = machine.terms[i][2]
                h.vault.append((i, collateral / (WAD if is_call else USD_UNIT), written / WAD))
        out[role] = h
    return out


@dataclass
class Marks:
    """Fair marks: the market price (USD per WETH) and each series' fair value per unit (USD)."""

    price: float
    fair: dict  # series id -> USD per option unit
    calls: set  # series ids that are calls (collateral in WETH)

    def option(self, sid: int) -> float:
        return self.fair[sid]


def marks(machine) -> Marks:
    """Black-Scholes on the machine's SVI slice at the market price before expiry; the payoff at
    the market price at expiry after it (remembered per expiry the first time it is needed)."""
    price = machine.mark / WAD
    now = machine.chain.timestamp
    a, b, rho, m, sigma = (x / WAD for x in machine.slice)
    fair, calls = {}, set()
    for sid in machine.all_ids:
        strike_wad, expiry, is_call, _ = machine.terms[sid]
        strike = strike_wad / WAD
        if is_call:
            calls.add(sid)
        if expiry <= now:
            at = machine.expiry_marks.setdefault(expiry, machine.mark) / WAD
            fair[sid] = max(at - strike, 0.0) if is_call else max(strike - at, 0.0)
            continue
        tau = pricing.years(expiry - now)
        vol = pricing.svi_vol(price, strike, tau, 0.0, a, b, rho, m, sigma)
        fair[sid] = pricing.price(price, strike, tau, vol, 0.0, is_call)
    return Marks(price=price, fair=fair, calls=calls)


def value(h: Holding, mk: Marks) -> tuple[float, float]:
    """(value, gross) of a holding at the marks, USD."""
    v = h.usd + h.weth * mk.price + h.claims + h.reserves * mk.price
    gross = abs(v)
    for sid, n in h.units.items():
        v += n * mk.option(sid)
        gross += abs(n * mk.option(sid))
    for acct in h.accounts:
        a = acct.usd + acct.weth * mk.price + acct.claims
        g = abs(a)
        for sid, n in acct.units.items():
            a += n * mk.option(sid)
            g += abs(n * mk.option(sid))
        v += max(a, 0.0)  # limited liability: an account is worth at least nothing to its owner
        gross += g
    for sid, collateral, written in h.vault:
        c = collateral * (mk.price if sid in mk.calls else 1.0)
        v += c - written * mk.option(sid)
        gross += c + abs(written * mk.option(sid))
    return v, gross


def fund_assets(machine) -> float:
    """USD the insurance fund holds on its books (capital), the passive party liquidation pays."""
    fund = machine.p.extra.get("insurance_fund")
    return fund.capital() / USD_UNIT if fund is not None else 0.0


def unexplained_gains(before: dict[str, Holding], after: dict[str, Holding], mk: Marks,
                      fund_paid: float, liquidators: dict, givers: set) -> list[str]:
    """The violations of one step: actors whose gain beyond their fair PnL exceeds what the
    step's counterparties gave up. Returns human-readable lines, empty when the step is fair."""
    gains, gross = {}, {}
    for role in after:
        v1, g1 = value(after[role], mk)
        v0, _ = value(before[role], mk)
        gains[role], gross[role] = v1 - v0, g1
    losses = {r: max(-g, 0.0) for r, g in gains.items()}
    problems = []
    for role, gain in gains.items():
        allowed = DUST_USD + DUST_RELATIVE * gross[role]
        if role in liquidators:  # {liquidator: roles whose accounts it fairly liquidated}
            allowed += sum(losses[r] for r in liquidators[role] if r != role) + max(fund_paid, 0.0)
        allowed += sum(losses[r] for r in givers if r != role)  # gifts, early exercise
        if gain > allowed:
            problems.append(f"{role} gained {gain:,.2f} USD beyond its fair PnL (allowed {allowed:,.2f}); "
                            f"gains this step: " + ", ".join(f"{r} {g:+,.2f}" for r, g in gains.items())
                            + f"; fund paid {fund_paid:,.2f}")
    return problems
