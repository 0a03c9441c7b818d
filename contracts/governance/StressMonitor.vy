# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title DSI stress monitor: risk parameters that tighten themselves under stress
@custom:contract-name StressMonitor
@license GNU Affero General Public License v3.0 only
@notice Reads indicators anyone can verify on chain and sets the risk
        governor's stress level (0 calm .. 3 safe mode) through the
        governor's own bounded path (`RiskGovernor.stress`: each registered
        word moved by its shift per level from its first level on, from the
        approved value, within hard limits, only in its tighter direction;
        switches such as safe mode at their level). Indicators, each against three thresholds (one per
        level):

        0 VOL: the 30-day ATM implied vol index (`VolFeed.atm_vol_index`)
          over its trailing level (an EMA with time constant `vol_tau`);
        1 VELOCITY: |protocol price - its trailing level| / trailing level
          (an EMA with time constant `price_tau`);
        2 COVERAGE: the insurance fund's capital over open-interest notional
          (`InsuranceFund.coverage_of_open_interest`), lower is worse;
        3 ORACLE: seconds since the first poke that found the protocol oracle
          not FRESH or the vol index unreadable (0 while both are); sparse
          pokes understate it, never overstate it, so a one-block pool pump
          that turns the oracle DEVIANT cannot raise the level by itself;
        4 UTILISATION: short option units in the engine over `oi_capacity`.

        The level rises at once to the highest level any indicator enters.
        It falls by one level per `cooldown` seconds during which no
        indicator holds the current level (holding uses thresholds relaxed
        by the `hysteresis` band), so after the indicators normalise the
        parameters are back at baseline within level x cooldown (<= 3 x 7
        days by the setter's bound), with no manual reset: anyone may
        `poke`, a keeper does every block it acts. Trailing levels advance
        only on pokes; a spike is measured against the level before it.
"""

from snekmate.auth import ownable
initializes: ownable

from ..math import constants as c
from ..math import stress

exports: (ownable.owner, ownable.transfer_ownership)


interface IOracle:
    def price() -> (uint256, uint256): view

interface IFund:
    def coverage_of_open_interest() -> uint256: view

interface IEngine:
    def total_short_units() -> uint256: view

interface IGovernor:
    def stress(level: uint256): nonpayable


VOL: constant(uint256) = 0
VELOCITY: constant(uint256) = 1
COVERAGE: constant(uint256) = 2
ORACLE: constant(uint256) = 3
UTILISATION: constant(uint256) = 4
INDICATORS: constant(uint256) = 5
LEVELS: constant(uint256) = 3
STATUS_FRESH: constant(uint256) = 0
COOLDOWN_MAX: public(constant(uint256)) = 7 * 86_400
TAU_MAX: constant(uint256) = 30 * 86_400
HYSTERESIS_MAX: constant(uint256) = 5 * 10 ** 17


struct Readings:
    values: uint256[INDICATORS]  # VOL, VELOCITY, COVERAGE (WAD), ORACLE (seconds), UTILISATION (WAD)
    enter: uint256  # the highest level an indicator enters
    hold: uint256  # the highest level an indicator holds (hysteresis band)


governor: public(immutable(IGovernor))
oracle: public(immutable(IOracle))
vol_feed: public(immutable(address))
fund: public(immutable(IFund))
engine: public(immutable(IEngine))

# thresholds[indicator][level - 1]; higher is worse except COVERAGE
thresholds: public(uint256[LEVELS][INDICATORS])
hysteresis: public(uint256)  # WAD band a level holds within
vol_tenor: public(uint256)  # seconds
vol_tau: public(uint256)  # seconds
price_tau: public(uint256)  # seconds
cooldown: public(uint256)  # seconds per level down
oi_capacity: public(uint256)  # option units (WAD) at which UTILISATION is 100%

level: public(uint256)
calm_since: public(uint256)  # the last time an indicator held the level (or it changed)
vol_ema: public(uint256)
price_ema: public(uint256)
unfresh_since: public(uint256)  # the first poke that saw the oracle not FRESH or no vol index (0: fresh)
poked_at: public(uint256)


event Poked:
    level: uint256
    enter: uint256
    hold: uint256
    values: uint256[INDICATORS]

event LevelChanged:
    level: uint256
    previous: uint256

event ThresholdsSet:
    thresholds: uint256[LEVELS][INDICATORS]
    hysteresis: uint256

event TimingSet:
    vol_tenor: uint256
    vol_tau: uint256
    price_tau: uint256
    cooldown: uint256
    oi_capacity: uint256


@deploy
def __init__(governor_: IGovernor, oracle_: IOracle, vol_feed_: address, fund_: IFund, engine_: IEngine):
    ownable.__init__()
    governor = governor_
    oracle = oracle_
    vol_feed = vol_feed_
    fund = fund_
    engine = engine_
    self.hysteresis = 10 ** 17
    self.thresholds = [
        [125 * 10 ** 16, 150 * 10 ** 16, 200 * 10 ** 16],  # VOL: x1.25, x1.5, x2 its trailing level
        [4 * 10 ** 16, 8 * 10 ** 16, 15 * 10 ** 16],  # VELOCITY: 4%, 8%, 15% off its trailing level
        # Book indicators, which any writer with capital moves: level 1 only (new risk pays more),
        # never the levels that raise maintenance (an attacker must not push others under).
        [5 * 10 ** 16, 0, 0],  # COVERAGE: fund below 5% of OI notional
        [300, 3_600, max_value(uint256)],  # ORACLE: not fresh for 5 minutes; for an hour; (never alone safe mode)
        [8 * 10 ** 17, max_value(uint256), max_value(uint256)],  # UTILISATION: 80%
    ]
    self.vol_tenor = 30 * 86_400
    self.vol_tau = 7 * 86_400
    self.price_tau = 3_600
    self.cooldown = 6 * 3_600
    self.oi_capacity = 100_000 * c.WAD


# --- governance -------------------------------------------------------------

@external
def set_thresholds(thresholds_: uint256[LEVELS][INDICATORS], hysteresis_: uint256):
    """
    @notice Owner only (the governor: a registered risk setter): each
            indicator's three thresholds monotone in its worse direction
            (max_value / 0 for a level it never triggers alone), the
            hysteresis band < 50%.
    """
    ownable._check_owner()
    for i: uint256 in range(INDICATORS):
        t: uint256[LEVELS] = thresholds_[i]
        if i == COVERAGE:
            assert t[0] >= t[1] and t[1] >= t[2], "monitor: thresholds not monotone"
        else:
            assert t[0] != 0 and t[0] <= t[1] and t[1] <= t[2], "monitor: thresholds not monotone"
    assert hysteresis_ < HYSTERESIS_MAX, "monitor: hysteresis out of bounds"
    self.thresholds = thresholds_
    self.hysteresis = hysteresis_
    log ThresholdsSet(thresholds=thresholds_, hysteresis=hysteresis_)


@external
def set_timing(vol_tenor_: uint256, vol_tau_: uint256, price_tau_: uint256, cooldown_: uint256, oi_capacity_: uint256):
    """
    @notice Owner only (a registered risk setter): time constants in
            (0, 30 days], cooldown in (0, 7 days] (so the monitor is back at
            baseline within 3 x cooldown of the indicators normalising),
            oi_capacity > 0.
    """
    ownable._check_owner()
    assert vol_tenor_ != 0 and vol_tenor_ <= TAU_MAX, "monitor: tenor out of bounds"
    assert vol_tau_ != 0 and vol_tau_ <= TAU_MAX and price_tau_ != 0 and price_tau_ <= TAU_MAX, "monitor: tau out of bounds"
    assert cooldown_ != 0 and cooldown_ <= COOLDOWN_MAX, "monitor: cooldown out of bounds"
    assert oi_capacity_ != 0, "monitor: zero capacity"
    self.vol_tenor = vol_tenor_
    self.vol_tau = vol_tau_
    self.price_tau = price_tau_
    self.cooldown = cooldown_
    self.oi_capacity = oi_capacity_
    log TimingSet(vol_tenor=vol_tenor_, vol_tau=vol_tau_, price_tau=price_tau_, cooldown=cooldown_, oi_capacity=oi_capacity_)


# --- the monitor ------------------------------------------------------------

@external
def poke() -> uint256:
    """
    @notice Anyone: read the indicators, advance the trailing levels, move
            the level (up at once, down one level per calm cooldown) and,
            when it changed, set it in the governor. Returns the level.
    """
    now: uint256 = block.timestamp
    dt: uint256 = now - self.poked_at
    r: Readings = self._read(dt)
    previous: uint256 = self.level
    new: uint256 = previous
    if r.enter > previous:
        new = r.enter
        self.calm_since = now
    elif r.hold >= previous:
        self.calm_since = now
    elif now >= self.calm_since + self.cooldown:
        new = previous - 1
        self.calm_since = now
    self.poked_at = now
    log Poked(level=new, enter=r.enter, hold=r.hold, values=r.values)
    if new != previous:
        self.level = new
        log LevelChanged(level=new, previous=previous)
        extcall governor.stress(new)
    return new


@view
@external
def readings() -> Readings:
    """
    @notice What `poke` would read now (trailing levels advanced to now,
            not stored).
    """
    return self._evaluate(self._sources())


# --- internals --------------------------------------------------------------

struct Sources:
    price: uint256
    status: uint256
    vol_ok: bool
    vol: uint256


@view
@internal
def _sources() -> Sources:
    s: Sources = empty(Sources)
    s.price, s.status = staticcall oracle.price()
    s.vol_ok, s.vol = self._vol_index()
    return s


@internal
def _read(dt: uint256) -> Readings:
    s: Sources = self._sources()
    r: Readings = self._evaluate(s)
    # Advance the trailing levels after measuring against them.
    if s.vol_ok:
        self.vol_ema = stress._ema(self.vol_ema, s.vol, dt, self.vol_tau)
    if s.price != 0:
        self.price_ema = stress._ema(self.price_ema, s.price, dt, self.price_tau)
    if s.status == STATUS_FRESH and s.vol_ok:
        self.unfresh_since = 0
    elif self.unfresh_since == 0:
        self.unfresh_since = block.timestamp
    return r


@view
@internal
def _evaluate(s: Sources) -> Readings:
    r: Readings = empty(Readings)
    if s.vol_ok and self.vol_ema != 0:
        r.values[VOL] = stress._ratio_up(s.vol, self.vol_ema)
    ema: uint256 = self.price_ema
    if s.price != 0 and ema != 0:
        diff: uint256 = s.price - ema if s.price > ema else ema - s.price
        r.values[VELOCITY] = stress._ratio_up(diff, ema)
    r.values[COVERAGE] = staticcall fund.coverage_of_open_interest()
    if not (s.status == STATUS_FRESH and s.vol_ok) and self.unfresh_since != 0:
        r.values[ORACLE] = block.timestamp - self.unfresh_since
    r.values[UTILISATION] = stress._ratio_up(staticcall engine.total_short_units(), self.oi_capacity)
    h: uint256 = self.hysteresis
    for i: uint256 in range(INDICATORS):
        worse_up: bool = i != COVERAGE
        r.enter = max(r.enter, stress._level(r.values[i], self.thresholds[i], worse_up, h, True))
        r.hold = max(r.hold, stress._level(r.values[i], self.thresholds[i], worse_up, h, False))
    return r


@view
@internal
def _vol_index() -> (bool, uint256):
    """
    @dev The vol feed's index at `vol_tenor`; (False, 0) when it reverts
         (no fresh expiry): counted by the ORACLE indicator.
    """
    ok: bool = False
    res: Bytes[32] = b""
    ok, res = raw_call(vol_feed, abi_encode(self.vol_tenor, method_id=method_id("atm_vol_index(uint256)")), max_outsize=32, is_static_call=True, revert_on_failure=False)
    if not ok or len(res) != 32:
        return False, 0
    return True, convert(res, uint256)
