"""The keeper: watches margin accounts and liquidates them when it pays after gas.

`Keeper(protocol, account, gas_price_gwei, delay)` works with whichever mechanism the protocol
wired (`protocol.liquidator`, `protocol.mechanism`), through the common `ILiquidator` interface.
`step()` scans once and acts, returning the list of `Action`s it took (with gas used and
profit in USD); the lab calls it every block as an agent, `scripts/keeper.py` in a loop.

Each step:
1. new accounts: every (owner, sub) that ever had a position, from the engine's
   `PositionChanged` events since the last scan;
2. for each account with positions that the liquidator says is liquidatable, and has been for at
   least `delay` seconds (a slow keeper):
   - Dutch auction: `start` it if none runs (the starter is owed the incentive, paid out of the
     fund's fee on takes), `redo` it when a reset is due;
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

WAD = 10**18
USD = 10**6
MAX_PAY = 2**255 - 1


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
                 chain=None):
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
        self.accounts: set[tuple[str, int]] = set()
        self.first_seen: dict[tuple[str, int], int] = {}
        self._next_block = 0
        self.log: list[Action] = []
        fund = protocol.insurance_fund
        if protocol.usd.allowance(account, fund.address) < 2**255:
            protocol.usd.approve(fund.address, 2**256 - 1, sender=account)

    # --- scanning -----------------------------------------------------------

    def scan(self) -> set[tuple[str, int]]:
        """Accounts that ever held a position (engine PositionChanged events), incrementally."""
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

    # --- acting -------------------------------------------------------------

    def step(self) -> list[Action]:
        actions: list[Action] = []
        now = self.chain.blocks.head.timestamp
        liq, me = self.liquidator, self.account
        for owner, sub in sorted(self.scan()):
            if self.p.engine.account(owner, sub)[3] == 0:
                continue
            key = (owner, sub)
            if not liq.is_liquidatable(owner, sub):
                self.first_seen.pop(key, None)
                if liq.is_flagged(owner, sub):
                    actions.append(self._send("sync", owner, sub, liq.sync, owner, sub))
                continue
            self.first_seen.setdefault(key, now)
            if now - self.first_seen[key] < self.delay:
                continue
            incentive = 0.0
            if self.mechanism == "dutch":
                auction = liq.auctions(owner, sub)
                if auction.started == 0:
                    actions.append(self._send("start", owner, sub, liq.start, owner, sub))
                    auction = liq.auctions(owner, sub)
                elif liq.reset_due(owner, sub):
                    actions.append(self._send("redo", owner, sub, liq.redo, owner, sub))
                    auction = liq.auctions(owner, sub)
                if auction.keeper == me.address:
                    incentive = auction.owed / USD
            quote = liq.quote(owner, sub, WAD)
            if quote.fraction == 0:
                continue
            gain = self.expected_profit(quote, incentive)
            try:
                gas = liq.take.estimate_gas_cost(owner, sub, self.taker_sub, WAD, MAX_PAY, sender=me)
            except Exception as err:  # the take would revert (e.g. the taker's margin): skip it
                actions.append(Action("skip", owner, sub, detail={"reason": str(err)[:120]}))
                continue
            cost = self.gas_cost_usd(gas)
            if gain <= cost:
                actions.append(Action("skip", owner, sub, detail={"gain_usd": gain, "gas_cost_usd": cost}))
                continue
            action = self._send("take", owner, sub, liq.take, owner, sub, self.taker_sub, WAD, MAX_PAY)
            action.profit_usd = gain - self.gas_cost_usd(action.gas_used)
            action.detail.update(fraction=quote.fraction / WAD, value_usd=quote.value / WAD, pay_usd=quote.pay / USD,
                                 fee_usd=quote.fee / USD, subsidy_usd=quote.subsidy / USD)
            actions.append(action)
        self.log.extend(actions)
        return actions

    def _send(self, kind: str, owner, sub, method, *args) -> Action:
        receipt = method(*args, sender=self.account)
        action = Action(kind, owner, sub, gas_used=receipt.gas_used)
        action.profit_usd = -self.gas_cost_usd(receipt.gas_used)
        return action
