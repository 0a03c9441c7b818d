"""A hypothesis state machine over the whole protocol, in process (titanoboa).

Actions are the things users, keepers, reporters, the market and attackers do: collateral in and
out, margin modes, writing and closing shorts, long custody, vault writing and American exercise,
token transfers, market moves, stale and bad oracle prints, same-block pumps, vol updates, time
travel across expiries and settlement. Every call either succeeds or reverts with a documented,
namespaced reason (an undocumented revert is a failure). After every step the invariants below
are checked against the contracts' own state.

Each invariant is a method named for the property it checks; `STATS` counts how often each ran
and how many contract calls the run made, for the report (`python -m dsi.fuzz`).
"""

from __future__ import annotations

import time
from collections import Counter

from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from dsi.agents.arbitrageur import amount_to_price, trade_to_price
from dsi.fuzz import economics
from dsi.fuzz.governance import GovernanceRules
from dsi.fuzz.world import DAY, SLICE, USD, WAD, World, build_world, revert_reason

ROLES = ("writer", "buyer", "attacker")
LIQUIDATORS = ("keeper", "attacker")
from dsi.fuzz.world import LEVERED_SUB, TAKER_SUB  # noqa: E402
MODES = (0, 1, 2)
STATUS_FRESH, STATUS_STALE, STATUS_DEVIANT, STATUS_FALLBACK, STATUS_FROZEN = range(5)
USD_TO_WAD = 10**12

# Reasons a call may legitimately revert with, per action. Anything else (or a revert with no
# reason: an overflow, a failed assert without a message) fails the run.
ENGINE_REASONS = {
    "margin: zero amount", "margin: insufficient collateral", "margin: below initial margin",
    "margin: oracle not fresh", "margin: vol stale", "margin: no vol slice", "margin: below min size",
    "margin: series expired", "margin: too many positions", "margin: isolated holds one position",
    "margin: no such short", "margin: no such long", "margin: deposit exceeds short",
    "margin: unknown mode", "margin: unknown series", "margin: insolvency outstanding",
    "erc1155: insufficient balance for transfer", "erc1155: burn amount exceeds balance",
    "erc20: transfer amount exceeds balance",
    # settle_position: a third party may not settle a custody long while its pool is underfunded
    "margin: series underfunded",
    # the stress monitor's top level (and the guardian's switch): risk-increasing actions refused;
    # its lower levels lower the open-interest cap
    "margin: safe mode: risk-reducing only", "margin: open interest cap",
}
VAULT_REASONS = {
    "vault: expired", "vault: below min size", "vault: series exhausted", "vault: zero shares",
    "vault: zero amount", "vault: exceeds written", "vault: insufficient options", "vault: not american",
    "vault: oracle not fresh", "vault: not in the money", "vault: exceeds vault supply", "vault: zero payout",
    "vault: nothing to collect", "vault: not settled", "vault: not expired",
    "erc20: transfer amount exceeds balance",
}


class Stats:
    """Counters of one fuzzing run (process-wide: hypothesis builds a machine per example)."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.invariants = Counter()
        self.rules = Counter()
        self.reverts = Counter()
        self.calls = 0
        self.examples = 0
        self.steps = 0
        self.started = time.perf_counter()

    def as_dict(self) -> dict:
        elapsed = time.perf_counter() - self.started
        return {
            "examples": self.examples,
            "steps": self.steps,
            "calls": self.calls,
            "seconds": round(elapsed, 1),
            "calls_per_second": round(self.calls / elapsed, 1) if elapsed else None,
            "invariants": dict(sorted(self.invariants.items())),
            "rules": dict(sorted(self.rules.items())),
            "reverts": dict(self.reverts.most_common()),
        }


STATS = Stats()
_WORLDS: dict[str, World] = {}
# The mechanism the next examples run under ("dutch", "fixed", "dynamic"); `dsi.fuzz.run` sets it.
MECHANISM = "dutch"


def world(mechanism: str | None = None) -> World:
    mechanism = mechanism or MECHANISM
    if mechanism not in _WORLDS:
        _WORLDS[mechanism] = build_world(liquidation=mechanism)
    return _WORLDS[mechanism]


def _documented_reasons(*namespaces: str) -> set[str]:
    """Every revert string in contracts/ whose namespace is one of `namespaces`."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "contracts"
    found = set()
    for path in root.rglob("*.vy"):
        found |= set(re.findall(r'"((?:%s): [^"]+)"' % "|".join(namespaces), path.read_text()))
    return found


LIQUIDATION_REASONS = _documented_reasons("liquidation", "fund", "margin", "riskarrays")
# What an attacker's settlement-time calls may be refused with.
SETTLE_REASONS = _documented_reasons("oracle", "series", "twap", "margin")
# A portfolio check runs in RiskArrays: its guards ("riskarrays: vol stale", ...) are the
# engine's too.
ENGINE_REASONS |= _documented_reasons("riskarrays")


