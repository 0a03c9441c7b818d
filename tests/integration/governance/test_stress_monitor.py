"""The stress monitor (issue 15 §2): risk parameters that tighten themselves under stress, in
levels with hysteresis, through the governor's bounded path, and relax by themselves.

The governed fixture: Dutch liquidation, a 50,000 USD fund, the writer short 10 puts K=2,700
on 100,000 USD, the feed and pool at 3,000. Every level is reached through a real indicator:
the protocol price moving off its trailing level (VELOCITY), the 30-day ATM vol over its
trailing level (VOL), the feed going stale (ORACLE), the fund's coverage of open interest
falling as writers add shorts (COVERAGE), and short units over the capacity (UTILISATION, on a
monitor of its own). `dsi.reference.stress` predicts every level and every applied word.
"""

from __future__ import annotations

import ape
import pytest

from dsi.agents.arbitrageur import trade_to_price
from dsi.governance import DOWN, SAFE_MODE_LEVEL, UP, call_data, risk_setters, stress_shifts
from dsi.reference.stress import DEFAULT_THRESHOLDS, Monitor, Sources, stressed_value

WAD = 10**18
USD = 10**6
DAY = 86_400
HOUR = 3_600
MAX = 2**256 - 1
NOT_OWNER = "ownable: caller is not the owner"
SAFE = "margin: safe mode: risk-reducing only"
BASE_SLICE = (10**16, 8 * 10**16, -3 * 10**17, 0, 2 * 10**17)


def scaled_slice(factor: float) -> tuple:
    """The fixture's slice with ATM total variance x factor^2 (ATM vol x factor)."""
    a, b, rho, m, sigma = BASE_SLICE
    f2 = factor * factor
    return (int(a * f2), int(b * f2), rho, m, sigma)


def tick(g, price: float, dt: int = 60, vol: float | None = None, poke: bool = True):
    """`dt` seconds pass; the keeper observes the TWAP, the reporter prints `price` (and a slice
    at `vol` x the base ATM vol), the oracle and the monitor are poked. Returns the level."""
    p = g.p
    g.chain.mine(deltatime=dt)
    if price:
        trade_to_price(p, int(price * WAD))  # the arbitrageur keeps the pool (and the TWAP) on the market
    p.twap.update(sender=p.keeper)
    if vol is not None:
        p.vol_feed.push(g.expiry, *scaled_slice(vol), sender=p.reporter)
    if price:
        p.feed.submit(int(price * WAD), sender=p.reporter)
    p.oracle.poke(sender=p.keeper)
    if poke:
        p.monitor.poke(sender=p.keeper)
    return p.monitor.level()


def applied(p, name: str, method: str) -> tuple[bytes, list[int]]:
    """(governor key, current words) of a registered setter."""
    g = p.governor
    for n, m, words, _ in risk_setters(p):
        if (n, m) == (name, method):
            contract = getattr(p, name)
            key = g.key(contract.address, call_data(contract, method, words)[:4])
            return key, words
    raise KeyError((name, method))


def approved_words(p, key, n: int) -> list[int]:
    return [p.governor.approved(key, i) for i in range(n)]


def expected_words(p, name: str, method: str, level: int) -> list[int]:
    """The reference composition: every word of a stressed setter at `level`."""
    g = p.governor
    key, words = applied(p, name, method)
    out = []
    for i in range(len(words)):
        per, tighter, first = g.shifts(key, i)
        lo, hi = g.bounds(key, i)[0], g.bounds(key, i)[1]
        a = g.approved(key, i)
        out.append(stressed_value(a, a, level, per, tighter, lo, hi, first))
    return out


def assert_stress_applied(p, level: int):
    for name, method, _ in stress_shifts(p):
        key, words = applied(p, name, method)
        assert words == expected_words(p, name, method, level), (name, method, level)
        assert [p.governor.current(key, i) for i in range(len(words))] == words


@pytest.fixture
def g(governed):
    """The governed world with the monitor's trailing levels seeded by one calm poke."""
    tick(governed, 3_000.0, dt=12)
    assert governed.p.monitor.level() == 0
    return governed


# --- wiring and access -------------------------------------------------------------------------

