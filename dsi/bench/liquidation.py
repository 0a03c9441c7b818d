"""Liquidation gas on anvil: start, take and redo for 1, 8 and 32-position accounts per mechanism,
and the keeper's reward against its gas cost for a minimum-size position.

Books: the writer's cross-mode sub-accounts each write N different 30-day puts (strikes 1,500 ..
3,050 in steps of 50, 0.1 option each) funded at 1.02 x initial margin; governance then tightens
the standard-margin parameters (maintenance a/b raised to 0.2/0.15) so that every book is below
maintenance at an unchanged, FRESH price: the measurement does not depend on a market path. Each
take goes to a fresh taker account of the keeper holding 10M USD in cross mode. Each take asks for the whole account and
is capped at the fraction restoring initial margin (a partial take: the common case). Gas is
execution gas (receipt gas minus the 21,000 base and calldata).

Rows "(taker holds the series)": the same take into a taker account that already holds the
book's series (a keeper's standing inventory, or a reused sub-account: Vyper leaves popped slots
non-zero), so the positions it receives update slots instead of creating them (2,900 instead of
22,100 gas per position).

Keeper economics: a 0.01-option put (the series' minimum size) funded at 1.02 x initial margin,
with the liquidation reserve on (InsuranceFund.set_reserve at the reference's recommended
settings: (800,000 + 100,000 per position) gas at a 1,000 gwei cap, posted by the writer); the
reward is what the keeper earns (Dutch: the incentive owed to the starter, capped by the fund's
fee, plus the taker's discount; fixed / dynamic: the taker's discount net of the fund's fee) plus
the reserve it is paid (WETH at the protocol price); the cost is (start +) take gas x gas price x
the ETH price, at 30, 500 and 1,000 gwei.
"""

from __future__ import annotations

import os

from dsi.bench.report import calldata_gas, exec_gas_tx, node_row
from dsi.protocol import deploy, deploy_liquidation, deploy_margin
from dsi.reference import liquidation as reference

WAD = 10**18
DAY = 86_400
SLICE = (10**16, 8 * 10**16, -3 * 10**17, 0, 2 * 10**17)
COUNTS = tuple(int(n) for n in os.environ.get("DSI_LIQUIDATION_COUNTS", "1,8,32").split(","))
MECHANISMS = ("dutch", "fixed", "dynamic")


class _Meter:
    """Execution gas of one transaction and the clock, on Ape (anvil: the receipt) or an in-process
    backend of `dsi.chain` (revm: the EVM's result; same bytecode, same gas schedule)."""

    def __init__(self, chain, revm=None):
        self.chain = chain
        self.revm = revm

    @property
    def timestamp(self) -> int:
        return self.revm.timestamp if self.revm else self.chain.blocks.head.timestamp

    def mine(self, deltatime: int):
        if self.revm:
            self.revm.mine(1, deltatime)
        else:
            # evm_mine at head + deltatime: anvil however it was started (ape's or an external node)
            self.chain.provider.make_request("evm_mine", [self.timestamp + deltatime])

    def gas(self, fn, *args, sender, total: bool = False) -> int:
        """Execution gas (total minus the 21,000 base and calldata) of `fn(*args)` sent by `sender`;
        with `total`, the transaction's whole gas (what the sender pays for)."""
        if self.revm is None:
            receipt = fn(*args, sender=sender)
            return receipt.gas_used if total else exec_gas_tx(receipt)
        fn(*args, sender=sender)
        used = self.revm.evm.result.gas_used
        return used if total else used - 21_000 - calldata_gas(fn.encode_input(*args))


def _setup(project, accounts, chain, meter, counts):
    p = deploy_margin(project, deploy(project, accounts))
    deploy_liquidation(project, p, "dutch", fund_capital=1_000_000)
    d = p.deployer
    args = (p.engine.address, p.insurance_fund.address, p.oracle.address, p.series.address, p.vol_feed.address,
            p.calculator.address, p.usd.address)
    mechanisms = {"dutch": p.liquidator,
                  "fixed": project.FixedPenalty.deploy(*args, sender=d),
                  "dynamic": project.DynamicFee.deploy(*args, sender=d)}
    expiry = meter.timestamp + 30 * DAY
    p.vol_feed.push(expiry, *SLICE, sender=p.reporter)
    ids = []
    for i in range(max(counts)):
        strike = (1_500 + 50 * i) * WAD
        p.series.list_series(strike, expiry, False, False, sender=d)
        ids.append(p.series.find_series(strike, expiry, False, False))
    for _ in range(30):
        meter.mine(60)
        p.twap.update(sender=p.keeper)
    p.feed.submit(3_000 * WAD, sender=p.reporter)
    p.oracle.poke(sender=p.keeper)
    for who in (p.writer, p.keeper):
        p.usd.mint(who, 10**15, sender=d)
        p.usd.approve(p.engine.address, 2**256 - 1, sender=who)
        p.usd.approve(p.insurance_fund.address, 2**256 - 1, sender=who)
    return p, mechanisms, ids


def _taker(p, sub: int) -> int:
    """A fresh cross-mode taker account holding 10M USD: each take is measured against a taker
    holding only what it takes."""
    p.engine.deposit(sub, 10**13, 0, sender=p.keeper)
    p.engine.set_mode(sub, 1, sender=p.keeper)
    return sub


def _book(p, sub: int, ids, n: int, units: int):
    e, w = p.engine, p.writer
    e.deposit(sub, 10**12, 0, sender=w)
    e.set_mode(sub, 1, sender=w)
    for i in range(n):
        e.open_short(sub, ids[i], units, sender=w)
    need = e.margin(w, sub).initial * 102 // 100 // 10**12 * 100 // 99 + 1
    e.withdraw(sub, e.account(w, sub)[1] - need, 0, sender=w)