class ProtocolMachine(GovernanceRules, RuleBasedStateMachine):
    """The whole protocol under random users, markets and attackers."""

    def __init__(self):
        super().__init__()
        self.w = world()
        self.p = self.w.protocol
        self.chain = self.w.chain
        self.chain.restore(self.w.snapshot)
        self.w.snapshot = self.chain.snapshot()  # a fresh handle for the next example
        self.calls_at_start = self.chain.calls
        STATS.examples += 1
        self.accounts: set[tuple[str, int]] = set(self.w.accounts)
        self.settled_prices: dict[int, int] = {}
        self.bad_debt_seen = 0
        self.bad_print_value: int | None = None  # a rejected feed value, while it is the latest round
        self.settled_series: set[int] = set()
        # Per example: the option chain rolls (a settled expiry is replaced by a new one).
        self.terms = dict(self.w.terms)
        self.expiries = list(self.w.expiries)
        self.all_ids = list(self.w.series_ids)
        self.live = list(self.w.series_ids)  # what `pick` indexes
        self.settlement_cover_paid = 0  # USD the fund paid into settlement pools
        self.steps_since_expiry = 0  # expiry is a month-long jump: at most one per 15 steps
        # The economic invariant (dsi.fuzz.economics): the fair market price (what the market
        # moved to; an attacker pushing the pool does not move it), the vol slice options are
        # marked on, each expiry's market price, and per step who liquidated (and whose losses
        # that may take) and who gave value away (gifts, early exercise).
        self.mark = self.p.feed.latest_round_data()[1]
        self.slice = SLICE
        self.expiry_marks: dict[int, int] = {}
        self.economic_roles = ("writer", "buyer", "attacker", "keeper")
        # The governor's rules (dsi.fuzz.governance): the council, the guardian, keys that own nothing.
        self._governance_init(STATS, _documented_reasons("margin", "oracle", "series", "twap", "vol", "riskarrays",
                                                         "liquidation", "fund", "pool", "flash", "monitor"))
        self.econ_before = None
        self.fund_before = 0.0
        self.step_liquidators: dict[str, set | None] = {}
        self.auction_starters: dict[tuple, str] = {}  # (owner, sub) -> the role that started its auction
        self.step_givers: set[str] = set()
        self.loans = {role: {"usd": 0, "weth": 0} for role in self.economic_roles}  # see _trade_to

    def teardown(self):
        STATS.calls += self.chain.calls - self.calls_at_start

    # --- helpers ----------------------------------------------------------

    def _call(self, rule_name: str, allowed: set[str], fn, *args, sender):
        """Run a state-changing call; a revert must carry one of `allowed` reasons and change
        nothing. Returns (ok, result)."""
        STATS.rules[rule_name] += 1
        STATS.steps += 1
        try:
            return True, fn(*args, sender=sender)
        except Exception as exc:  # boa raises BoaError on a revert
            reason = revert_reason(exc)
            note(f"{rule_name} reverted: {reason}")
            assert reason in allowed, f"{rule_name}: undocumented revert {reason!r}"
            STATS.reverts[reason] += 1
            return False, None

    def _live_ids(self):
        now = self.chain.timestamp
        return [i for i in self.all_ids if self.terms[i][1] > now]

    def _spot(self) -> int:
        return self.p.oracle.price()[0]

    def _check_initial(self, owner, sub):
        """After a successful risk-increasing action the account meets initial margin."""
        m = self.p.engine.margin(owner, sub)
        STATS.invariants["risk_increasing_action_leaves_initial_margin"] += 1
        assert m.equity >= m.initial, f"account {sub} below initial after a risk-increasing action: {m}"

    # --- users ------------------------------------------------------------

    @initialize(move=st.sampled_from([0.0, 0.0, -0.2, 0.2]))
    def start(self, move):
        """Half the examples open with a 20% gap (and the keeper's sweep after it), so that
        liquidation under the wired mechanism is exercised from the first step."""
        note(f"fresh world, opening move {move:+.0%}")
        if move:
            self.market_moves(move)

    @rule(role=st.sampled_from(ROLES), sub=st.integers(0, 2), usd=st.integers(0, 400_000),
          weth=st.integers(0, 100))
    def deposit(self, role, sub, usd, weth):
        owner = self.w.actors[role]
        ok, _ = self._call("deposit", ENGINE_REASONS, self.p.engine.deposit, sub, usd * USD, weth * WAD,
                           sender=owner)
        if ok:
            self.accounts.add((owner, sub))

    @rule(role=st.sampled_from(ROLES), sub=st.integers(0, 2), frac=st.sampled_from([0.05, 0.25, 0.5, 1.0]),
          asset=st.sampled_from(["usd", "weth"]))
    def withdraw(self, role, sub, frac, asset):
        owner = self.w.actors[role]
        _, usd, weth, n = self.p.engine.account(owner, sub)
        amount = int((usd if asset == "usd" else weth) * frac)
        if amount == 0:
            return
        args = (amount, 0) if asset == "usd" else (0, amount)
        ok, _ = self._call("withdraw", ENGINE_REASONS, self.p.engine.withdraw, sub, *args, sender=owner)
        if ok and n:
            self._check_initial(owner, sub)

    @rule(role=st.sampled_from(ROLES), pick=st.integers(0, 11), units=st.sampled_from([5 * WAD, 20 * WAD]),
          mode=st.sampled_from([1, 2]))
    def open_leveraged_book(self, role, pick, units, mode):
        """A writer opens a short on sub 5 funded at ~1.02 x initial margin: the account a move
        against it makes liquidatable."""
        owner, sub = self.w.actors[role], LEVERED_SUB
        ok, _ = self._call("leveraged.deposit", ENGINE_REASONS, self.p.engine.deposit, sub, 300_000 * USD, 0,
                           sender=owner)
        if not ok:
            return
        self.accounts.add((owner, sub))
        self._call("leveraged.mode", ENGINE_REASONS, self.p.engine.set_mode, sub, mode, sender=owner)
        ok, _ = self._call("leveraged.open", ENGINE_REASONS, self.p.engine.open_short, sub,
                           self.live[pick % len(self.live)], units, sender=owner)
        if ok:
            self.lever_up(role, sub, 1.02)

    @rule(role=st.sampled_from(ROLES), sub=st.integers(0, 2), leverage=st.sampled_from([1.01, 1.05, 1.3]))
    def lever_up(self, role, sub, leverage):
        """A writer withdraws everything above `leverage` x initial margin (the accounts that
        liquidation exists for)."""
        owner = self.w.actors[role]
        _, usd, weth, n = self.p.engine.account(owner, sub)
        m = self.p.engine.margin(owner, sub)
        if n == 0 or m.initial == 0:
            return
        excess = (m.equity - int(m.initial * leverage)) // USD_TO_WAD
        amount = min(int(excess / 0.99), usd)  # USD counts at 1 - 1% haircut
        if amount <= 0:
            return
        ok, _ = self._call("lever_up", ENGINE_REASONS, self.p.engine.withdraw, sub, amount, 0, sender=owner)
        if ok:
            self._check_initial(owner, sub)

    @rule(role=st.sampled_from(ROLES), sub=st.integers(0, 2), mode=st.sampled_from(MODES))
    def set_mode(self, role, sub, mode):
        owner = self.w.actors[role]
        n = self.p.engine.account(owner, sub)[3]
        ok, _ = self._call("set_mode", ENGINE_REASONS, self.p.engine.set_mode, sub, mode, sender=owner)
        if ok and n:
            self._check_initial(owner, sub)

    @rule(role=st.sampled_from(ROLES), sub=st.integers(0, 2), pick=st.integers(0, 11),
          amount=st.sampled_from([WAD // 1000, WAD // 100, WAD // 10, WAD, 5 * WAD, 20 * WAD]))
    def open_short(self, role, sub, pick, amount):
        owner = self.w.actors[role]
        sid = self.live[pick % len(self.live)]
        before = self.p.option_token.balanceOf(owner, sid)
        ok, _ = self._call("open_short", ENGINE_REASONS, self.p.engine.open_short, sub, sid, amount, sender=owner)
        if ok:
            self.accounts.add((owner, sub))
            assert self.p.option_token.balanceOf(owner, sid) == before + amount
            self._check_initial(owner, sub)

    @rule(role=st.sampled_from(ROLES), sub=st.integers(0, 2), frac=st.sampled_from([0.3, 1.0]))
    def close_short(self, role, sub, frac):
        owner = self.w.actors[role]
        shorts = [x for x in self.p.engine.positions(owner, sub) if x[1] < 0]
        if not shorts:
            return
        sid, amount = shorts[0][0], -shorts[0][1]
        qty = min(max(int(amount * frac), 1), self.p.option_token.balanceOf(owner, sid))
        if qty == 0:
            return
        self._call("close_short", ENGINE_REASONS, self.p.engine.close_short, sub, sid, qty, sender=owner)

    @rule(role=st.sampled_from(ROLES), sub=st.integers(0, 2), pick=st.integers(0, 11))
    def deposit_long(self, role, sub, pick):
        owner = self.w.actors[role]
        sid = self.live[pick % len(self.live)]
        bal = self.p.option_token.balanceOf(owner, sid)
        if bal == 0:
            return
        ok, _ = self._call("deposit_long", ENGINE_REASONS, self.p.engine.deposit_long, sub, sid, bal, sender=owner)
        if ok:
            self.accounts.add((owner, sub))

    @rule(role=st.sampled_from(ROLES), sub=st.integers(0, 2))
    def withdraw_long(self, role, sub):
        owner = self.w.actors[role]
        longs = [x for x in self.p.engine.positions(owner, sub) if x[1] > 0]
        if not longs:
            return
        n = self.p.engine.account(owner, sub)[3]
        ok, _ = self._call("withdraw_long", ENGINE_REASONS, self.p.engine.withdraw_long, sub, longs[0][0],
                           longs[0][1], sender=owner)
        if ok and n > 1:
            self._check_initial(owner, sub)

    @rule(src=st.sampled_from(ROLES), dst=st.sampled_from(ROLES), pick=st.integers(0, 11),
          frac=st.sampled_from([0.5, 1.0]))
    def transfer_longs(self, src, dst, pick, frac):
        a, b = self.w.actors[src], self.w.actors[dst]
        sid = self.live[pick % len(self.live)]
        amount = int(self.p.option_token.balanceOf(a, sid) * frac)
        if amount == 0:
            return
        if src != dst:
            self.step_givers.add(src)  # a gift: the recipient may gain what the giver gives up
        self._call("transfer_longs", set(), self.p.option_token.safeTransferFrom, a, b, sid, amount, b"", sender=a)

    @rule(role=st.sampled_from(ROLES), pick=st.integers(0, 11), amount=st.sampled_from([WAD // 100, WAD, 3 * WAD]))
    def round_trip(self, role, pick, amount):
        """Open a short and buy it back in the same block: no value created."""
        owner, sub = self.w.actors[role], 7
        sid = self.live[pick % len(self.live)]
        usd_before = self.p.usd.balanceOf(owner) + self.p.engine.account(owner, sub)[1]
        ok, _ = self._call("round_trip.deposit", ENGINE_REASONS, self.p.engine.deposit, sub, 200_000 * USD, 0,
                           sender=owner)
        if not ok:
            return
        self.accounts.add((owner, sub))
        opened, _ = self._call("round_trip.open", ENGINE_REASONS, self.p.engine.open_short, sub, sid, amount,
                               sender=owner)
        if opened:
            self._call("round_trip.close", set(), self.p.engine.close_short, sub, sid, amount, sender=owner)
        _, usd, weth, n = self.p.engine.account(owner, sub)
        if n == 0 and weth == 0:
            if usd:
                # (withdrawals are gated while another account's insolvency is outstanding)
                ok, _ = self._call("round_trip.withdraw", ENGINE_REASONS, self.p.engine.withdraw, sub, usd, 0,
                                   sender=owner)
                if not ok:
                    return
            STATS.invariants["round_trip_creates_no_value"] += 1
            assert self.p.usd.balanceOf(owner) <= usd_before, "open-then-close returned more USD than went in"

    # --- the vault (full collateral) -----------------------------------------

    @rule(role=st.sampled_from(ROLES), pick=st.integers(0, 11), amount=st.sampled_from([WAD // 1000, WAD // 10, WAD, 4 * WAD]))
    def vault_write(self, role, pick, amount):
        owner = self.w.actors[role]
        self._call("vault_write", VAULT_REASONS, self.p.vault.write, self.live[pick % len(self.live)], amount, sender=owner)

    @rule(role=st.sampled_from(ROLES), pick=st.integers(0, 11), frac=st.sampled_from([0.5, 1.0]))
    def vault_close(self, role, pick, frac):
        owner = self.w.actors[role]
        sid = self.live[pick % len(self.live)]
        mine = self.p.vault.written(sid, owner)
        amount = min(int(mine * frac), self.p.option_token.balanceOf(owner, sid))
        if amount == 0:
            return
        self._call("vault_close", VAULT_REASONS, self.p.vault.close, sid, amount, sender=owner)

    @rule(role=st.sampled_from(ROLES), pick=st.integers(0, 11), frac=st.sampled_from([0.5, 1.0]))
    def american_exercise(self, role, pick, frac):
        holder = self.w.actors[role]
        sid = self.live[pick % len(self.live)]
        amount = int(self.p.option_token.balanceOf(holder, sid) * frac)
        if amount == 0:
            return
        self.step_givers.add(role)  # early exercise gives the time value up to the assigned writers
        self._call("american_exercise", VAULT_REASONS, self.p.vault.exercise, sid, amount, sender=holder)

    # --- market, oracle and attackers ------------------------------------------

    @rule(move=st.sampled_from([-0.30, -0.15, -0.05, -0.01, 0.01, 0.05, 0.15, 0.30]))
    def market_moves(self, move):
        """The market moves: the pool is arbitraged to the new price, the feed reports it, a
        block later keepers observe and poke."""
        STATS.rules["market_moves"] += 1
        STATS.steps += 1
        target = int(self.p.pool.spot_price() * (1 + move))
        trade_to_price(self.p, target)
        self.mark = target
        self.p.feed.submit(target, sender=self.p.reporter)
        self.bad_print_value = None
        self.chain.mine(deltatime=12)
        self.p.twap.update(sender=self.p.keeper)
        self.p.oracle.poke(sender=self.p.keeper)
        self.keeper_pokes_the_monitor()  # as the lab's keeper: the monitor, then liquidations
        self.liquidators_sweep("keeper", WAD // 2, 0)  # the keeper bot reacts in the next block

    @rule(seconds=st.sampled_from([12, 60, 600, 3_601, 6 * 3_600]))
    def time_passes(self, seconds):
        """Time passes with keepers observing the pool but no feed update (past an hour the
        feed goes stale)."""
        STATS.rules["time_passes"] += 1
        STATS.steps += 1
        for _ in range(min(seconds // 60, 40) or 1):
            self.chain.mine(deltatime=max(seconds // (min(seconds // 60, 40) or 1), 12))
            self.p.twap.update(sender=self.p.keeper)

    @rule()
    def reporters_refresh(self):
        """The feed reports the pool price and the vol reporter re-pushes the live slices."""
        STATS.rules["reporters_refresh"] += 1
        STATS.steps += 1
        self.p.feed.submit(self.p.pool.spot_price(), sender=self.p.reporter)
        self.bad_print_value = None
        now = self.chain.timestamp
        for expiry in self.expiries:
            if expiry > now:
                self.p.vol_feed.push(expiry, *SLICE, sender=self.p.reporter)
        self.p.oracle.poke(sender=self.p.keeper)

    @rule(up=st.booleans())
    def bad_print(self, up):
        """One source prints 35% off (Compound DAI 2020): it must never become the price."""
        STATS.rules["bad_print"] += 1
        STATS.steps += 1
        value = int(self.p.pool.spot_price() * (1.35 if up else 0.65))
        self.p.feed.submit(value, sender=self.p.reporter)
        self.bad_print_value = value

    @rule(role=st.sampled_from(ROLES), sub=st.integers(0, 2), factor=st.sampled_from([3, 10]))
    def same_block_pump(self, role, sub, factor):
        """An attacker pumps the pool `factor`x inside one block (a flash-loan sized trade),
        tries to withdraw collateral and write at the pumped price, then dumps back."""
        p, attacker = self.p, self.w.actors["attacker"]
        STATS.rules["same_block_pump"] += 1
        STATS.steps += 1
        start = p.pool.spot_price()
        self._trade_to(start * factor, "attacker")
        price, status = p.oracle.price()
        STATS.invariants["pump_never_becomes_fresh_price"] += 1
        assert not (status == STATUS_FRESH and price > start * 2), "a pumped spot became the FRESH price"
        owner = self.w.actors[role]
        _, usd, _, n = p.engine.account(owner, sub)
        if n and usd:
            self._call("pump.withdraw", ENGINE_REASONS, p.engine.withdraw, sub, usd, 0, sender=owner)
        self._trade_to(start, "attacker")

    def _trade_to(self, target: int, role: str):
        """`role` swaps the pool to ~`target` (WAD USD per WETH) with borrowed tokens: minted
        to it and recorded as its debt (a fee-free flash loan, the attacker's best case), so the
        economic invariant values its trades at what they cost."""
        p, pool, who = self.p, self.p.pool, self.w.actors[role]
        side, amount = amount_to_price(pool.reserve0(), pool.reserve1(), int(target), pool.fee_bps())
        if side == "none" or amount == 0:
            return
        token = p.weth if side == "weth" else p.usd
        token.mint(who, amount, sender=p.deployer)
        self.loans[role][side] += amount
        token.approve(pool.address, amount, sender=who)
        pool.swap_exact_in(token.address, amount, 0, who, sender=who)

    @rule(seller=st.sampled_from(ROLES), buyer=st.sampled_from(ROLES), pick=st.integers(0, 11),
          frac=st.sampled_from([0.5, 1.0]))
    def sell_longs(self, seller, buyer, pick, frac):
        """A holder sells longs to another at the fair mark, paid in USD rounded up (in the
        seller's favour): how the attacker comes to hold longs against other writers' shorts."""
        if seller == buyer:
            return
        a, b = self.w.actors[seller], self.w.actors[buyer]
        held = [i for i, n in zip(self.live, self.p.option_token.balanceOfBatch([a] * len(self.live), self.live)) if n]
        if not held:
            return
        sid = held[pick % len(held)]
        amount = int(self.p.option_token.balanceOf(a, sid) * frac)
        if amount == 0:
            return
        fair = economics.marks(self).fair[sid]
        price = -(-int(fair * USD) * amount // WAD) + 1
        STATS.rules["sell_longs"] += 1
        STATS.steps += 1
        self.p.usd.transfer(a, price, sender=b)
        self.p.option_token.safeTransferFrom(a, b, sid, amount, b"", sender=a)

    @rule(k=st.sampled_from([1, 3, 10]), factor=st.sampled_from([1.5, 4.0, 100.0]), up=st.booleans(),
          action=st.sampled_from(["liquidate", "withdraw", "open_short", "exercise"]))
    def attacker_pushes_across_blocks(self, k, factor, up, action):
        """The attacker pushes the pool `factor`x up or down and holds it for `k` blocks (a
        validator's run of slots; the keeper observing the TWAP and poking every block), acts in
        the pushed market (liquidates, withdraws its collateral, writes, exercises), then
        unwinds. The economic invariant grades it: a liquidation only the push made possible may
        not pay it (its victims are the accounts liquidatable before the push)."""
        p, attacker = self.p, self.w.actors["attacker"]
        STATS.rules["push.blocks"] += 1
        STATS.steps += 1
        fair_victims = {o for o, sub in self.accounts if p.liquidator.is_liquidatable(o, sub)}
        start = p.pool.spot_price()
        self._trade_to(start * factor if up else start / factor, "attacker")
        for _ in range(k):
            self.chain.mine(deltatime=12)
            p.twap.update(sender=p.keeper)
            p.oracle.poke(sender=p.keeper)
        if action == "liquidate":
            self.liquidators_sweep("attacker", WAD, 0, fair_victims=fair_victims)
        elif action == "withdraw":
            for sub in (0, 1, 2, LEVERED_SUB):
                _, usd, weth, _ = p.engine.account(attacker, sub)
                if usd or weth:
                    self._call("push.withdraw", ENGINE_REASONS, p.engine.withdraw, sub, usd, weth, sender=attacker)
        elif action == "open_short":
            self._call("push.open_short", ENGINE_REASONS, p.engine.open_short, 1, self.live[k % len(self.live)],
                       20 * WAD, sender=attacker)
        else:
            for sid in self.live:
                bal = p.option_token.balanceOf(attacker, sid)
                if bal and self.terms[sid][3]:
                    self.step_givers.add("attacker")
                    self._call("push.exercise", VAULT_REASONS, p.vault.exercise, sid, bal, sender=attacker)
        self._trade_to(start, "attacker")

    # --- liquidation -----------------------------------------------------------------

    @rule(by=st.sampled_from(LIQUIDATORS), fraction=st.sampled_from([WAD // 10, WAD // 2, WAD]),
          waited=st.sampled_from([0, 300, 900]))
    def liquidators_sweep(self, by, fraction, waited, fair_victims: set | None = None):
        """A liquidator (the keeper, or the attacker: possibly on its own account) scans every
        account, starts on each liquidatable one, optionally waits `waited` seconds (the Dutch
        discount grows), and takes `fraction` under whichever mechanism is wired. Healthy
        accounts must refuse. For the economic invariant the liquidator may gain what the owners
        of `fair_victims` (default: every account it found liquidatable) lose."""
        liq, taker = self.p.liquidator, self.w.actors[by]
        STATS.rules["liquidators_sweep"] += 1
        roles = {v: r for r, v in self.w.actors.items()}
        allowed = self.step_liquidators.setdefault(by, set())
        if fair_victims is not None:
            allowed |= {roles[o] for o in fair_victims if o in roles}
        targets = []
        for owner, sub in sorted(self.accounts):
            if (owner, sub) == (taker, TAKER_SUB):
                continue
            if not liq.is_liquidatable(owner, sub):
                continue
            m = self.p.engine.margin(owner, sub)
            STATS.invariants["only_accounts_below_maintenance_are_liquidatable"] += 1
            assert m.health < WAD, f"liquidatable with health {m.health}"
            started, _ = self._call("liquidation.start", LIQUIDATION_REASONS, liq.start, owner, sub, sender=taker)
            if started:
                self.auction_starters[(owner, sub)] = by
            targets.append((owner, sub))
            if fair_victims is None and owner in roles:
                allowed.add(roles[owner])
        if not targets:
            owner, sub = sorted(self.accounts)[0]
            self._call("liquidation.start_healthy", LIQUIDATION_REASONS, liq.start, owner, sub, sender=taker)
            return
        if waited:
            self.chain.mine(deltatime=waited)
        for owner, sub in targets:
            taker_before = self.p.engine.margin(taker, TAKER_SUB)
            ok, q = self._call("liquidation.take", LIQUIDATION_REASONS, liq.take, owner, sub, TAKER_SUB, fraction,
                               2**255 - 1, sender=taker)
            if ok:
                self.accounts.add((taker, TAKER_SUB))
                # A Dutch take pays the auction's starter its incentive and a share of the
                # reserve: a starter from an earlier step is a liquidator of this one too.
                starter = self.auction_starters.get((owner, sub))
                if starter is not None and starter != by:
                    self.step_liquidators.setdefault(starter, set()).update(allowed)
                after = self.p.engine.margin(taker, TAKER_SUB)
                STATS.invariants["taker_meets_initial_margin_after_take"] += 1
                assert after.equity >= after.initial or after.equity >= taker_before.equity, \
                    f"taker left below initial margin: {after}"
                STATS.invariants["no_take_beyond_the_cap"] += 1
                assert q.fraction <= q.max_fraction and q.fraction <= fraction

    @rule(victim=st.sampled_from(ROLES), sub=st.sampled_from([0, LEVERED_SUB]))
    def redo(self, victim, sub):
        """A keeper resets an auction that is too old or too far from the oracle price."""
        self._call("liquidation.redo", LIQUIDATION_REASONS, self.p.liquidator.redo, self.w.actors[victim], sub,
                   sender=self.w.actors["keeper"])

    @rule(donation=st.sampled_from([1_000, 100_000]))
    def donate_to_fund(self, donation):
        """Someone sends USD straight to the fund: its accounted capital must not move."""
        STATS.rules["donate_to_fund"] += 1
        STATS.steps += 1
        fund = self.p.insurance_fund
        before = fund.capital()
        self.p.usd.transfer(fund.address, donation * USD, sender=self.w.actors["attacker"])
        STATS.invariants["donation_does_not_inflate_the_fund"] += 1
        assert fund.capital() == before

    # --- expiry and settlement ---------------------------------------------------

    @precondition(lambda self: self.steps_since_expiry >= 15)
    @rule()
    def expire_and_settle(self):
        """Jump past the next expiry (keepers observing), settle its series, every engine
        position in them, the vault writers, and let holders redeem."""
        STATS.rules["expire_and_settle"] += 1
        self._expire()

    @precondition(lambda self: self.steps_since_expiry >= 15)
    @rule(k=st.sampled_from([1, 2, 5, 10]), factor=st.sampled_from([1.5, 4.0, 100.0]), up=st.booleans(),
          settle_first=st.booleans())
    def attacker_pushes_settlement(self, k, factor, up, settle_first):
        """The next expiry, with the attacker pushing the pool `factor`x up (for its longs) or
        down (for its shorts) over the last `k` blocks up to and including the expiry's, trying
        to fix the settlement price, settle and redeem inside the push, then unwinding; with
        `settle_first` it also settles every account's positions before the keeper does, longs
        first (the settle-order grief). Graded by the economic invariant (its longs and shorts at
        the payoff at the market price) and the claims invariant."""
        STATS.rules["push.settlement"] += 1
        self._expire(push=(k, factor, up, settle_first))

    def _expire(self, push=None):
        STATS.steps += 1
        self.steps_since_expiry = 0
        p, now = self.p, self.chain.timestamp
        expiry = min(e for e in self.expiries if e > now)
        if push:  # run to k blocks before expiry, the last half hour observed every minute
            pushed_from = expiry - 12 * push[0]
            while self.chain.timestamp < pushed_from - 1_800:
                self.chain.mine(deltatime=max(min(6 * 3_600, pushed_from - 1_800 - self.chain.timestamp), 12))
                p.twap.update(sender=p.keeper)
            while self.chain.timestamp + 60 < pushed_from:
                self.chain.mine(deltatime=60)
                p.twap.update(sender=p.keeper)
            if self.chain.timestamp < pushed_from:
                self.chain.mine(deltatime=pushed_from - self.chain.timestamp)
            self._push_through_expiry(expiry, *push)
        while self.chain.timestamp < expiry + 60:
            step = min(6 * 3_600, expiry + 60 - self.chain.timestamp) if expiry - self.chain.timestamp > 3_600 else 60
            self.chain.mine(deltatime=max(step, 12))
            p.twap.update(sender=p.keeper)
        # The reporter reports the market just after expiry (the market price, whatever the
        # pool shows): the settlement price is the feed's at expiry, cross-checked against the
        # pool's median TWAP (deferred while they disagree).
        p.feed.submit(self.mark, sender=p.reporter)
        self.bad_print_value = None
        p.oracle.settle(expiry, sender=p.keeper)
        if p.oracle.settlement_price(expiry) == 0:
            self.chain.mine(deltatime=p.oracle.settlement_delay())
            p.feed.submit(p.pool.spot_price(), sender=p.reporter)
            p.oracle.poke(sender=p.keeper)
            p.oracle.settle(expiry, sender=p.keeper)
        ids = [i for i in self.all_ids if self.terms[i][1] == expiry]
        for sid in ids:
            p.series.settle(sid, sender=p.keeper)
            self.settled_series.add(sid)
        self.settled_prices.setdefault(expiry, p.oracle.settlement_price(expiry))
        if push and push[3]:
            self._settle_everything_first(ids)
        # The keeper in account order, longs before shorts as they come (the order that used to
        # strand a custody long's claim with the engine); a custody long it is refused for (its
        # pool underfunded) is settled by its owner, who takes the partial payment now.
        for owner, sub in sorted(self.accounts):
            for sid, _amount in list(p.engine.positions(owner, sub)):
                if sid in ids:
                    ok, _ = self._call("settle_position", ENGINE_REASONS, p.engine.settle_position, owner, sub, sid,
                                       sender=p.keeper)
                    if not ok:
                        p.engine.settle_position(owner, sub, sid, sender=owner)
        for sid in ids:
            if p.engine.series_bad_debt(sid):
                before = p.insurance_fund.capital()
                ok, _ = self._call("fund.cover_settlement", LIQUIDATION_REASONS, p.insurance_fund.cover_settlement,
                                   sid, sender=p.keeper)
                if ok:
                    self.settlement_cover_paid += before - p.insurance_fund.capital()
        # Anyone collects what the later funding (the other shorts, the fund) added to those claims.
        from dsi.reference.options import engine_account
        for owner, sub in sorted(self.accounts):
            for sid in ids:
                if p.series.claimable(sid, p.engine.address, engine_account(owner, sub)):
                    self._call("collect_claim", set(), p.engine.settle_position, owner, sub, sid, sender=p.keeper)
                    assert p.series.claimable(sid, p.engine.address, engine_account(owner, sub)) == 0
        for role in ROLES:
            who = self.w.actors[role]
            for sid in ids:
                if p.vault.written(sid, who):
                    p.vault.settle_writer(sid, who, sender=p.keeper)
                bal = p.option_token.balanceOf(who, sid)
                if bal:
                    p.series.redeem(sid, bal, sender=who)
        self._roll(ids)

    def _push_through_expiry(self, expiry: int, k: int, factor: float, up: bool, settle_first: bool):
        """The attacker holds the pool pushed from now to the expiry's block (k blocks, the
        keeper observing each), then in the first block after it tries to fix the settlement
        price, settle and redeem its longs at the pushed price; then unwinds."""
        p, attacker = self.p, self.w.actors["attacker"]
        start = p.pool.spot_price()
        self._trade_to(start * factor if up else start / factor, "attacker")
        while self.chain.timestamp < expiry:
            self.chain.mine(deltatime=min(12, expiry - self.chain.timestamp))
            p.twap.update(sender=p.keeper)
        self.chain.mine(deltatime=12)
        p.twap.update(sender=attacker)
        self._call("push.oracle_settle", SETTLE_REASONS, p.oracle.settle, expiry, sender=attacker)
        for sid in [i for i in self.all_ids if self.terms[i][1] == expiry]:
            ok, _ = self._call("push.series_settle", SETTLE_REASONS, p.series.settle, sid, sender=attacker)
            bal = p.option_token.balanceOf(attacker, sid)
            if ok and bal:
                self._call("push.redeem", SETTLE_REASONS, p.series.redeem, sid, bal, sender=attacker)
        self._trade_to(start, "attacker")

    def _settle_everything_first(self, ids: list[int]):
        """The attacker settles every account's positions in the settled series before the
        keeper, longs first: each succeeds or is refused with a documented reason."""
        p, attacker = self.p, self.w.actors["attacker"]
        for owner, sub in sorted(self.accounts, reverse=True):
            for sid, amount in sorted(p.engine.positions(owner, sub), key=lambda x: -x[1]):
                if sid in ids:
                    self._call("push.settle_first", ENGINE_REASONS | SETTLE_REASONS, p.engine.settle_position,
                               owner, sub, sid, sender=attacker)

    def _roll(self, settled: list[int]):
        """List a new expiry 30 days out, strikes 0.8 / 1.0 / 1.2 x the oracle price (the
        lister's job), with a fresh vol slice, in place of the settled series."""
        p = self.p
        p.feed.submit(p.pool.spot_price(), sender=p.reporter)  # the lister waits for a fresh price
        self.bad_print_value = None
        p.oracle.poke(sender=p.keeper)
        expiry = self.chain.timestamp + 30 * DAY
        p.vol_feed.push(expiry, *SLICE, sender=p.reporter)
        self.expiries.append(expiry)
        spot = self._spot()
        fresh = []
        for ratio in (0.8, 1.0, 1.2):
            strike = int(spot * ratio) // (50 * WAD) * (50 * WAD)
            for is_call in (True, False):
                ok, _ = self._call("list_series", {"series: strike out of band", "series: oracle not fresh",
                                                          "series: not lister"},
                                   p.series.list_series, strike, expiry, is_call, False, sender=p.deployer)
                if ok:
                    sid = p.series.find_series(strike, expiry, is_call, False)
                    self.terms[sid] = (strike, expiry, is_call, False)
                    self.all_ids.append(sid)
                    fresh.append(sid)
        self.live = [i for i in self.live if i not in settled] + fresh or self.live

    # --- invariants ----------------------------------------------------------------

    def _count(self, name):
        STATS.invariants[name] += 1

    @invariant()
    def step_counter(self):
        self.steps_since_expiry += 1

    @invariant()
    def engine_tokens_cover_its_ledger(self):
        """The engine holds at least the USD and WETH its ledger says it holds (a donation may
        make it hold more, never less)."""
        self._count("engine_tokens_cover_its_ledger")
        p = self.p
        assert p.usd.balanceOf(p.engine.address) >= p.engine.total_usd()
        assert p.weth.balanceOf(p.engine.address) >= p.engine.total_weth()

    @invariant()
    def engine_totals_equal_sum_of_accounts(self):
        """Every collateral unit the engine's totals count belongs to exactly one account."""
        self._count("engine_totals_equal_sum_of_accounts")
        usd = weth = 0
        for owner, sub in self.accounts:
            _, u, w, _ = self.p.engine.account(owner, sub)
            usd += u
            weth += w
        assert usd == self.p.engine.total_usd()
        assert weth == self.p.engine.total_weth()

    @invariant()
    def open_interest_equals_sum_of_shorts(self):
        """Per series, open interest == the sum of the accounts' short positions; the total of
        short units == the sum of open interest."""
        self._count("open_interest_equals_sum_of_shorts")
        shorts = Counter()
        for owner, sub in self.accounts:
            for sid, amount in self.p.engine.positions(owner, sub):
                if amount < 0:
                    shorts[sid] += -amount
        total = 0
        for sid in self.all_ids:
            oi = self.p.engine.open_interest(sid)
            assert oi == shorts[sid], f"series {sid}: open interest {oi} != shorts {shorts[sid]}"
            total += oi
        assert total == self.p.engine.total_short_units()

    @invariant()
    def long_supply_equals_writers_obligations(self):
        """Before settlement every long token in existence was written by someone who still
        owes it: supply == engine open interest + vault outstanding."""
        self._count("long_supply_equals_writers_obligations")
        for sid in self.all_ids:
            if sid in self.settled_series:
                continue
            supply = self.p.option_token.total_supply(sid)
            owed = self.p.engine.open_interest(sid) + self.p.vault.total_written(sid)
            assert supply == owed, f"series {sid}: supply {supply} != obligations {owed}"

    @invariant()
    def vault_fully_collateralised(self):
        """The vault's locked collateral covers the worst payoff of what it has written, and its
        ledger is backed by tokens it holds."""
        self._count("vault_fully_collateralised")
        p = self.p
        for sid in self.all_ids:
            if sid in self.settled_series:
                continue
            strike, _, is_call, _ = self.terms[sid]
            sh = p.vault.shorts(sid)
            outstanding, locked = sh[2], sh[3]
            # calls: 1 WETH per option; puts: ceil(K x units / 1e30) USD
            need = outstanding if is_call else -(-strike * outstanding // 10**30)
            assert locked >= need, f"series {sid}: locked {locked} < worst payoff {need}"
        assert p.usd.balanceOf(p.vault.address) >= p.vault.usd_held()
        assert p.weth.balanceOf(p.vault.address) >= p.vault.weth_held()

    @invariant()
    def oracle_status_consistent_with_timestamps(self):
        """FRESH only with a feed younger than max_age; a bad print is never a price the
        protocol acts on (FRESH, or FALLBACK for liquidations); the oracle never reports zero.

        (Found by this fuzzer: right after a -30% gap the TWAP still sits near the old price, and
        a +35% bad print lands close to it; the oracle then returns the print with DEVIANT, the
        spot-vs-TWAP flag. That is correct: nothing acts on DEVIANT. The regression test is
        tests/stateful/test_regressions.py::test_bad_print_after_a_gap_is_deviant_not_fresh.)"""
        self._count("oracle_status_consistent_with_timestamps")
        o = self.p.oracle
        price, status = o.price()
        assert price > 0
        _, answer, _, updated, _ = self.p.feed.latest_round_data()
        if status == STATUS_FRESH:
            assert self.chain.timestamp - updated <= o.max_age()
        if self.bad_print_value is not None and answer == self.bad_print_value:
            self._count("bad_print_never_acted_on")
            assert not (price == self.bad_print_value and status in (STATUS_FRESH, STATUS_FALLBACK)), \
                f"a bad print became an actionable price (status {status})"

    @invariant()
    def settlement_prices_immutable(self):
        """Once fixed, a settlement price never changes."""
        self._count("settlement_prices_immutable")
        for expiry, price in self.settled_prices.items():
            assert self.p.oracle.settlement_price(expiry) == price

    @invariant()
    def settlement_pools_never_pay_more_than_funded(self):
        """A series' pool pays holders at most what writers paid in, and holds what it owes."""
        self._count("settlement_pools_never_pay_more_than_funded")
        p = self.p
        usd = weth = 0
        for sid in self.settled_series:
            assert p.series.paid_value(sid) <= p.series.funded_value(sid) + 1
            usd += p.series.pool_usd(sid)
            weth += p.series.pool_weth(sid)
        assert p.usd.balanceOf(p.series.address) >= usd
        assert p.weth.balanceOf(p.series.address) >= weth

    @invariant()
    def settlement_claims_reach_their_holders(self):
        """Every settled series' claims are held by holders that can pass them on: the wallets
        that redeemed (claim) and the engine under each account's key (settle_position collects
        into the account), never by the engine under its own account 0. For each holder, paid +
        claimable == its entitlement, claim x min(funded, owed) / owed rounded down (its whole
        claim once the pool is funded), exactly; together they were paid exactly what the pool
        paid, and the pool holds what is claimable now. Their claims add up to the payoff of the
        longs redeemed, floor(payoff x redeemed / 1e18), less the floor of each redemption: under
        1 wei (WAD USD) each, and this machine redeems each (holder, series) once, so at most
        one wei per holder."""
        self._count("settlement_claims_reach_their_holders")
        from dsi.reference.options import WALLET, engine_account, entitled_units

        p, s, engine = self.p, self.p.series, self.p.engine.address
        keys = [(self.w.actors[r], WALLET) for r in ROLES]
        keys += [(engine, engine_account(owner, sub)) for owner, sub in sorted(self.accounts)]
        for sid in self.settled_series:
            assert s.claim_value(sid, engine, WALLET) == 0, f"series {sid}: a claim held by the engine itself"
            payoff = s.payoff_per_unit(sid)
            if payoff == 0:
                assert s.paid_value(sid) == 0
                continue
            owed, funded = s.total_owed_value(sid), s.funded_value(sid)
            claims = paid = entitled = claimable = 0
            for holder, account in keys:
                c = s.claim_value(sid, holder, account)
                if c == 0:
                    continue
                got, now = s.claim_paid(sid, holder, account), s.claimable(sid, holder, account)
                e = entitled_units(c, owed, funded)
                assert got <= e and got + now == e, f"series {sid}: paid {got} + claimable {now} != entitled {e}"
                claims, paid, entitled, claimable = claims + c, paid + got, entitled + e, claimable + now
            assert paid == s.paid_value(sid), f"series {sid}: paid to someone else than its holders"
            if funded >= owed:
                assert entitled == claims
            redeemed = payoff * s.redeemed_amount(sid) // WAD
            assert redeemed - len(keys) <= claims <= redeemed, \
                f"series {sid}: holders' claims {claims} vs redeemed payoff {redeemed}"
            pool = s.pool_usd(sid) * USD_TO_WAD - (-s.pool_weth(sid) * s.settlement_price(sid) // WAD)  # WETH up
            assert pool >= claimable, f"series {sid}: pool {pool} < claimable {claimable}"

    @invariant()
    def no_actor_gains_beyond_fair_pnl(self):
        """The economic invariant (dsi.fuzz.economics): over the step, no actor's holdings
        gained value at the fair marks beyond gas-sized dust, except what the accounts it
        fairly liquidated and the insurance fund gave up (a liquidator), or what a giver (a gift,
        an early exercise) gave up."""
        after, fund = economics.holdings(self), economics.fund_assets(self)
        for role, h in after.items():  # borrowed pool-push money is owed back
            h.usd -= self.loans[role]["usd"] / USD
            h.weth -= self.loans[role]["weth"] / WAD
        if self.econ_before is not None:
            self._count("no_actor_gains_beyond_fair_pnl")
            problems = economics.unexplained_gains(self.econ_before, after, economics.marks(self),
                                                   self.fund_before - fund, self.step_liquidators, self.step_givers)
            assert not problems, "; ".join(problems)
        self.econ_before, self.fund_before = after, fund
        self.step_liquidators, self.step_givers = {}, set()

    @invariant()
    def bad_debt_only_grows(self):
        """Recorded bad debt is never erased."""
        self._count("bad_debt_only_grows")
        bd = self.p.engine.bad_debt()
        assert bd >= self.bad_debt_seen
        self.bad_debt_seen = bd

    @invariant()
    def collateral_adequacy_matches_the_ledger(self):
        """The collateral-adequacy view equals haircut collateral / short notional recomputed
        from the ledger (WAD, floor)."""
        self._count("collateral_adequacy_matches_the_ledger")
        e = self.p.engine
        spot = self._spot()
        notional = e.total_short_units() * spot // WAD
        got = e.collateral_adequacy()
        if notional == 0:
            assert got == 2**256 - 1
            return
        v_usd = e.total_usd() * USD_TO_WAD * (WAD - self.p.model.usd_haircut()) // WAD
        v_weth = e.total_weth() * spot // WAD * (WAD - self.p.model.weth_haircut()) // WAD
        assert got == (v_usd + v_weth) * WAD // notional

    @invariant()
    def healthy_accounts_are_not_liquidatable(self):
        """An account at or above maintenance (health >= 1) is never liquidatable."""
        self._count("healthy_accounts_are_not_liquidatable")
        liq = self.p.liquidator
        for owner, sub in sorted(self.accounts)[:6]:
            if liq.is_liquidatable(owner, sub):
                assert self.p.engine.margin(owner, sub).health < WAD

    @invariant()
    def fund_accounting_closes(self):
        """capital == deposits + income - subsidies - incentives - withdrawals - what it paid into
        settlement pools, and the fund holds at least its capital in USD (donations sit outside
        the accounting)."""
        self._count("fund_accounting_closes")
        f = self.p.insurance_fund
        assert f.capital() == (f.deposits() + f.income() - f.subsidies_paid() - f.incentives_paid() - f.withdrawn()
                               - self.settlement_cover_paid), "insurance fund accounting does not close"
        assert self.p.usd.balanceOf(f.address) >= f.capital()

    @invariant()
    def bad_debt_is_covered_plus_socialised(self):
        """Every unit of resolved bad debt is either covered by the fund or recorded as socialised,
        exactly; what is not yet resolved is the sum of the engine's per-series records."""
        self._count("bad_debt_is_covered_plus_socialised")
        f, e = self.p.insurance_fund, self.p.engine
        assert f.bad_debt() == f.covered() + f.socialised()
        assert e.uncovered_debt() == sum(e.series_bad_debt(i) for i in self.all_ids)

    @invariant()
    def value_under_auction_within_cap(self):
        """Dutch auction: the gross value under auction never exceeds the global cap."""
        if self.w.mechanism != "dutch":
            return
        self._count("value_under_auction_within_cap")
        liq = self.p.liquidator
        assert liq.under_auction() <= liq.auction_cap()

    @invariant()
    def health_is_equity_over_maintenance(self):
        """For every account: health == equity / maintenance (WAD, floor), max when nothing is
        required, 0 at or below zero equity."""
        self._count("health_is_equity_over_maintenance")
        for owner, sub in sorted(self.accounts)[:4]:
            if not self.p.engine.account(owner, sub)[3]:
                continue
            m = self.p.engine.margin(owner, sub)
            if m.maintenance == 0:
                assert m.health == 2**256 - 1
            elif m.equity <= 0:
                assert m.health == 0
            else:
                assert m.health == m.equity * WAD // m.maintenance


TestProtocol = ProtocolMachine.TestCase
