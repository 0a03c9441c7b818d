"""The risk governor: the one owner of every protocol contract after `dsi.protocol.deploy`.

`govern(project, protocol)` is the last deployment step (`dsi.protocol.deploy_governed` runs it
after the liquidation layer): it deploys the `Timelock` (snekmate's timelock controller, delay
>= 2 days, the deployer its proposer, anyone its executor, the guardian a canceller) and the
`RiskGovernor`, hands the ownership of every protocol contract to the governor, registers every
risk setter with its bounds (the table below; each registration re-applies the contract's
current values, so the governor's record and the chain agree), registers the guardian's
switches (freeze listing), and seals the governor. From there no key calls a privileged
function: wiring and fund movements wait in the timelock, risk parameters move within bounds
through it, and the guardian can only tighten, for at most 7 days unless the timelock confirms.

Bounds per argument word: hard limits [lo, hi], a step per update, a drift cap per rolling
30-day window (the sum of |change| of all updates in any 30 days), and the guardian's direction
(UP: larger is safer, DOWN: smaller is safer, FIXED: the guardian may not move it). Parameters
that move maintenance requirements (haircuts, maintenance a/b and factor, contingency) are FIXED
for the guardian: raising them would push accounts into liquidation, which is not risk-reducing
for their owners; the guardian raises initial requirements (new risk) and lowers caps instead.
So are the oracle's and the vol feed's ages and deviation bounds, the settlement bounds and the
risk arrays' validity: tightening those turns prices STALE or DEVIANT sooner, and a STALE or
DEVIANT oracle (or a stale vol slice for the taker's check) stops liquidations too.
"""

from __future__ import annotations

from dataclasses import dataclass

WAD = 10**18
DAY = 86_400
WINDOW = 30 * DAY
DELAY = 2 * DAY
MAX_UINT = 2**256 - 1
FIXED, UP, DOWN = 0, 1, 2


@dataclass(frozen=True)
class Word:
    """One argument word's bounds (on-chain units)."""

    lo: int
    hi: int
    step: int
    cap: int
    tighter: int = FIXED
    window: int = WINDOW
    safer: int | None = None  # the solvency direction (None: the guardian's); FIXED: none known

    def as_tuple(self) -> tuple:
        safer = self.tighter if self.safer is None else self.safer
        return (self.lo, self.hi, self.step, self.cap, self.window, self.tighter, safer)


def _w(lo: float, hi: float, step: float, cap: float, tighter: int = FIXED, unit: int = WAD,
       safer: int | None = None) -> Word:
    return Word(int(lo * unit), int(hi * unit), int(step * unit), int(cap * unit), tighter, safer=safer)