def _wire(p, liq):
    p.engine.set_liquidation(liq.address, p.insurance_fund.address, sender=p.deployer)
    p.insurance_fund.set_liquidator(liq.address, sender=p.deployer)


def measure_revm(counts=None) -> list[dict]:
    """The same measurement on the in-process revm backend (`dsi.chain.revm_backend()`): the same
    bytecode (.build/) and gas schedule as anvil, without a node; rows get `backend: "revm"`."""
    from dsi.chain import revm_backend

    b = revm_backend()
    return measure(b.project, b.accounts, None, counts=counts, revm=b.chain)


def measure(project, accounts, chain, counts=None, revm=None) -> list[dict]:
    """Rows for `counts` positions (default COUNTS) on Ape's network, or on `revm` (a RevmChain)."""
    counts = tuple(counts or COUNTS)
    meter = _Meter(chain, revm)
    p, mechanisms, ids = _setup(project, accounts, chain, meter, counts)
    subs = {}
    sub = 10
    for name in MECHANISMS + ("redo", "held"):
        for n in counts:
            _book(p, sub, ids, n, WAD // 10)
            subs[(name, n)] = sub
            sub += 1
    # The minimum-size books post the liquidation reserve (required from now on).
    p.insurance_fund.set_reserve(reference.RESERVE_BASE_GAS, reference.RESERVE_POSITION_GAS,
                                 reference.RESERVE_GAS_PRICE_GWEI * 10**9, sender=p.deployer)
    held = p.insurance_fund.reserve_required(1)
    p.weth.mint(p.writer, 3 * held, sender=p.deployer)
    p.weth.approve(p.insurance_fund.address, 3 * held, sender=p.writer)
    min_size = p.series.min_size()
    for name in MECHANISMS:
        p.insurance_fund.post_reserve(sub, held, sender=p.writer)
        _book(p, sub, ids, 1, min_size)
        subs[(name, "min")] = sub
        sub += 1
    # Tighten maintenance (governance): every book is now below maintenance at the same price.
    p.model.set_standard_params((3 * 10**17, 2 * 10**17), (2 * 10**17, 15 * 10**16), sender=p.deployer)
    rows = []
    eth_usd = p.oracle.price()[0] / WAD
    keeper = p.keeper
    for name in MECHANISMS:
        liq = mechanisms[name]
        _wire(p, liq)
        # Each mechanism's rows start right after an oracle `poke` (a keeper's bot sends one a
        # minute): the TWAP comes from the poke's cache for all three, not live for the ones
        # measured after the Dutch resets moved the clock (~23k gas of ring search per take).
        p.oracle.poke(sender=keeper)
        for n in counts:
            owner, s = p.writer, subs[(name, n)]
            label = f"position{'s' if n > 1 else ''}"
            assert liq.is_liquidatable(owner, s)
            if name == "dutch":
                rows.append(node_row(f"dutch start {n} {label}", meter.gas(liq.start, owner, s, sender=keeper)))
            taker = _taker(p, s + 1000)
            rows.append(node_row(f"{name} take {n} {label}",
                                 meter.gas(liq.take, owner, s, taker, WAD, 2**255 - 1, sender=keeper)))
            if name == "fixed":
                # The same book again into the same taker, which now holds its series.
                s2 = subs[("held", n)]
                rows.append(node_row(f"fixed take {n} {label} (taker holds the series)",
                                     meter.gas(liq.take, owner, s2, taker, WAD, 2**255 - 1, sender=keeper)))
        if name == "dutch":
            # Resets: a second set of books, started, then aged past the tail.
            for n in counts:
                liq.start(p.writer, subs[("redo", n)], sender=keeper)
            meter.mine(liq.curve().tail + 1)
            p.feed.submit(3_000 * WAD, sender=p.reporter)
            p.twap.update(sender=keeper)
            for n in counts:
                label = f"position{'s' if n > 1 else ''}"
                rows.append(node_row(f"dutch redo {n} {label}",
                                     meter.gas(liq.redo, p.writer, subs[("redo", n)], sender=keeper)))
        # Keeper economics on the minimum-size position.
        owner, s = p.writer, subs[(name, "min")]
        gas = 0
        reward = 0.0
        if name == "dutch":
            gas += meter.gas(liq.start, owner, s, sender=keeper, total=True)
        taker = _taker(p, s + 1000)
        cash = p.usd.balanceOf(keeper)
        eth = p.weth.balanceOf(keeper)
        before = liq.mtm(keeper, taker)[0]
        gas += meter.gas(liq.take, owner, s, taker, WAD, 2**255 - 1, sender=keeper, total=True)
        discount = (liq.mtm(keeper, taker)[0] - before) / WAD + (p.usd.balanceOf(keeper) - cash) / 1e6
        reserve = (p.weth.balanceOf(keeper) - eth) / WAD
        row = node_row(f"keeper {name} min-size position (start+take)" if name == "dutch"
                       else f"keeper {name} min-size position (take)", gas)
        row.update(reward_usd=round(discount + reserve * eth_usd, 4), discount_usd=round(discount, 4),
                   reserve_eth=round(reserve, 6), eth_usd=eth_usd)
        for gwei in (30, 500, 1_000):
            row[f"cost_usd_{gwei}_gwei"] = round(gas * gwei * 1e-9 * eth_usd, 2)
            row[f"profit_usd_{gwei}_gwei"] = round(reference.keeper_profit(discount, reserve, gas, gwei, eth_usd), 2)
        rows.append(row)
    for r in rows:
        r["backend"] = "revm" if revm is not None else "anvil"
    return rows
