"""The keeper: watches margin accounts and liquidates them when it pays after gas.

`Keeper(protocol, account, gas_price_gwei, delay)` works with whichever mechanism the protocol
wired (`protocol.liquidator`, `protocol.mechanism`), through the common `ILiquidator` interface.
`step()` scans once and acts, returning the list of `Action`s it took (with gas used and
profit in USD); the lab calls it every block as an agent, `scripts/keeper.py` in a loop.

`chain` is Ape's chain (a live network: accounts are found from events, gas is estimated by the
node) or a `dsi.chain` facade (the lab, on anvil or in process: accounts are those `watch`ed or
passed as `accounts=`, gas is measured by running the transaction in an isolated snapshot).

Each step:
1. new accounts: every (owner, sub) that ever had a position, from the engine's
   `PositionChanged` events since the last scan (Ape), plus the accounts watched;
2. for each account with positions that the liquidator says is liquidatable, and has been for at
   least `delay` seconds (a slow keeper):
   - Dutch auction: `start` it if none runs and starting pays: the starter is owed the
     incentive (paid out of the fund's fee on takes), and the keeper values the start as that
     incentive plus the take it expects once the discount reached the curve's mid point,
     against the gas of the start and the take (on a facade, measured in a snapshot; on a live
     network, the start is assumed to cost a take); `redo` it when a reset is due;
   - quote taking the most allowed (`quote(owner, sub, 1)`): the expected profit is
     value received - pay - fee + subsidy (+ the incentive the fund will pay the starter), in USD;
   - take when that profit exceeds the gas cost at `gas_price_gwei` (gas from eth_estimateGas,
     priced at the protocol's ETH price), and `sync` insolvency flags of accounts that recovered.
The keeper's taker account is `(account, taker_sub)`: it must hold enough collateral to stay
above initial margin with what it takes, and the keeper's wallet pays the fund's fee (the
constructor approves the fund).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dsi.reference.liquidation import reserve_payout

WAD = 10**18
USD = 10**6
MAX_PAY = 2**255 - 1
USABLE = (0, 3)  # oracle statuses liquidation accepts: FRESH, FALLBACK


@dataclass
class Action:
    kind: str  # "start", "redo", "take", "sync", "skip"
    owner: str
    sub: int
    gas_used: int = 0
    profit_usd: float = 0.0  # net of gas, at the keeper's gas price
    detail: dict = field(default_factory=dict)


class Keeper:
    def __init__(self, protocol, account, gas_price_gwei: float = 30.0, delay: int = 0, taker_sub: int = 1,
                 chain=None, accounts=(), sync_insolvent: bool = False):
        self.p = protocol
        self.account = account
        self.gas_price_gwei = gas_price_gwei
        self.delay = delay
        self.taker_sub = taker_sub
        self.liquidator = protocol.liquidator
        self.mechanism = getattr(protocol, "mechanism", "dutch")
        if chain is None:
            from ape import chain as ape_chain

            chain = ape_chain
        self.chain = chain
        self.facade = _is_facade(chain)
        self.sync_insolvent = sync_insolvent
        self.accounts: set[tuple[str, int]] = {(_address(o), s) for o, s in accounts}
        self.first_seen: dict[tuple[str, int], int] = {}
        self.troubled: set[tuple[str, int]] = set()  # ever seen liquidatable: may be flagged insolvent
        self._next_block = 0
        self.log: list[Action] = []
        fund = protocol.insurance_fund
        if protocol.usd.allowance(account, fund.address) < 2**255:
            protocol.usd.approve(fund.address, 2**256 - 1, sender=account)

    # --- scanning -----------------------------------------------------------

    def watch(self, owner, sub: int) -> None:
        """Add an account to the ones scanned every step."""
        self.accounts.add((_address(owner), sub))

    @property
    def now(self) -> int:
        return self.chain.timestamp if self.facade else self.chain.blocks.head.timestamp

    def scan(self) -> set[tuple[str, int]]:
        """Accounts that ever held a position (engine PositionChanged events), incrementally;
        on a `dsi.chain` facade, the watched accounts."""
        if self.facade:
            return self.accounts
        head = self.chain.blocks.head.number
        if head >= self._next_block:
            for log in self.p.engine.PositionChanged.range(self._next_block, head + 1):
                self.accounts.add((log.owner, log.sub))
            self._next_block = head + 1
        return self.accounts

    # --- economics ----------------------------------------------------------

    def gas_cost_usd(self, gas: int) -> float:
        eth = self.p.oracle.price()[0] / WAD
        return gas * self.gas_price_gwei * 1e-9 * eth

    def expected_profit(self, quote, incentive_usd: float = 0.0) -> float:
        """USD the keeper gains from a take before gas: value received - pay - fee + subsidy, plus
        the incentive the fund pays the starter (at most the fund's fee)."""
        value = quote.value / WAD
        gain = value - quote.pay / USD - quote.fee / USD + quote.subsidy / USD
        return gain + min(incentive_usd, quote.fee / USD)

    def reserve_usd(self, owner, sub, fraction: int, starter_is_other: bool = False) -> float:
        """USD of the liquidation reserve a take of `fraction` (WAD) pays the taker: the fraction
        of the account's reserve (WETH, at the protocol price), less the starter's 40% in a Dutch
        auction someone else started (InsuranceFund.pay_reserve). 0 with the reserve off."""
        fund = self.p.insurance_fund
        held = fund.reserves(owner, sub) if hasattr(fund, "reserves") else 0
        if not held:
            return 0.0
        paid, _ = reserve_payout(held, fraction, starter_is_other)
        return paid / WAD * self.p.oracle.price()[0] / WAD

    # --- acting -------------------------------------------------------------

    def step(self) -> list[Action]:
        actions: list[Action] = []
        now = self.now
        liq, me = self.liquidator, self.account
        if self.p.oracle.price()[1] not in USABLE:  # nothing can be taken, started or synced
            return actions
        for owner, sub in sorted(self.scan()):
            key = (owner, sub)
            # health >= 1 (equity >= maintenance) rules liquidation out: maintenance covers the
            # shorts' marks, so MtM >= 0 too. One margin view instead of the liquidator's full
            # snapshot for the (many) healthy accounts.
            healthy = self.p.engine.margin(owner, sub).health >= WAD
            if healthy or not liq.is_liquidatable(owner, sub):  # (false without positions)
                self.first_seen.pop(key, None)
                if key in self.troubled and liq.is_flagged(owner, sub):
                    actions.append(self._send("sync", owner, sub, liq.sync, owner, sub))
                continue
            self.troubled.add(key)
            self.first_seen.setdefault(key, now)
            if now - self.first_seen[key] < self.delay:
                continue
            incentive = 0.0
            if self.mechanism == "dutch":
                auction = liq.auctions(owner, sub)
                if auction.started == 0:
                    worth, detail = self.start_pays(owner, sub)
                    if not worth:
                        actions.append(Action("skip", owner, sub, detail=detail))
                        continue
                    actions.append(self._send("start", owner, sub, liq.start, owner, sub))
                    auction = liq.auctions(owner, sub)
                elif liq.reset_due(owner, sub):
                    worth, detail = self.start_pays(owner, sub, redo=True)
                    if not worth:
                        actions.append(Action("skip", owner, sub, detail=detail))
                        continue
                    actions.append(self._send("redo", owner, sub, liq.redo, owner, sub))
                    auction = liq.auctions(owner, sub)
                if actions and actions[-1].kind in ("start", "redo") and actions[-1].owner == owner \
                        and actions[-1].sub == sub:
                    actions[-1].detail.update(anchor=auction.anchor, oracle=self.p.oracle.price()[0],
                                              insolvent=auction.insolvent)
                if auction.keeper == _address(me):
                    incentive = auction.owed / USD
            quote = liq.quote(owner, sub, WAD)
            if quote.fraction == 0:
                self._record_insolvency(actions, owner, sub)
                continue
            reserve = self.reserve_usd(owner, sub, quote.fraction,
                                       starter_is_other=self.mechanism == "dutch" and incentive == 0.0)
            gain = self.expected_profit(quote, incentive) + reserve
            try:
                gas = self.estimate_gas(liq.take, owner, sub, self.taker_sub, WAD, MAX_PAY)
            except Exception as err:  # the take would revert (e.g. the taker's margin): skip it
                actions.append(Action("skip", owner, sub, detail={"reason": str(err)[:120]}))
                continue
            cost = self.gas_cost_usd(gas)
            if gain <= cost:
                actions.append(Action("skip", owner, sub, detail={"gain_usd": gain, "gas_cost_usd": cost}))
                self._record_insolvency(actions, owner, sub)
                continue
            action = self._send("take", owner, sub, liq.take, owner, sub, self.taker_sub, WAD, MAX_PAY)
            action.profit_usd = gain - self.gas_cost_usd(action.gas_used)
            action.detail.update(reserve_usd=reserve)
            action.detail.update(fraction=quote.fraction / WAD, discount=quote.discount / WAD,
                                 value_usd=quote.value / WAD, pay_usd=quote.pay / USD,
                                 fee_usd=quote.fee / USD, subsidy_usd=quote.subsidy / USD,
                                 covered_usd=quote.covered / WAD)
            actions.append(action)
        self.log.extend(actions)
        return actions

    def _record_insolvency(self, actions: list, owner, sub) -> None:
        """An insolvent account the keeper leaves alone is `sync`ed when `sync_insolvent` (the
        protocol's own keeper): flagged on chain, it is recorded as insolvency outstanding and
        gates withdrawals until someone takes it."""
        liq = self.liquidator
        if not self.sync_insolvent or liq.is_flagged(owner, sub) or liq.mtm(owner, sub)[0] >= 0:
            return
        try:
            actions.append(self._send("sync", owner, sub, liq.sync, owner, sub))
        except Exception as err:  # e.g. the oracle is not usable now: try again next step
            actions.append(Action("skip", owner, sub, detail={"reason": f"sync: {str(err)[:100]}"}))

    def estimate_gas(self, method, *args) -> int:
        """Gas `method(*args)` would use now: the node's estimate on a live network; on a
        facade, the transaction run in a snapshot that is then reverted. Raises if it reverts."""
        if not self.facade:
            return method.estimate_gas_cost(*args, sender=self.account)
        with self.chain.isolate():
            before = self.chain.gas_used()
            method(*args, sender=self.account)
            return self.chain.gas_used() - before

    def start_pays(self, owner, sub, redo: bool = False) -> tuple[bool, dict]:
        """Whether (re)starting a Dutch auction on (owner, sub) pays for its gas: the incentive
        the starter is owed plus the take the keeper expects once the discount reached the
        curve's mid point, against the gas of the (re)start and of that take."""
        liq = self.liquidator
        method = liq.redo if redo else liq.start
        if not self.facade:  # a live network: estimate the start, assume the take costs as much
            gas_start = method.estimate_gas_cost(owner, sub, sender=self.account)
            return True, {"gas_start": gas_start}
        curve = liq.curve()
        with self.chain.isolate():
            before = self.chain.gas_used()
            method(owner, sub, sender=self.account)
            gas_start = self.chain.gas_used() - before
            incentive = liq.auctions(owner, sub).owed / USD
            self.chain.mine(deltatime=int(curve.mid_time))
            quote = liq.quote(owner, sub, WAD)
            gain = (self.expected_profit(quote, incentive) + self.reserve_usd(owner, sub, quote.fraction)
                    if quote.fraction else incentive)
            try:
                gas_take = self.estimate_gas(liq.take, owner, sub, self.taker_sub, WAD, MAX_PAY)
            except Exception as err:  # the take would revert then (e.g. `fund: exhausted`)
                return False, {"reason": f"take after a (re)start would revert: {str(err)[:100]}"}
        cost = self.gas_cost_usd(gas_start + gas_take)
        return gain > cost, {"start_gain_usd": gain, "start_gas_cost_usd": cost}

    def _send(self, kind: str, owner, sub, method, *args) -> Action:
        before = self.chain.gas_used() if self.facade else 0
        receipt = method(*args, sender=self.account)
        gas = getattr(receipt, "gas_used", None)
        if gas is None:
            gas = self.chain.gas_used() - before
        action = Action(kind, owner, sub, gas_used=gas)
        action.profit_usd = -self.gas_cost_usd(gas)
        return action

    def reset(self) -> None:
        """Forget what was seen and done (the lab restores a snapshot between Monte Carlo paths)."""
        self.first_seen.clear()
        self.troubled.clear()
        self.log.clear()

    # --- totals (the lab's keeper slot reads these) -------------------------

    @property
    def liquidations(self) -> int:
        return sum(a.kind == "take" for a in self.log)

    @property
    def pnl(self) -> float:
        """USD, net of gas at the keeper's gas price: takes' gains minus every transaction's gas."""
        return sum(a.profit_usd for a in self.log)

    @property
    def gas_spent(self) -> int:
        return sum(a.gas_used for a in self.log)


def _is_facade(chain) -> bool:
    from dsi.chain.base import ChainFacade

    return isinstance(chain, ChainFacade)


def _address(a) -> str:
    return getattr(a, "address", a)