def _relative(value: int, tighter: int = FIXED) -> Word:
    """Bounds for a parameter without a table entry: within [value / 4, 4 x value], at most 25% of
    the value per update and 50% per window; a zero value is bounded by the contract only."""
    if value == 0:
        return Word(0, MAX_UINT, MAX_UINT, MAX_UINT, tighter)
    return Word(value // 4, value * 4, max(value // 4, 1), max(value // 2, 1), tighter)


# (contract attribute, setter, getter of the current words, word bounds or None for _relative)
def risk_setters(protocol) -> list[tuple]:
    """Every risk setter of the deployed protocol with its current words and bounds."""
    p = protocol
    model, oracle = p.model, p.oracle
    im, mm = model.im_params(), model.mm_params()
    oi_cap = p.engine.open_interest_cap()
    out = [
        ("model", "set_haircuts", [model.usd_haircut(), model.weth_haircut()],
         [_w(0, 0.5, 0.02, 0.05, safer=UP), _w(0.05, 0.5, 0.05, 0.10, safer=UP)]),
        ("model", "set_standard_params", [im[0], im[1], mm[0], mm[1]],
         [_w(0.05, 1, 0.05, 0.10, UP), _w(0.02, 1, 0.05, 0.10, UP), _w(0.02, 1, 0.025, 0.05, safer=UP),
          _w(0.01, 1, 0.025, 0.05, safer=UP)]),
        ("model", "set_portfolio_factors", [model.im_factor(), model.mm_factor(), model.contingency()],
         [_w(1, 3, 0.2, 0.5, UP), _w(1, 3, 0.1, 0.25, safer=UP), _w(0, 0.05, 0.005, 0.01, safer=UP)]),
        # The OI cap: at most x1.25 per update and x1.5 per window of the value at deployment.
        ("engine", "set_open_interest_cap", [oi_cap],
         [Word(WAD, max(oi_cap * 4, WAD), max(oi_cap // 4, 1), max(oi_cap // 2, 1), DOWN)]),
        ("oracle", "set_parameters", [oracle.max_age(), oracle.max_deviation(), oracle.max_spot_deviation(),
                                      oracle.twap_window()],
         [Word(60, DAY, 1_800, 3_600), _w(0.005, 0.5, 0.02, 0.05), _w(0.005, 0.5, 0.02, 0.05),
          Word(60, DAY, 1_800, 3_600)]),
        ("oracle", "set_settlement_parameters", [oracle.settlement_deviation(), oracle.settlement_delay()],
         [_w(0.005, 0.1, 0.01, 0.02), Word(3_600, 7 * DAY, 6 * 3_600, DAY)]),
        ("twap", "set_min_spacing", [p.twap.min_spacing()], [Word(1, 3_600, 300, 600)]),
        ("vol_feed", "set_max_age", [p.vol_feed.max_age()], [Word(3_600, 7 * DAY, DAY, 2 * DAY)]),
        ("risk_arrays", "set_validity", [p.risk_arrays.drift_tolerance(), p.risk_arrays.max_age()],
         [_w(0.001, 0.1, 0.01, 0.02), Word(60, DAY, 1_800, 3_600)]),
        ("series", "set_parameters", [p.series.max_tenor(), p.series.min_strike_ratio(), p.series.max_strike_ratio(),
                                      p.series.min_size()],
         [Word(DAY, 730 * DAY, 90 * DAY, 180 * DAY, DOWN), _w(0.01, 1, 0.1, 0.2, UP), _w(1, 100, 0.5, 1, DOWN),
          Word(10**12, WAD, 10**17, 2 * 10**17)]),
        ("pool", "set_fee", [p.pool.fee_bps()], [Word(0, 1_000, 10, 30)]),
        ("lender", "set_fee", [p.lender.fee_bps()], [Word(0, 1_000, 10, 30)]),
    ]
    if "insurance_fund" in p.extra:
        fund = p.insurance_fund
        out.append(("insurance_fund", "set_limits", [fund.floor_ratio(), fund.withdraw_rate()],
                    [_w(0, 1, 0.01, 0.02, UP), _w(0, 0.5, 0.05, 0.10, DOWN)]))
        reserve = [fund.reserve_base_gas(), fund.reserve_position_gas(), fund.reserve_gas_price()]
        out.append(("insurance_fund", "set_reserve", reserve, [_relative(v) for v in reserve]))
    if "liquidator" in p.extra:
        from dsi.protocol import MECHANISM_PARAMS, liquidation_params

        current = liquidation_params(p.liquidator, p.mechanism)
        words = [current[name] for name in MECHANISM_PARAMS[p.mechanism]]
        out.append(("liquidator", "set_parameters", words, [_relative(v) for v in words]))
    if "monitor" in p.extra:
        out += monitor_setters(p.monitor)
    return out


def _threshold_bounds(value: int, lo: int, hi: int, step: int) -> Word:
    """A monitor threshold: within [lo, hi], `step` per update, 2 steps per window; one at
    max_value (a level the indicator never triggers alone) may move anywhere above `lo`."""
    if value == MAX_UINT:
        return Word(lo, MAX_UINT, MAX_UINT, MAX_UINT)
    return Word(lo, hi, step, 2 * step)


# Per indicator of the StressMonitor (VOL, VELOCITY, COVERAGE, ORACLE, UTILISATION): the hard
# limits and step of its thresholds (on-chain units: WAD ratios, seconds for ORACLE).
MONITOR_THRESHOLD_BOUNDS = (
    (int(1.05 * WAD), 10 * WAD, WAD // 4),
    (WAD // 100, WAD, 2 * WAD // 100),
    (0, WAD, WAD // 100),
    (1, 7 * DAY, 1_800),
    (WAD // 10, 10 * WAD, WAD // 10),
)


def monitor_setters(monitor) -> list[tuple]:
    """The stress monitor's risk setters (thresholds + hysteresis: 16 words; timing: 5). All
    FIXED for the guardian: a more sensitive monitor raises maintenance, which is not
    risk-reducing for the accounts it pushes under."""
    thresholds = [monitor.thresholds(i, j) for i in range(5) for j in range(3)]
    bounds = [_threshold_bounds(v, *MONITOR_THRESHOLD_BOUNDS[k // 3]) for k, v in enumerate(thresholds)]
    timing = [monitor.vol_tenor(), monitor.vol_tau(), monitor.price_tau(), monitor.cooldown(), monitor.oi_capacity()]
    return [
        ("monitor", "set_thresholds", thresholds + [monitor.hysteresis()], bounds + [_w(0, 0.45, 0.05, 0.10)]),
        ("monitor", "set_timing", timing,
         [Word(DAY, 30 * DAY, 7 * DAY, 14 * DAY), Word(3_600, 30 * DAY, 3 * DAY, 6 * DAY),
          Word(60, DAY, 1_800, 3_600), Word(600, 7 * DAY, 6 * 3_600, 12 * 3_600), _relative(timing[4])]),
    ]


# The stress table: per registered setter, each word's (move per stress level, direction, first
# level that moves it), on-chain units; the governor clamps to hard limits. Initial margin and
# the portfolio's initial factor rise from level 1, by ~17% / 8% per level (new risk pays
# first); maintenance only from level 2, which only the market indicators reach (vol, price
# velocity, a persistent oracle fault; the book indicators any writer can move stop at level
# 1), by ~13% / 15% of mm.a / mm.b per level: accounts deleverage before the crash deepens, in
# steps small enough that no level change alone liquidates a healthy account by much. The OI
# cap falls by a quarter per level; the liquidation penalty or starting discount rises by one
# point per level (keepers clear sooner). Words not listed are not moved. The OI cap's and the
# liquidator's shifts depend on the deployment (`stress_shifts`).
STRESS_TABLE = {
    ("model", "set_standard_params"): [(WAD // 40, UP, 1), (WAD // 50, UP, 1), (WAD // 100, UP, 2),
                                       (75 * WAD // 10_000, UP, 2)],
    ("model", "set_portfolio_factors"): [(WAD // 10, UP, 1), (75 * WAD // 1_000, UP, 2), (0, FIXED, 1)],
}
LIQUIDATOR_STRESS = {"fixed": "penalty", "dynamic": "base", "dutch": "start_discount"}  # + 1 point per level
SAFE_MODE_LEVEL = 3  # the monitor's top level: safe mode and frozen listing


def stress_shifts(protocol) -> list[tuple]:
    """(contract attribute, setter, shifts) of every setter the monitor moves."""
    p = protocol
    out = [(name, method, shifts) for (name, method), shifts in STRESS_TABLE.items()]
    out.append(("engine", "set_open_interest_cap", [(max(p.engine.open_interest_cap() // 4, 1), DOWN, 1)]))
    if "liquidator" in p.extra:
        from dsi.protocol import MECHANISM_PARAMS

        names = MECHANISM_PARAMS[p.mechanism]
        moved = LIQUIDATOR_STRESS[p.mechanism]
        out.append(("liquidator", "set_parameters",
                    [(WAD // 100, UP, 1) if n == moved else (0, FIXED, 1) for n in names]))
    return out


# Setters with struct arguments: the number of words of each argument (a struct of k words is
# passed as a k-tuple); every other setter takes one word per argument.
SHAPES = {"set_standard_params": (2, 2)}
NESTED = {"set_thresholds": (5, 3)}  # a uint256[3][5] argument, then the remaining words


def call_data(contract, method: str, words: list[int]) -> bytes:
    """The calldata of `contract.method` for a setter whose arguments are uint256 words (static
    structs flattened: `set_standard_params`, the Dutch auction's curve)."""
    if method in NESTED:
        rows, cols = NESTED[method]
        n = rows * cols
        grid = [list(words[r * cols:(r + 1) * cols]) for r in range(rows)]
        return bytes(getattr(contract, method).encode_input(grid, *words[n:]))
    shape = SHAPES.get(method)
    if method == "set_parameters" and len(words) == 14:  # DutchAuction: the 9-word curve, then 5
        shape = (9, 1, 1, 1, 1, 1)
    args, i = [], 0
    for k in shape or (1,) * len(words):
        args.append(tuple(words[i:i + k]) if k > 1 else words[i])
        i += k
    return bytes(getattr(contract, method).encode_input(*args))


# The contracts the governor owns: every ownable protocol contract (the collateral tokens are the
# lab's stand-ins for USDC and WETH, not protocol contracts, and keep their minter).
OWNED = ("pool", "lender", "twap", "feed", "oracle", "option_token", "series", "vol_feed", "risk_arrays", "model",
         "engine", "liquidator", "insurance_fund", "monitor", "gate")

# A loosening's stress attestation: at most this old when the timelock executes the change (the
# delay is 2 days, so a fresh run has 5 days to be queued), and this many independent
# verifications (re-runs by other approved attesters that got the same report digest).
ATTESTATION_MAX_AGE = 7 * DAY
VERIFIERS = 1


def govern(project, protocol, guardian=None, delay: int = DELAY, monitor: bool = True, registry=None,
           attesters=(), max_age: int = ATTESTATION_MAX_AGE, verifiers: int = VERIFIERS):
    """Deploy the timelock and the governor and hand every protocol contract to them (above).
    With the liquidation layer and `monitor`, also the `StressMonitor` with the stress table
    (`STRESS_TABLE`) and the switches it turns on at its top level (safe mode, frozen listing).
    The `StressGate` judges the attestation a loosening needs: it reads `registry` (an
    `AttestationRegistry` address; None deploys one) and trusts `attesters` (none by default:
    nothing loosens until the timelock approves an attester). Sets `protocol.timelock`,
    `protocol.governor`, `protocol.registry`, `protocol.gate`, `protocol.monitor` (when deployed),
    `protocol.switches` (name -> id); returns it."""
    p = protocol
    d = p.deployer
    guardian = guardian if guardian is not None else p.accounts.get("guardian", d)
    timelock = project.Timelock.deploy(delay, [_address(d)], ["0x" + "00" * 20], _address(guardian), sender=d)
    governor = project.RiskGovernor.deploy(timelock.address, _address(guardian), sender=d)
    if monitor and "insurance_fund" in p.extra:
        p.extra["monitor"] = project.StressMonitor.deploy(governor.address, p.oracle.address, p.vol_feed.address,
                                                          p.insurance_fund.address, p.engine.address, sender=d)
    registry = (project.AttestationRegistry.deploy(sender=d) if registry is None
                else project.AttestationRegistry.at(_address(registry)))
    gate = project.StressGate.deploy(registry.address, max_age, verifiers, sender=d)
    for a in attesters:
        gate.set_attester(_address(a), True, sender=d)
    p.extra.update(registry=registry, gate=gate)
    governor.set_gate(gate.address, sender=d)
    owned = [name for name in OWNED if getattr(p, name, None) is not None]
    for name in owned:
        getattr(p, name).transfer_ownership(governor.address, sender=d)
    selectors = {}
    for name, method, words, bounds in risk_setters(p):
        contract = getattr(p, name)
        data = call_data(contract, method, words)
        selectors[(name, method)] = data[:4]
        governor.register(contract.address, data, [b.as_tuple() for b in bounds], sender=d)
    switches = {}
    lister_on = p.series.set_lister.encode_input(_address(d), True)
    lister_off = p.series.set_lister.encode_input(_address(d), False)
    governor.register_switch(p.series.address, lister_off, lister_on, sender=d)
    switches["freeze_listing"] = governor.switch_count() - 1
    if "engine" in p.extra:
        governor.register_switch(p.engine.address, p.engine.set_safe_mode.encode_input(True),
                                 p.engine.set_safe_mode.encode_input(False), sender=d)
        switches["safe_mode"] = governor.switch_count() - 1
    if "monitor" in p.extra:
        for name, method, shifts in stress_shifts(p):
            contract = getattr(p, name)
            governor.register_stress(contract.address, selectors[(name, method)], list(shifts), sender=d)
        for name in ("safe_mode", "freeze_listing"):
            governor.set_switch_level(switches[name], SAFE_MODE_LEVEL, sender=d)
        governor.set_monitor(p.monitor.address, sender=d)
    governor.seal(sender=d)
    p.extra.update(timelock=timelock, governor=governor, switches=switches, governed=owned)
    return p


def _address(x) -> str:
    return getattr(x, "address", x)


class Council:
    """The timelock's proposer, as a lab agent: schedule, wait the delay, execute.

    `through_timelock(target, data)` schedules the governor call (`execute` for wiring,
    `set_risk` for a registered risk setter), mines past the delay and executes it; `schedule`
    alone returns the operation id (what the guardian can `cancel`)."""

    def __init__(self, protocol, chain, proposer=None):
        self.p = protocol
        self.chain = chain
        self.proposer = proposer if proposer is not None else protocol.deployer
        self._salt = 0

    def _governor_call(self, target, data: bytes, risk: bool, proof=()) -> bytes:
        g = self.p.governor
        if risk:
            return g.set_risk.encode_input(_address(target), data, list(proof))
        return g.execute.encode_input(_address(target), data)

    def schedule(self, target, data: bytes, risk: bool = False, proof=()) -> tuple[bytes, bytes]:
        t = self.p.timelock
        payload = self._governor_call(target, data, risk, proof)
        self._salt += 1
        salt = self._salt.to_bytes(32, "big")
        t.schedule(self.p.governor.address, 0, payload, b"\x00" * 32, salt, t.get_minimum_delay(),
                   sender=self.proposer)
        return payload, salt

    def execute(self, payload: bytes, salt: bytes, sender=None):
        t = self.p.timelock
        return t.execute(self.p.governor.address, 0, payload, b"\x00" * 32, salt, sender=sender or self.proposer)

    def op_id(self, payload: bytes, salt: bytes) -> bytes:
        return self.p.timelock.hash_operation(self.p.governor.address, 0, payload, b"\x00" * 32, salt)

    def through_timelock(self, target, data: bytes, risk: bool = False, proof=()):
        if risk:  # the governor's reason, before queueing
            self.p.governor.check_risk(_address(target), data, list(proof))
        payload, salt = self.schedule(target, data, risk, proof)
        self.chain.mine(deltatime=self.p.timelock.get_minimum_delay() + 1)
        return self.execute(payload, salt)

    def set_risk(self, contract, method: str, *words, proof=()):
        """A risk setter through the timelock; a loosening needs `proof` (attestation uids)."""
        return self.through_timelock(contract, call_data(contract, method, list(words)), risk=True, proof=proof)

    def wire(self, contract, method: str, *args):
        return self.through_timelock(contract, getattr(contract, method).encode_input(*args))
