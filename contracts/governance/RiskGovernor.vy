# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title DSI risk governor: the one owner of every protocol contract
@custom:contract-name RiskGovernor
@license GNU Affero General Public License v3.0 only
@notice After `dsi.protocol.deploy` this contract owns every privileged
        function of every protocol contract, and no key can call one
        directly. Three paths lead through it:

        - `execute` (the timelock only): wiring (liquidator, fund, oracle
          sources, payers, minters, listers, ownership) and anything that
          moves funds (the fund's and the flash lender's withdrawals). Every
          such call has waited the timelock's delay (>= 2 days), was announced
          by the timelock's `CallScheduled` when queued, and could have been
          cancelled by the guardian. A registered risk setter is refused
          here: it goes through `set_risk`.
        - `set_risk` (the timelock only): a registered risk setter whose
          arguments are uint256 words, each checked against its bounds:
          hard limits [lo, hi]; a step bound (|new - approved| <= step per
          update); and a cumulative drift cap per rolling window (the sum of
          |change| over the updates of any `window` seconds, this one
          included, <= cap). The ring of the last MAX_UPDATES updates of
          each word must hold every update of the window, so the cap holds
          for every window, also for updates queued in parallel and executed
          in one block (Aave's risk stewards bound each update only).
          A change that loosens a word (moves it against its solvency
          direction `safer`, or moves a word without one) also needs a
          proof the `gate` (`StressGate`) accepts: a fresh, passing,
          verified stress attestation naming the parameter set the change
          produces (`params_digest_after`). Tightening needs none.
        - the guardian: `tighten` (within hard limits and one step of the
          approved value, only in each word's tighter direction, words
          without a direction unchanged), `switch_on` (a registered risk-reducing call, e.g.
          freeze listing). Neither moves funds or loosens anything, and both
          lapse after GUARDIAN_TTL unless the timelock confirms them: anyone
          can then `lapse` / `switch_off`, restoring the approved values.
          The guardian also holds the timelock's canceller role.
        - the stress monitor (`StressMonitor`): `stress(level)` moves each
          word registered with `register_stress` by its per-level shift for
          each level from the word's first level on, from the APPROVED
          value, only in its tighter direction and within hard limits, and
          turns the switches registered for that level on (safe mode at the
          top). Level 0 restores the approved
          values (or the guardian's, while pending): the monitor relaxes by
          itself, no manual reset. The word applied is the tighter of the
          monitor's and the guardian's (or approved) value, so neither path
          can loosen what the other tightened, and the timelock's
          `set_risk` re-bases the stressed value on the new approved one.

        Bounds are registered once per setter, by the deployer before
        `seal` or by the timelock after it, and never replaced: a
        registration applies its values, so the recorded and the on-chain
        values agree from the start. Governance holds no votes (the council
        is the timelock's proposer set), so there is no voting power to
        borrow in a flash loan (Beanstalk, April 2022).
"""

MAX_WORDS: constant(uint256) = 16  # the Dutch auction: 9 curve words + 5
MAX_UPDATES: constant(uint256) = 8
MAX_STRESSED: constant(uint256) = 8  # setters the monitor moves
MAX_SWITCHES: constant(uint256) = 8
MAX_LEVEL: public(constant(uint256)) = 3
MAX_CALL: constant(uint256) = 1024
MAX_SETTERS: constant(uint256) = 32
MAX_PROOF: constant(uint256) = 4
GUARDIAN_TTL: public(constant(uint256)) = 7 * 86_400

# A word's tighter direction (the guardian may move it only that way).
FIXED: constant(uint256) = 0  # the guardian may not change it
UP: constant(uint256) = 1  # larger is safer (margins, haircuts, a fund's floor)
DOWN: constant(uint256) = 2  # smaller is safer (caps, ages, withdrawal rates)


interface IGate:
    def check(proof: DynArray[bytes32, MAX_PROOF], params_digest: bytes32) -> bool: view


struct Bound:
    lo: uint256
    hi: uint256
    step: uint256  # max |new - approved| per update
    cap: uint256  # max sum of |change| over any `window` seconds
    window: uint256  # seconds, > 0
    tighter: uint256  # the guardian's direction: FIXED, UP or DOWN
    safer: uint256  # the solvency direction: a move against it (any move if FIXED) needs an attestation


struct Shift:
    per_level: uint256  # the monitor's move per stress level from `from_level` on (0: not moved)
    tighter: uint256  # UP or DOWN; the guardian's direction where it has one
    from_level: uint256  # the first level that moves it (1..MAX_LEVEL)


struct Update:
    time: uint256
    delta: uint256


struct Setter:
    target: address
    selector: bytes4
    words: uint256  # 0: not registered
    expires: uint256  # the guardian's tightening lapses then (0: none pending)


struct Switch:
    target: address
    on: Bytes[MAX_CALL]
    off: Bytes[MAX_CALL]
    active: bool  # on by the guardian
    expires: uint256  # max_value: confirmed by the timelock
    level: uint256  # the monitor turns it on at stress >= level (0: never)
    stressed: bool  # on by the monitor


timelock: public(immutable(address))
guardian: public(address)
bootstrapper: public(address)  # the deployer until `seal`, then empty

setters: public(HashMap[bytes32, Setter])  # keccak256(target, selector)
bounds: public(HashMap[bytes32, HashMap[uint256, Bound]])
approved: public(HashMap[bytes32, HashMap[uint256, uint256]])  # the timelock's values
current: public(HashMap[bytes32, HashMap[uint256, uint256]])  # applied (approved or the guardian's)
history: HashMap[bytes32, HashMap[uint256, Update[MAX_UPDATES]]]
head: HashMap[bytes32, HashMap[uint256, uint256]]
switches: public(HashMap[uint256, Switch])
switch_count: public(uint256)
guarded: public(HashMap[bytes32, HashMap[uint256, uint256]])  # the guardian's value + 1 while pending (0: approved)
monitor: public(address)
stress_level: public(uint256)
shifts: public(HashMap[bytes32, HashMap[uint256, Shift]])
stressed: public(DynArray[bytes32, MAX_STRESSED])
keys: public(DynArray[bytes32, MAX_SETTERS])  # the setters in registration order (the params digest's order)
gate: public(address)  # the StressGate that judges a loosening's attestation


event Executed:
    target: indexed(address)
    selector: bytes4
    data: Bytes[MAX_CALL]

event SetterRegistered:
    key: indexed(bytes32)
    target: indexed(address)
    selector: bytes4
    words: uint256

event RiskSet:
    key: indexed(bytes32)
    target: indexed(address)
    data: Bytes[MAX_CALL]

event Tightened:
    key: indexed(bytes32)
    target: indexed(address)
    data: Bytes[MAX_CALL]
    expires: uint256

event Lapsed:
    key: indexed(bytes32)
    target: indexed(address)

event SwitchRegistered:
    id: indexed(uint256)
    target: indexed(address)

event SwitchSet:
    id: indexed(uint256)
    active: bool
    expires: uint256

event StressRegistered:
    key: indexed(bytes32)
    target: indexed(address)

event Stressed:
    level: uint256

event MonitorSet:
    monitor: indexed(address)

event GateSet:
    gate: indexed(address)

event GuardianSet:
    guardian: indexed(address)

event Sealed:
    bootstrapper: indexed(address)


@deploy
def __init__(timelock_: address, guardian_: address):
    assert timelock_ != empty(address) and guardian_ != empty(address), "governor: zero address"
    timelock = timelock_
    self.guardian = guardian_
    self.bootstrapper = msg.sender
    log GuardianSet(guardian=guardian_)


# --- registration -----------------------------------------------------------

@external
def register(target: address, data: Bytes[MAX_CALL], bounds_: DynArray[Bound, MAX_WORDS]):
    """
    @notice The deployer before `seal`, the timelock after: make the setter
            `data` calls on `target` a risk setter with one bound per uint256
            argument word, and apply `data` (its words within the bounds).
            A setter is registered once.
    """
    self._only_registrar()
    n: uint256 = len(bounds_)
    assert n != 0, "governor: no bounds"
    assert len(data) == 4 + 32 * n, "governor: data is not the setter's words"
    selector: bytes4 = convert(slice(data, 0, 4), bytes4)
    key: bytes32 = self._key(target, selector)
    assert self.setters[key].words == 0, "governor: setter already registered"
    for i: uint256 in range(n, bound=MAX_WORDS):
        b: Bound = bounds_[i]
        assert b.lo <= b.hi and b.window != 0 and b.tighter <= DOWN and b.safer <= DOWN, "governor: bad bound"
        assert b.tighter == FIXED or b.safer == b.tighter, "governor: bad bound"
        v: uint256 = self._word(data, i)
        assert v >= b.lo and v <= b.hi, "governor: value out of bounds"
        self.bounds[key][i] = b
        self.approved[key][i] = v
        self.current[key][i] = v
    self.setters[key] = Setter(target=target, selector=selector, words=n, expires=0)
    self.keys.append(key)
    log SetterRegistered(key=key, target=target, selector=selector, words=n)
    self._apply(target, data)


@external
def register_switch(target: address, on: Bytes[MAX_CALL], off: Bytes[MAX_CALL]) -> uint256:
    """
    @notice The deployer before `seal`, the timelock after: a risk-reducing
            call `on` the guardian may make, undone by `off`. Neither may be
            a registered risk setter.
    """
    self._only_registrar()
    assert len(on) >= 4 and len(off) >= 4, "governor: no selector"
    for d: Bytes[MAX_CALL] in [on, off]:
        assert self.setters[self._key(target, convert(slice(d, 0, 4), bytes4))].words == 0, "governor: risk setter: use set_risk"
    id: uint256 = self.switch_count
    assert id < MAX_SWITCHES, "governor: too many switches"
    self.switches[id] = Switch(target=target, on=on, off=off, active=False, expires=0, level=0, stressed=False)
    self.switch_count = id + 1
    log SwitchRegistered(id=id, target=target)
    return id


@external
def register_stress(target: address, selector: bytes4, shifts_: DynArray[Shift, MAX_WORDS]):
    """
    @notice The deployer before `seal`, the timelock after: the monitor may
            move the words of the registered setter (`target`, `selector`),
            (level - from_level + 1) x `per_level` from the approved value
            in `tighter`'s direction once level >= from_level. Where the
            guardian has a direction it must agree. Once per setter.
    """
    self._only_registrar()
    key: bytes32 = self._key(target, selector)
    n: uint256 = self.setters[key].words
    assert n != 0, "governor: not a risk setter"
    assert len(shifts_) == n, "governor: one shift per word"
    assert key not in self.stressed, "governor: stress already registered"
    for i: uint256 in range(n, bound=MAX_WORDS):
        sh: Shift = shifts_[i]
        g: uint256 = self.bounds[key][i].tighter
        if sh.per_level != 0:
            assert sh.tighter == UP or sh.tighter == DOWN, "governor: bad shift"
            assert sh.from_level >= 1 and sh.from_level <= MAX_LEVEL, "governor: bad shift"
            assert g == FIXED or g == sh.tighter, "governor: shift against the guardian's direction"
        self.shifts[key][i] = sh
    self.stressed.append(key)
    log StressRegistered(key=key, target=target)
    if self.stress_level != 0:
        self._reapply(key)


@external
def set_switch_level(id: uint256, level: uint256):
    """
    @notice The deployer before `seal`, the timelock after: the monitor
            turns switch `id` on at stress levels >= `level` (0: never).
    """
    self._only_registrar()
    assert self.switches[id].target != empty(address), "governor: no such switch"
    assert level <= MAX_LEVEL, "governor: level out of range"
    self.switches[id].level = level
    self._stress_switch(id)


@external
def set_monitor(monitor_: address):
    """
    @notice The deployer before `seal`, the timelock after: the stress
            monitor (empty: none). Replacing it resets the stress level to 0.
    """
    self._only_registrar()
    self.monitor = monitor_
    log MonitorSet(monitor=monitor_)
    if self.stress_level != 0:
        self._set_level(0)


@external
def seal():
    """
    @notice The deployer: end bootstrapping. From here only the timelock
            registers.
    """
    assert msg.sender == self.bootstrapper and msg.sender != empty(address), "governor: not bootstrapper"
    self.bootstrapper = empty(address)
    log Sealed(bootstrapper=msg.sender)


# --- the timelock -----------------------------------------------------------

@external
def execute(target: address, data: Bytes[MAX_CALL]):
    """
    @notice The timelock only: call `target` with `data` as its owner
            (wiring, ownership, fund movements). Registered risk setters are
            refused: they go through `set_risk`.
    """
    self._only_timelock()
    assert len(data) >= 4, "governor: no selector"
    selector: bytes4 = convert(slice(data, 0, 4), bytes4)
    assert self.setters[self._key(target, selector)].words == 0, "governor: risk setter: use set_risk"
    log Executed(target=target, selector=selector, data=data)
    self._apply(target, data)


@external
def set_risk(target: address, data: Bytes[MAX_CALL], proof: DynArray[bytes32, MAX_PROOF]):
    """
    @notice The timelock only: a registered risk setter, each word within
            its hard limits, step bound and rolling drift cap (measured from
            the approved value). A change that loosens any word (moves it
            against its solvency direction, or moves a word without one)
            needs `proof`: a fresh, passing stress attestation made with the
            parameter set this change produces (`params_digest_after`), and
            the verifications the gate asks for, judged by the `gate`
            (`StressGate.check`) at execution; tightening ignores `proof`.
            Confirms (replaces) a pending tightening. `check_risk` gives the
            same verdict as a view, before queueing.
    """
    self._only_timelock()
    key: bytes32 = self._checked(target, data, proof)
    for i: uint256 in range(self.setters[key].words, bound=MAX_WORDS):
        v: uint256 = self._word(data, i)
        delta: uint256 = self._diff(v, self.approved[key][i])
        if delta != 0:
            h: uint256 = self.head[key][i]
            self.history[key][i][h] = Update(time=block.timestamp, delta=delta)
            self.head[key][i] = (h + 1) % MAX_UPDATES
        self.approved[key][i] = v
    self.setters[key].expires = 0
    log RiskSet(key=key, target=target, data=data)
    self._reapply(key)


@view
@external
def check_risk(target: address, data: Bytes[MAX_CALL], proof: DynArray[bytes32, MAX_PROOF]) -> bool:
    """
    @notice Whether `set_risk(target, data, proof)` would pass the
            governor's bounds and, for a loosening, its attestation now
            (reverts with the reason otherwise): for proposers before they
            queue, and for anyone before the timelock executes.
    """
    self._checked(target, data, proof)
    return True


@view
@external
def loosens(target: address, data: Bytes[MAX_CALL]) -> bool:
    """
    @notice Whether `set_risk(target, data, ...)` would need an attestation.
    """
    key: bytes32 = self._registered(target, data)
    return self._loosens(key, data)


@view
@external
def params_digest() -> bytes32:
    """
    @notice The digest of the approved parameter set: h_0 = 0, h_k =
            keccak256(h_{k-1}, selector_k, words_k) over the setters in
            registration order (addresses left out, so the lab's deployment
            and a live one with the same parameters agree). A stress
            attestation names it (`dsi.attest.params_digest` is the
            reference).
    """
    return self._digest(empty(bytes32), b"")


@view
@external
def params_digest_after(target: address, data: Bytes[MAX_CALL]) -> bytes32:
    """
    @notice The parameter-set digest once `set_risk(target, data, ...)` has
            run: what the attestation of a loosening must name.
    """
    return self._digest(self._registered(target, data), data)


@view
@external
def setter_count() -> uint256:
    return len(self.keys)


@external
def set_gate(gate_: address):
    """
    @notice The deployer before `seal`, the timelock after: the StressGate
            (empty: none, and then no loosening passes).
    """
    self._only_registrar()
    self.gate = gate_
    log GateSet(gate=gate_)


@external
def set_guardian(guardian_: address):
    """
    @notice The timelock only.
    """
    self._only_timelock()
    assert guardian_ != empty(address), "governor: zero address"
    self.guardian = guardian_
    log GuardianSet(guardian=guardian_)


@external
def confirm_switch(id: uint256):
    """
    @notice The timelock only: keep an active switch on until `switch_off`
            by the timelock.
    """
    self._only_timelock()
    assert self.switches[id].active, "governor: switch not on"
    self.switches[id].expires = max_value(uint256)
    log SwitchSet(id=id, active=True, expires=max_value(uint256))


# --- the guardian -----------------------------------------------------------

@external
def tighten(target: address, data: Bytes[MAX_CALL]):
    """
    @notice The guardian only: a registered risk setter moved only in each
            word's tighter direction (FIXED words unchanged), within hard
            limits and at most one step from the approved value (however
            many times it tightens), at least one word strictly tighter. Lapses after GUARDIAN_TTL unless the
            timelock confirms it with `set_risk`.
    """
    assert msg.sender == self.guardian, "governor: not guardian"
    key: bytes32 = self._registered(target, data)
    n: uint256 = self.setters[key].words
    pending: bool = self.setters[key].expires != 0
    stricter: bool = False
    for i: uint256 in range(n, bound=MAX_WORDS):
        b: Bound = self.bounds[key][i]
        v: uint256 = self._word(data, i)
        a: uint256 = self.approved[key][i]
        cur: uint256 = self._guarded(key, i, pending, a)  # the guardian's own value (not the monitor's)
        if v == cur:
            if not pending and self.guarded[key][i] != 0:
                self.guarded[key][i] = 0  # a lapsed tightening's value: not this one's
            continue
        assert b.tighter != FIXED, "governor: guardian cannot change this"
        assert (b.tighter == UP and v > cur) or (b.tighter == DOWN and v < cur), "governor: guardian only tightens"
        assert v >= b.lo and v <= b.hi, "governor: value out of bounds"
        # From the approved value, not the applied one: repeated tightenings cannot ratchet a
        # word further than one step (an initial margin at 100% would stop every taker).
        assert self._diff(v, a) <= b.step, "governor: step too large"
        self.guarded[key][i] = v + 1  # 0: as approved (v <= hi < max_value)
        stricter = True
    assert stricter, "governor: nothing tightened"
    expires: uint256 = block.timestamp + GUARDIAN_TTL
    self.setters[key].expires = expires
    log Tightened(key=key, target=target, data=data, expires=expires)
    self._reapply(key)


@external
def lapse(target: address, selector: bytes4):
    """
    @notice Anyone, once a guardian tightening has expired unconfirmed:
            re-apply the approved values.
    """
    key: bytes32 = self._key(target, selector)
    s: Setter = self.setters[key]
    assert s.words != 0, "governor: not a risk setter"
    assert s.expires != 0, "governor: nothing to lapse"
    assert block.timestamp >= s.expires, "governor: not expired"
    self.setters[key].expires = 0
    log Lapsed(key=key, target=target)
    self._reapply(key)


@external
def switch_on(id: uint256):
    """
    @notice The guardian only: make switch `id`'s risk-reducing call; it
            lapses after GUARDIAN_TTL unless the timelock confirms it.
    """
    assert msg.sender == self.guardian, "governor: not guardian"
    sw: Switch = self.switches[id]
    assert sw.target != empty(address), "governor: no such switch"
    assert not sw.active, "governor: switch already on"
    expires: uint256 = block.timestamp + GUARDIAN_TTL
    self.switches[id].active = True
    self.switches[id].expires = expires
    log SwitchSet(id=id, active=True, expires=expires)
    if not sw.stressed:
        self._apply(sw.target, sw.on)


@external
def switch_off(id: uint256):
    """
    @notice The timelock at any time; anyone once an unconfirmed switch has
            expired: make its `off` call.
    """
    sw: Switch = self.switches[id]
    assert sw.active, "governor: switch not on"
    if msg.sender != timelock:
        assert block.timestamp >= sw.expires, "governor: not expired"
    self.switches[id].active = False
    self.switches[id].expires = 0
    log SwitchSet(id=id, active=False, expires=0)
    if not sw.stressed:  # the monitor still holds it on
        self._apply(sw.target, sw.off)


# --- the stress monitor -----------------------------------------------------

@external
def stress(level: uint256):
    """
    @notice The stress monitor only: apply stress `level` (0..MAX_LEVEL) to
            every registered stress setter and switch (above).
    """
    assert msg.sender == self.monitor and msg.sender != empty(address), "governor: not monitor"
    assert level <= MAX_LEVEL, "governor: level out of range"
    self._set_level(level)


# --- views ------------------------------------------------------------------

@view
@external
def key(target: address, selector: bytes4) -> bytes32:
    return self._key(target, selector)


@view
@external
def drift(target: address, selector: bytes4, word: uint256) -> uint256:
    """
    @notice The sum of |change| of `word` over the last `window` seconds.
    """
    key: bytes32 = self._key(target, selector)
    return self._drift(key, word, self.bounds[key][word].window)


# --- internals --------------------------------------------------------------

@view
@internal
def _only_timelock():
    assert msg.sender == timelock, "governor: not timelock"


@view
@internal
def _only_registrar():
    if self.bootstrapper != empty(address) and msg.sender == self.bootstrapper:
        return
    assert msg.sender == timelock, "governor: not timelock"


@pure
@internal
def _key(target: address, selector: bytes4) -> bytes32:
    return keccak256(concat(convert(target, bytes20), selector))


@pure
@internal
def _word(data: Bytes[MAX_CALL], i: uint256) -> uint256:
    return extract32(data, 4 + 32 * i, output_type=uint256)


@pure
@internal
def _diff(x: uint256, y: uint256) -> uint256:
    if x > y:
        return x - y
    return y - x


@view
@internal
def _registered(target: address, data: Bytes[MAX_CALL]) -> bytes32:
    assert len(data) >= 4, "governor: no selector"
    key: bytes32 = self._key(target, convert(slice(data, 0, 4), bytes4))
    n: uint256 = self.setters[key].words
    assert n != 0, "governor: not a risk setter"
    assert len(data) == 4 + 32 * n, "governor: data is not the setter's words"
    return key


@view
@internal
def _drift(key: bytes32, i: uint256, window: uint256) -> uint256:
    total: uint256 = 0
    for u: Update in self.history[key][i]:
        if u.time != 0 and u.time + window > block.timestamp:
            total += u.delta
    return total


@view
@internal
def _validate(target: address, data: Bytes[MAX_CALL]) -> bytes32:
    """
    @dev `set_risk`'s checks. Each changed word: hard limits, step from the
         approved value, and the rolling drift: the ring slot this update
         would overwrite has left the window (so the ring holds every update
         of any window) and the drift of the window ending now, this update
         included, is <= cap.
    """
    key: bytes32 = self._registered(target, data)
    for i: uint256 in range(self.setters[key].words, bound=MAX_WORDS):
        b: Bound = self.bounds[key][i]
        v: uint256 = self._word(data, i)
        assert v >= b.lo and v <= b.hi, "governor: value out of bounds"
        delta: uint256 = self._diff(v, self.approved[key][i])
        assert delta <= b.step, "governor: step too large"
        if delta == 0:
            continue
        oldest: Update = self.history[key][i][self.head[key][i]]
        assert oldest.time == 0 or oldest.time + b.window <= block.timestamp, "governor: too many updates in window"
        assert self._drift(key, i, b.window) + delta <= b.cap, "governor: drift cap exceeded"
    return key


@view
@internal
def _loosens(key: bytes32, data: Bytes[MAX_CALL]) -> bool:
    """
    @dev Any word moved against its solvency direction, or moved at all
         when it has none.
    """
    for i: uint256 in range(self.setters[key].words, bound=MAX_WORDS):
        v: uint256 = self._word(data, i)
        a: uint256 = self.approved[key][i]
        if v == a:
            continue
        safer: uint256 = self.bounds[key][i].safer
        if safer == FIXED or (safer == UP and v < a) or (safer == DOWN and v > a):
            return True
    return False


@view
@internal
def _checked(target: address, data: Bytes[MAX_CALL], proof: DynArray[bytes32, MAX_PROOF]) -> bytes32:
    """
    @dev The bounds (`_validate`) and, for a loosening, the gate's verdict
         on `proof` for the parameter set after the change.
    """
    key: bytes32 = self._validate(target, data)
    if self._loosens(key, data):
        assert self.gate != empty(address), "governor: loosening needs an attestation gate"
        assert staticcall IGate(self.gate).check(proof, self._digest(key, data)), "governor: attestation refused"
    return key


@view
@internal
def _digest(key: bytes32, data: Bytes[MAX_CALL]) -> bytes32:
    """
    @dev `params_digest` with setter `key`'s words taken from `data`.
    """
    h: bytes32 = empty(bytes32)
    for k: bytes32 in self.keys:
        s: Setter = self.setters[k]
        words: uint256[MAX_WORDS] = empty(uint256[MAX_WORDS])
        for i: uint256 in range(s.words, bound=MAX_WORDS):
            if k == key:
                words[i] = self._word(data, i)
            else:
                words[i] = self.approved[k][i]
        h = keccak256(concat(h, s.selector, slice(abi_encode(words), 0, 32 * s.words)))
    return h


@view
@internal
def _guarded(key: bytes32, i: uint256, pending: bool, a: uint256) -> uint256:
    """
    @dev The guardian's value of word i while its tightening is pending,
         else the approved value `a`.
    """
    if pending:
        g: uint256 = self.guarded[key][i]
        if g != 0:
            return g - 1
    return a


@view
@internal
def _value(key: bytes32, i: uint256, pending: bool, level: uint256) -> uint256:
    """
    @dev The word to apply: the guardian's value while pending, else the
         approved one; at a level >= the word's from_level, the tighter of
         that and the approved value moved (level - from_level + 1) x
         per_level, clamped to the hard limits.
    """
    a: uint256 = self.approved[key][i]
    base: uint256 = self._guarded(key, i, pending, a)
    if level == 0:
        return base
    sh: Shift = self.shifts[key][i]
    if sh.per_level == 0 or level < sh.from_level:
        return base
    move: uint256 = (level + 1 - sh.from_level) * sh.per_level
    b: Bound = self.bounds[key][i]
    if sh.tighter == UP:
        return max(base, a + min(move, b.hi - a))
    return min(base, a - min(move, a - b.lo))


@internal
def _reapply(key: bytes32):
    """
    @dev Recompute every word of a setter (`_value`), record and apply it.
    """
    s: Setter = self.setters[key]
    pending: bool = s.expires != 0
    level: uint256 = self.stress_level
    words: uint256[MAX_WORDS] = empty(uint256[MAX_WORDS])
    for i: uint256 in range(s.words, bound=MAX_WORDS):
        words[i] = self._value(key, i, pending, level)
        self.current[key][i] = words[i]
    self._apply(s.target, concat(s.selector, slice(abi_encode(words), 0, 32 * s.words)))


@internal
def _set_level(level: uint256):
    if level == self.stress_level:
        return
    self.stress_level = level
    log Stressed(level=level)
    for key: bytes32 in self.stressed:
        self._reapply(key)
    for id: uint256 in range(self.switch_count, bound=MAX_SWITCHES):
        self._stress_switch(id)


@internal
def _stress_switch(id: uint256):
    """
    @dev Turn switch `id` on or off for the monitor at the current level;
         its call is made only when the switch's effective state (on by the
         guardian or by the monitor) changes.
    """
    sw: Switch = self.switches[id]
    want: bool = sw.level != 0 and self.stress_level >= sw.level
    if want == sw.stressed:
        return
    self.switches[id].stressed = want
    if sw.active:
        return
    if want:
        self._apply(sw.target, sw.on)
    else:
        self._apply(sw.target, sw.off)


@internal
def _apply(target: address, data: Bytes[MAX_CALL]):
    """
    @dev The target's revert reason is bubbled up.
    """
    raw_call(target, data)
