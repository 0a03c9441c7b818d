"""The world a scenario runs in: the deployed protocol, a vol slice, the listed series, TWAP
history, the standard book, the agents, and one `step()` of market time.

`World.step(price, dt)` is one block of the lab: time moves `dt` seconds, the arbitrageur trades
the pool onto the exogenous `price`, the reporter submits its (possibly faulty) view, the keeper
slot acts (observes the TWAP, pokes the oracle, liquidates once a mechanism exists).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dsi.agents.arbitrageur import trade_to_price
from dsi.agents.book import STANDARD_BOOK, build, strike_of
from dsi.agents.reporter import Reporter
from dsi.protocol import deploy, deploy_margin
from dsi.scenarios import mechanisms

WAD = 10**18
DAY = 86_400
YEAR = 365 * DAY
BASE_SLICE = (10**16, 8 * 10**16, -3 * 10**17, 0, 2 * 10**17)  # 30-day ETH-like smile, put skew


def slice_for_vol(atm_vol: float, tte: int) -> tuple:
    """BASE_SLICE scaled (a and b together, shape kept) to an ATM vol of `atm_vol` at `tte`."""
    a, b, rho, m, sigma = BASE_SLICE
    w0 = (a + b * sigma / WAD) / WAD  # total variance at k = 0 (m = 0)
    scale = atm_vol**2 * (tte / YEAR) / w0
    return (int(a * scale), int(b * scale), rho, m, sigma)


@dataclass
class World:
    backend: object
    p: object  # dsi.protocol.Protocol
    expiry: int
    series: dict  # (ratio, is_call) -> id
    series_info: dict  # id -> (strike WAD, is_call)
    book: list
    keeper: object
    reporter: Reporter
    market: float  # the exogenous price now
    atm_vol: float = 0.8
    extra: dict = field(default_factory=dict)

    @property
    def chain(self):
        return self.backend.chain

    def step(self, price: float, dt: int = 12) -> None:
        p = self.p
        self.chain.mine(deltatime=dt)
        self.market = price
        trade_to_price(p, int(price * WAD))
        self.reporter.observe(price)
        self.keeper.step()

    def push_vol(self, atm_vol: float | None = None) -> None:
        """The reporter re-pushes the expiry's slice (fresh), optionally at a new ATM vol."""
        if atm_vol is not None:
            self.atm_vol = atm_vol
        tte = max(self.expiry - self.chain.timestamp, 3_600)
        self.p.vol_feed.push(self.expiry, *slice_for_vol(self.atm_vol, tte), sender=self.p.reporter)