def test_the_monitor_is_governed_and_registered(governed):
    p = governed.p
    gov, m = p.governor, p.monitor
    assert m.owner() == gov.address
    assert gov.monitor() == m.address
    assert gov.MAX_LEVEL() == 3 == SAFE_MODE_LEVEL
    for name, method, shifts in stress_shifts(p):
        key, _ = applied(p, name, method)
        for i, shift in enumerate(shifts):
            assert tuple(gov.shifts(key, i)) == shift, (name, method, i)
    for name in ("safe_mode", "freeze_listing"):
        assert gov.switches(p.switches[name]).level == SAFE_MODE_LEVEL
    # the monitor's own setters are risk setters (bounded, through the timelock)
    for method in ("set_thresholds", "set_timing"):
        key, words = applied(p, "monitor", method)
        assert gov.setters(key)[2] == len(words) == (16 if method == "set_thresholds" else 5)
    assert [[m.thresholds(i, j) for j in range(3)] for i in range(5)] == [list(t) for t in DEFAULT_THRESHOLDS]


def test_only_the_monitor_sets_the_stress_level(governed):
    p = governed.p
    for who in ("deployer", "guardian", "attacker", "keeper"):
        with ape.reverts("governor: not monitor"):
            p.governor.stress(3, sender=getattr(p, who))
    for who in ("deployer", "guardian", "attacker"):
        sender = getattr(p, who)
        with ape.reverts("governor: not timelock"):
            p.governor.set_monitor(sender, sender=sender)
        with ape.reverts("governor: not timelock"):
            p.governor.set_switch_level(0, 1, sender=sender)
        with ape.reverts("governor: not timelock"):
            p.governor.register_stress(p.engine.address, b"\x00" * 4, [], sender=sender)
        with ape.reverts(NOT_OWNER):
            p.monitor.set_timing(DAY, DAY, HOUR, HOUR, WAD, sender=sender)
        with ape.reverts(NOT_OWNER):
            p.monitor.set_thresholds([[WAD, WAD, WAD]] * 5, 0, sender=sender)
        with ape.reverts(NOT_OWNER):
            p.engine.set_safe_mode(True, sender=sender)


def test_a_calm_market_stays_at_baseline(g):
    p = g.p
    before = {(n, m): applied(p, n, m)[1] for n, m, _ in stress_shifts(p)}
    for _ in range(10):
        assert tick(g, 3_000.0, dt=300) == 0
    assert {(n, m): applied(p, n, m)[1] for n, m, _ in stress_shifts(p)} == before
    assert not p.engine.safe_mode()


# --- the levels --------------------------------------------------------------------------------