def build_world(backend, params, mechanism: str = "none", book=STANDARD_BOOK, leverage: float = 1.25,
                atm_vol: float = 0.8, tenor_days: int = 30, history_s: int = 1_800, reserve: tuple | None = None,
                governance: str | None = None) -> World:
    """The world (above). `governance`: None leaves the deployer owning the contracts (scenarios
    that re-parameterise mid-run); "off" hands them to the timelock and the risk governor once
    the book is built (`dsi.governance.govern`, no stress monitor); "on" does the same with the
    stress monitor, which the keeper slot then pokes every block (after the oracle, before any
    liquidation). "off" and "on" differ only by the monitor: the lab's on/off table."""
    if governance not in (None, "off", "on"):
        raise ValueError(f"build_world: governance {governance!r}: None, 'off' or 'on'")
    chain = backend.chain
    p = deploy_margin(backend.project, deploy(backend.project, backend.accounts, params))
    spot = params.spot
    expiry = chain.timestamp + tenor_days * DAY
    ratios = sorted({(ratio, is_call) for a in book for ratio, is_call, _ in a.legs})
    series, info = {}, {}
    for ratio, is_call in ratios:
        strike = strike_of(spot, ratio)
        p.series.list_series(strike, expiry, is_call, False, sender=p.deployer)
        sid = p.series.find_series(strike, expiry, is_call, False)
        series[(ratio, is_call)] = sid
        info[sid] = (strike, is_call)
    keeper = mechanisms.install(backend, p, mechanism, params, reserve=reserve)
    reporter = Reporter(p)
    world = World(backend, p, expiry, series, info, [], keeper, reporter, spot, atm_vol)
    world.push_vol()
    for _ in range(history_s // 180):  # TWAP history before the book opens (one observation / 3 min)
        chain.mine(deltatime=180)
        p.twap.update(sender=p.keeper)
    p.feed.submit(int(spot * WAD), sender=p.reporter)
    p.oracle.poke(sender=p.keeper)
    world.book = build(p, series, book, leverage)
    for a in world.book:
        keeper.watch(p.writer, a.sub)
    if governance is not None:
        from dsi.governance import govern

        govern(backend.project, p, monitor=governance == "on")
    return world


PROBE_SUB = 99  # the writer's probe account: tries a minimum-size write every step


def open_probe(world) -> None:
    """Fund the probe account for ~500 minimum-size writes (5 options) at 100% collateral."""
    p = world.p
    p.engine.deposit(PROBE_SUB, int(5 * world.market * 10**6), 0, sender=p.writer)


def probe(world) -> tuple[bool, str]:
    """Try a risk-increasing action (write the minimum size of the first put) and report
    (accepted, oracle status when tried)."""
    from dsi.metrics import STATUS

    p = world.p
    _, status = p.oracle.price()
    sid = next(iter(sid for (ratio, is_call), sid in world.series.items() if not is_call))
    size = int(p.series.min_size())
    ok, _ = world.chain.attempt(p.engine.open_short, PROBE_SUB, sid, size, sender=p.writer)
    return ok, STATUS[status]


def drive(world, prices, dt: int, measure_every: int = 1, vol_every: int | None = None, on_step=None,
          progress=None) -> dict:
    """Run the world along `prices` (one block per price, `dt` seconds apart): measure every
    `measure_every` steps (and the last), probe every step. Returns steps and probe records."""
    from dsi.metrics import measure

    steps, probes = [], []
    n = len(prices)
    for i, price in enumerate(prices):
        world.step(price, dt)
        if vol_every and i and i % vol_every == 0:
            world.push_vol()
        probes.append(probe(world))
        if on_step:
            on_step(i, world)
        if i % measure_every == 0 or i == n - 1:
            row = measure(world)
            row["step"] = i
            steps.append(row)
        if progress and i % 16 == 0:
            progress(i / n)
    return {"steps": steps, "probes": probes}


def holders(world) -> list:
    """Every margin account the world knows: the book's (writer) and the keeper's taker account."""
    from dsi.scenarios.mechanisms import KEEPER_SUB

    out = [(world.p.writer, a.sub) for a in world.book]
    if world.keeper.mechanism != "none":
        out.append((world.p.keeper, KEEPER_SUB))
    return out + list(world.extra.get("accounts", []))


def _settled(p, expiry: int) -> bool:
    """Try to fix the expiry's settlement price (the oracle returns 0 while deferred)."""
    p.oracle.settle(expiry, sender=p.keeper)
    return p.oracle.settlement_price(expiry) != 0


def expire_and_settle(world, accounts=None, dt: int = 1_800) -> dict:
    """Run the market to the expiry (the arbitrageur holding the pool at `world.market`, the
    keeper observing every `dt` seconds, a minute apart around expiry so the settlement TWAP is
    observed), settle every series, every account's shorts in them (shortfalls become the
    engine's `series_bad_debt`), then the insurance fund's `cover_settlement` on every series
    with bad debt, then the custody longs: the keeper settles those whose pool is funded in
    full; where it stays underfunded (socialised), only the owner may ("margin: series
    underfunded"), and does, taking its pro-rata share. Returns {"settlement_paid": USD units
    the fund paid into pools, "covered": WAD, "socialised": WAD}."""
    p, chain = world.p, world.chain
    while chain.timestamp < world.expiry + 120:
        left = world.expiry + 120 - chain.timestamp
        world.step(world.market, min(dt, left) if left > 2 * world.p.params.twap_window else min(60, left))
    accounts = accounts if accounts is not None else holders(world)
    if not _settled(p, world.expiry):
        # Deferred (the feed at expiry and the pool's median TWAP disagree, or the feed was out):
        # the market runs on until the oracle's delay has passed, then the median rule settles.
        while chain.timestamp < world.expiry + p.oracle.settlement_delay():
            world.step(world.market, min(3_600, world.expiry + p.oracle.settlement_delay() - chain.timestamp))
        assert _settled(p, world.expiry), "settlement still deferred after the delay"
    for sid in world.series_info:
        p.series.settle(sid, sender=p.keeper)
    for owner, sub in accounts:
        for pos in list(p.engine.positions(owner, sub)):
            if pos.id in world.series_info and pos.amount < 0:
                p.engine.settle_position(owner, sub, pos.id, sender=p.keeper)
    out = {"settlement_paid": 0, "covered": 0, "socialised": 0}
    fund = p.extra.get("insurance_fund")
    if fund is not None:
        for sid in world.series_info:
            if p.engine.series_bad_debt(sid):
                before = fund.capital()
                fund.cover_settlement(sid, sender=p.keeper)
                out["settlement_paid"] += before - fund.capital()
        out["covered"], out["socialised"] = fund.covered(), fund.socialised()
    for owner, sub in accounts:
        for pos in list(p.engine.positions(owner, sub)):
            if pos.id in world.series_info:
                who = p.keeper if p.series.shortfall(pos.id) == 0 else owner
                p.engine.settle_position(owner, sub, pos.id, sender=who)
    return out