def test_price_velocity_levels_tighten_in_steps(g):
    """5% off the trailing level: level 1; 9%: level 2. Every stressed word is the approved
    value moved by its shift per level; maintenance moves only from level 2."""
    p = g.p
    im0, mm0, cap0 = p.model.im_params(), p.model.mm_params(), p.engine.open_interest_cap()
    assert tick(g, 3_150.0) == 1
    assert_stress_applied(p, 1)
    assert p.model.im_params()[0] == im0[0] + WAD // 40
    assert p.model.mm_params() == mm0  # maintenance: not at level 1
    assert p.engine.open_interest_cap() == cap0 - cap0 // 4
    assert p.liquidator.curve().start_discount == 6 * 10**16  # 5% + one point
    assert tick(g, 3_270.0, dt=12) == 2
    assert_stress_applied(p, 2)
    assert p.engine.open_interest_cap() == cap0 - 2 * (cap0 // 4)
    assert p.model.mm_params()[0] == mm0[0] + WAD // 100  # maintenance from level 2: +1 point
    assert not p.engine.safe_mode()
    assert p.governor.stress_level() == 2


def test_a_vol_spike_reaches_safe_mode_and_only_risk_reducing_actions_run(g):
    p = g.p
    assert tick(g, 3_000.0, vol=2.05) == 3
    assert_stress_applied(p, 3)
    assert p.engine.safe_mode()
    assert not p.series.is_lister(p.deployer)  # listing frozen
    with ape.reverts(SAFE):
        p.engine.open_short(0, g.put, WAD, sender=p.writer)
    with ape.reverts(SAFE):
        p.engine.withdraw(0, USD, 0, sender=p.writer)
    # risk-reducing actions run: deposit, buy back
    p.usd.mint(p.writer, 1_000 * USD, sender=p.deployer)
    p.usd.approve(p.engine, 1_000 * USD, sender=p.writer)
    p.engine.deposit(0, 1_000 * USD, 0, sender=p.writer)
    p.engine.close_short(0, g.put, WAD, sender=p.writer)
    assert p.engine.positions(p.writer, 0)[0].amount == -9 * WAD


def test_the_monitor_relaxes_by_itself_one_level_per_cooldown(g):
    """From safe mode the indicators normalise; with no transaction but pokes the parameters
    are back at baseline after exactly 3 cooldowns, one level per cooldown."""
    p = g.p
    base = {(n, m): applied(p, n, m)[1] for n, m, _ in stress_shifts(p)}
    assert tick(g, 3_000.0, vol=2.05) == 3
    cooldown = p.monitor.cooldown()
    assert cooldown == 6 * HOUR
    t0 = g.chain.blocks.head.timestamp
    assert tick(g, 3_000.0, vol=1.0) == 3  # normal again, the cooldown starts
    levels = []
    while p.monitor.level() and g.chain.blocks.head.timestamp - t0 < 4 * cooldown:
        levels.append(tick(g, 3_000.0, dt=1_800))
    elapsed = g.chain.blocks.head.timestamp - t0
    assert p.monitor.level() == 0
    assert [lv for i, lv in enumerate(levels) if i == 0 or lv != levels[i - 1]] == [3, 2, 1, 0]
    assert 3 * cooldown <= elapsed <= 3 * cooldown + 3 * 1_800 + 60
    assert {(n, m): applied(p, n, m)[1] for n, m, _ in stress_shifts(p)} == base
    assert not p.engine.safe_mode() and p.series.is_lister(p.deployer)


def test_hysteresis_holds_a_level_until_the_reading_is_clearly_back(g):
    """Entered at 5% velocity (threshold 4%), a 3.7% reading holds level 1 past the cooldown
    (within the 10% band: 3.6%); at 1% it falls after one cooldown."""
    p = g.p
    assert tick(g, 3_150.0) == 1
    cooldown = p.monitor.cooldown()
    # hold the price at 3.5% off the trailing level: the reporter walks it up as the EMA follows
    for _ in range(int(cooldown // 600) + 2):
        ema = p.monitor.price_ema() / WAD
        level = tick(g, ema * 1.037, dt=600)
        assert level == 1
    for _ in range(int(cooldown // 600) + 2):
        ema = p.monitor.price_ema() / WAD
        level = tick(g, ema * 1.01, dt=600)
    assert level == 0


def test_a_stale_oracle_raises_the_level_with_its_age(g):
    p = g.p
    for _ in range(5):  # no print, the keeper pokes every 10 minutes: FRESH for the feed's max age
        assert tick(g, 0, dt=600) == 0
    assert tick(g, 0, dt=660) == 0  # STALE: the first poke that sees it starts the clock
    assert p.oracle.price()[1] != 0 and p.monitor.unfresh_since() == g.chain.blocks.head.timestamp
    assert tick(g, 0, dt=300) == 1  # not fresh for 5 minutes
    assert p.monitor.readings().values[3] == 300
    assert tick(g, 0, dt=HOUR - 300) == 2  # for an hour
    assert tick(g, 3_000.0, dt=60) == 2  # fresh again: holds for a cooldown
    assert p.monitor.unfresh_since() == 0


def test_a_one_block_pool_pump_does_not_raise_the_level(g):
    """The attacker pumps the pool 30% in one block (the oracle turns DEVIANT) and pokes the
    monitor in the same block: the ORACLE clock starts but reads 0; unwound a block later, the
    level never moved (a level would hold for a cooldown and raise requirements on others)."""
    p = g.p
    trade_to_price(p, 3_900 * WAD, trader=p.attacker)
    p.oracle.poke(sender=p.attacker)
    assert p.oracle.price()[1] != 0  # not FRESH
    p.monitor.poke(sender=p.attacker)
    assert p.monitor.level() == 0
    trade_to_price(p, 3_000 * WAD, trader=p.attacker)
    assert tick(g, 3_000.0, dt=12) == 0
    assert p.monitor.unfresh_since() == 0


def test_fund_coverage_falls_as_writers_add_shorts(g):
    """50,000 USD of fund against 410 puts x 3,000 of notional: 4.07% < 5%: level 1; 830
    puts (2.0%) stay at level 1: a book indicator, which any writer with capital moves, never
    reaches the levels that raise maintenance on everyone."""
    p = g.p
    p.usd.mint(p.writer, 2_000_000 * USD, sender=p.deployer)
    p.usd.approve(p.engine, 2_000_000 * USD, sender=p.writer)
    p.engine.deposit(1, 2_000_000 * USD, 0, sender=p.writer)
    mm_before = p.model.mm_params()
    p.engine.open_short(1, g.put, 400 * WAD, sender=p.writer)
    assert tick(g, 3_000.0) == 1
    cov = p.insurance_fund.coverage_of_open_interest()
    assert cov == 50_000 * WAD * WAD // (410 * 3_000 * WAD)
    assert p.monitor.readings().values[2] == cov
    # a level-1 OI cap (7,500) still admits this
    p.engine.open_short(1, g.put, 420 * WAD, sender=p.writer)
    assert tick(g, 3_000.0) == 1
    assert p.model.mm_params() == mm_before


# --- composition with the guardian and the timelock ---------------------------------------------

def test_stress_and_the_guardian_compose_to_the_tighter_value(g):
    p = g.p
    key, words = applied(p, "model", "set_standard_params")
    step = p.governor.bounds(key, 0)[2]
    guarded = list(words)
    guarded[0] = words[0] + step  # +5 points of im.a (the guardian's step)
    p.governor.tighten(p.model.address, call_data(p.model, "set_standard_params", guarded), sender=p.guardian)
    assert tick(g, 3_150.0) == 1  # stress: +2.5 points: the guardian's value is tighter
    assert applied(p, "model", "set_standard_params")[1][0] == guarded[0]
    assert applied(p, "model", "set_standard_params")[1][1] == words[1] + WAD // 50  # im.b: stress
    # the guardian's tightening lapses under stress: the stressed value stays
    g.chain.mine(deltatime=p.governor.GUARDIAN_TTL() + 1)
    p.governor.lapse(p.model.address, call_data(p.model, "set_standard_params", words)[:4], sender=p.keeper)
    level = p.monitor.level()
    assert applied(p, "model", "set_standard_params")[1] == expected_words(p, "model", "set_standard_params", level)


def test_the_guardian_cannot_loosen_through_a_stressed_word(g):
    p = g.p
    assert tick(g, 3_150.0) == 1
    key, stressed = applied(p, "model", "set_standard_params")
    base = approved_words(p, key, 4)
    # the guardian passes the approved words with mm.a lowered: refused (not its direction)
    lower = list(base)
    lower[2] -= 1
    with ape.reverts("governor: guardian cannot change this"):
        p.governor.tighten(p.model.address, call_data(p.model, "set_standard_params", lower), sender=p.guardian)
    assert applied(p, "model", "set_standard_params")[1] == stressed


def test_a_council_update_under_stress_is_rebased(g):
    """The timelock lowers im.a by one step while the monitor is at level 1: the applied value
    is the new approved value plus the level's shift (lowering im.a loosens: it carries its
    attestation)."""
    p = g.p
    key, _ = applied(p, "model", "set_standard_params")
    base = approved_words(p, key, 4)
    assert tick(g, 3_150.0) == 1
    new = list(base)
    new[0] -= p.governor.bounds(key, 0)[2]
    payload, salt = g.council.schedule(p.model, call_data(p.model, "set_standard_params", new), risk=True,
                                       proof=g.proof(p.model, "set_standard_params", *new))
    g.chain.mine(deltatime=p.timelock.get_minimum_delay() + 1)
    p.feed.submit(3_150 * WAD, sender=p.reporter)  # keep the oracle fresh at the stressed price
    g.council.execute(payload, salt)
    assert approved_words(p, key, 4) == new
    level = p.monitor.level()
    assert level >= 1
    assert applied(p, "model", "set_standard_params")[1] == expected_words(p, "model", "set_standard_params", level)


def test_the_guardians_safe_mode_outlives_the_monitors(g):
    p = g.p
    sid = p.switches["safe_mode"]
    p.governor.switch_on(sid, sender=p.guardian)
    assert p.engine.safe_mode()
    assert tick(g, 3_000.0, vol=2.05) == 3
    assert tick(g, 3_000.0, vol=1.0) == 3
    for _ in range(40):
        if tick(g, 3_000.0, dt=1_800) == 0:
            break
    assert p.monitor.level() == 0
    assert p.engine.safe_mode()  # the guardian's switch still holds it
    g.chain.mine(deltatime=p.governor.GUARDIAN_TTL() + 1)
    p.governor.switch_off(sid, sender=p.keeper)
    assert not p.engine.safe_mode()


# --- the reference twin --------------------------------------------------------------------------

def _sources(p, tenor: int) -> Sources:
    price, status = p.oracle.price()
    try:
        vol = p.vol_feed.atm_vol_index(tenor)
    except Exception:  # noqa: BLE001 - the contract treats any revert as unreadable
        vol = None
    return Sources(price=price, fresh=status == 0, vol=vol, coverage=p.insurance_fund.coverage_of_open_interest(),
                   short_units=p.engine.total_short_units())


def test_the_reference_twin_predicts_every_level_of_a_stress_path(governed):
    """A day and a half of market: a 9% rally, a feed outage, a vol spike, the recovery. The
    twin, fed what the monitor reads, predicts every level and every reading, poke by poke."""
    g, p = governed, governed.p
    twin = Monitor()
    path = ([(3_000.0, 300, None)] * 3 + [(3_150.0, 60, None), (3_270.0, 60, None)] + [(3_270.0, 900, None)] * 4
            + [(0, 2_400, None), (0, 1_800, None)] + [(3_100.0, 600, None)] * 3 + [(3_100.0, 600, 2.05)]
            + [(3_050.0, 3_600, 1.0)] * 30)
    levels = []
    for price, dt, vol in path:
        tick(g, price, dt=dt, vol=vol, poke=False)
        src = _sources(p, p.monitor.vol_tenor())
        now = g.chain.pending_timestamp  # the in-process chain's clock moves only when mined
        values, _, _ = twin.readings(now, src)
        assert list(p.monitor.readings().values) == values
        p.monitor.poke(sender=p.keeper)
        level = twin.poke(now, src)
        assert p.monitor.level() == level
        assert p.monitor.price_ema() == twin.price_ema and p.monitor.vol_ema() == twin.vol_ema
        levels.append(level)
    assert max(levels) == 3 and levels[-1] == 0
    assert set(levels) == {0, 1, 2, 3}


def test_utilisation_levels_on_a_monitor_of_its_own(build, governed):
    """A monitor owned by the deployer over the same protocol, its governor a fresh one: the
    capacity set to 100 options, so the writer's 10 puts are 10%. With the default thresholds
    utilisation reaches level 1 only (80%); with thresholds 80%, 90%, 100% set by its owner,
    85, 95 and 100 puts step through levels 1-3."""
    p = governed.p
    d = p.deployer
    gov = build.project.RiskGovernor.deploy(p.timelock.address, p.guardian, sender=d)
    m = build.project.StressMonitor.deploy(gov.address, p.oracle.address, p.vol_feed.address,
                                           p.insurance_fund.address, p.engine.address, sender=d)
    gov.set_monitor(m.address, sender=d)
    m.set_timing(30 * DAY, 7 * DAY, HOUR, 6 * HOUR, 100 * WAD, sender=d)
    with ape.reverts("monitor: cooldown out of bounds"):
        m.set_timing(30 * DAY, 7 * DAY, HOUR, 8 * DAY, 100 * WAD, sender=d)
    with ape.reverts("monitor: thresholds not monotone"):
        m.set_thresholds([[2, 1, 3]] + [[WAD, WAD, WAD]] * 4, 0, sender=d)
    with ape.reverts("monitor: hysteresis out of bounds"):
        m.set_thresholds([[WAD, WAD, WAD]] * 5, WAD // 2, sender=d)
    m.poke(sender=p.keeper)
    assert m.level() == 0 and m.readings().values[4] == WAD // 10
    p.usd.mint(p.writer, 200_000 * USD, sender=d)
    p.usd.approve(p.engine, 200_000 * USD, sender=p.writer)
    p.engine.deposit(2, 200_000 * USD, 0, sender=p.writer)
    p.engine.open_short(2, governed.put, 85 * WAD, sender=p.writer)
    m.poke(sender=p.keeper)
    assert m.level() == 1  # 95%: the default stops at level 1
    p.engine.close_short(2, governed.put, 85 * WAD, sender=p.writer)
    thresholds = [[m.thresholds(i, j) for j in range(3)] for i in range(5)]
    thresholds[4] = [8 * 10**17, 9 * 10**17, WAD]
    m.set_thresholds(thresholds, m.hysteresis(), sender=d)
    for more, level in ((75, 1), (10, 2), (5, 3)):
        p.engine.open_short(2, governed.put, more * WAD, sender=p.writer)
        m.poke(sender=p.keeper)
        assert m.level() == level
        assert gov.stress_level() == level
