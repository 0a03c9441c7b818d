# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title DSI protocol oracle: the one price the protocol consumes
@custom:contract-name ProtocolOracle
@license GNU Affero General Public License v3.0 only
@notice Combines a pushed feed (primary), the pool TWAP (secondary) and the
        pool spot (a cross-check only, never a price) into one WAD USD price
        with an explicit status, and fixes settlement prices at expiry.

        Statuses (`STATUS_*`) and the price each one returns:
        - FRESH (0): the feed is fresh (younger than `max_age`) and agrees
          with the TWAP within `max_deviation`, or disagrees with the TWAP
          but agrees with spot (the market gapped; two independent sources
          agree). Price: the feed. When spot is more than
          `max_spot_deviation` off the TWAP, the feed must also confirm spot
          within `max_spot_deviation` (a fast market: both moved).
        - STALE (1): the feed is stale or broken and the TWAP is unavailable.
          Price: the last good price.
        - DEVIANT (2): a source disagrees: the feed with both TWAP and spot
          (a bad print, e.g. Coinbase DAI 2020: price = the last good price,
          the print is rejected), or spot with the TWAP by more than
          `max_spot_deviation` while the feed does not confirm spot within
          it (a pump: spot moved alone; price = the feed), or, with the
          feed stale, spot with the TWAP (price = the TWAP).
        - FALLBACK (3): the feed is stale or broken, the TWAP is available
          and agrees with spot. Price: the TWAP.
        - FROZEN (4): the owner froze the oracle. Price: the last good price.
        Risk-increasing actions elsewhere (open a short, withdraw, American
        exercise) must require FRESH; liquidations may accept FRESH and
        FALLBACK. The order primary -> secondary -> last good price follows
        Liquity's PriceFeed; every status change and source switch is an
        event (emitted by `poke`, which also records the last good price).

        Settlement (one price per expiry, fixed once, never changed):
        only expiries the series registry registered at listing
        (`register_expiry`) settle. Two independent readings:
        - the feed at expiry: the round in effect at `expiry` if it was
          younger than `max_age` then, else the first round within
          `max_age` after it (found by binary search over the feed's
          rounds);
        - the pool reference: the median of `SETTLEMENT_PARTS` (30)
          sub-window TWAPs over the `settlement_window` ending at expiry
          (`TwapOracle.median_twap`), recorded by the first `poke` (or
          `checkpoint`, or `settle`) after expiry while the ring still
          covers the window (the ring holds ~3.4 h at 12 s spacing), and
          never recomputed.
        If both exist and agree within `settlement_deviation` (2%), the
        price is the feed's: a pool pump can at most defer settlement,
        never move it, and a bad feed print is caught by the pool. Else
        settlement is deferred (`settle` returns 0, `SettlementDeferred`)
        until `settlement_delay` (6 h) after expiry, then fixed at the
        median of the readings that exist among: the feed at expiry, the
        pool reference, and the feed at expiry + settlement_window (a
        witness read half an hour later; the mean of the two for two
        readings). One manipulated source is outvoted by the other two,
        and the price lies between the two honest readings. When no
        reading exists at all (the feed was dead around expiry and nothing
        was recorded), the first feed round after expiry is used, however
        late: an expiry always settles once the feed reports again.
        Why not the TWAP alone: an arithmetic TWAP is moved by
        (r - 1) x blocktime / window by one block at r x spot (x100 in the
        last block: +66%, found by an outside review).

        TWAP cache: `poke` stores the TWAP it computed with its timestamp
        (one packed slot); reads within `TWAP_CACHE_TTL` (60 s) of that use
        it instead of the ring-buffer search (~26k gas at 1,024
        observations), later reads compute it live. A cached TWAP over a
        window W lags the live one by at most TTL / W of the distance
        between the price and the TWAP (3.3% of it for the default 30 min
        window): both deviation checks keep their meaning, and spot and
        feed are always read live, so a pump still shows at once. Changing
        the TWAP window drops the cache.

        Parameters have hard bounds: max_age 60 s .. 1 day, deviations
        0.5% .. 50%, TWAP window 60 s .. 1 day, settlement deviation
        0.5% .. 10%, settlement delay 1 h .. 7 days.
"""

from . import IPriceFeed
from . import ITwapOracle
from ..market import ISpotPool

from snekmate.auth import ownable
initializes: ownable
# @dev The owner sets bounded parameters and may freeze the oracle.

exports: (ownable.owner, ownable.transfer_ownership)

STATUS_FRESH: constant(uint256) = 0
STATUS_STALE: constant(uint256) = 1
STATUS_DEVIANT: constant(uint256) = 2
STATUS_FALLBACK: constant(uint256) = 3
STATUS_FROZEN: constant(uint256) = 4

SOURCE_NONE: constant(uint256) = 0
SOURCE_FEED: constant(uint256) = 1
SOURCE_TWAP: constant(uint256) = 2
SOURCE_LAST_GOOD: constant(uint256) = 3

WAD: constant(uint256) = 10 ** 18
MAX_AGE_MIN: constant(uint256) = 60
MAX_AGE_MAX: constant(uint256) = 86_400
DEVIATION_MIN: constant(uint256) = 5 * 10 ** 15  # 0.5%
DEVIATION_MAX: constant(uint256) = 5 * 10 ** 17  # 50%
WINDOW_MIN: constant(uint256) = 60
WINDOW_MAX: constant(uint256) = 86_400
TWAP_CACHE_TTL: constant(uint256) = 60
TIME_MASK: constant(uint256) = 2 ** 64 - 1
SETTLEMENT_PARTS: constant(uint256) = 30
SETTLE_DEVIATION_MAX: constant(uint256) = 10 ** 17  # 10%
SETTLE_DELAY_MIN: constant(uint256) = 3_600
SETTLE_DELAY_MAX: constant(uint256) = 7 * 86_400
MAX_EXPIRIES: constant(uint256) = 256  # bound of the walk that keeps registered expiries sorted
FEED_SEARCH: constant(uint256) = 64  # binary-search steps over the feed's rounds
# How a settlement price was fixed (`Settled.rule`).
RULE_AGREED: constant(uint256) = 1
RULE_MEDIAN: constant(uint256) = 2
RULE_LATE_FEED: constant(uint256) = 3
# `config` layout: frozen bit 0, max_age bits 1-32, twap_window bits 33-64,
# max_deviation bits 65-128, max_spot_deviation bits 129-192.
U32: constant(uint256) = 2 ** 32 - 1
U64: constant(uint256) = 2 ** 64 - 1


struct Reading:
    price: uint256
    status: uint256
    source: uint256
    as_of: uint256  # timestamp of the data behind the price


feed: public(immutable(IPriceFeed))
twap_oracle: public(immutable(ITwapOracle))
pool: public(immutable(ISpotPool))
settlement_window: public(immutable(uint256))

config: uint256  # packed parameters, one SLOAD per read; getters below

last_good_price: public(uint256)
last_good_at: public(uint256)
last_status: public(uint256)
last_source: public(uint256)
settlement_price: public(HashMap[uint256, uint256])
twap_cache: uint256  # (TWAP << 64) | time it was computed; 0 = none

registry: public(address)  # the series registry: registers expiries; set once
is_expiry: public(HashMap[uint256, bool])
# @dev Registered expiries not yet checkpointed, sorted: a linked list from
#      `next_checkpoint` through `_next_expiry`; `poke` records the head once due.
next_checkpoint: public(uint256)
_next_expiry: HashMap[uint256, uint256]
pool_reference: public(HashMap[uint256, uint256])  # median sub-window TWAP at expiry; 0: unavailable
checkpointed_at: public(HashMap[uint256, uint256])  # when it was recorded; 0: not yet
settlement_deviation: public(uint256)  # WAD: feed vs pool reference agreement bound
settlement_delay: public(uint256)  # seconds after expiry before a disagreement settles by median


event StatusChanged:
    old_status: uint256
    new_status: uint256
    price: uint256


event SourceSwitched:
    old_source: uint256
    new_source: uint256


event ParametersSet:
    max_age: uint256
    max_deviation: uint256
    max_spot_deviation: uint256
    twap_window: uint256


event Frozen:
    frozen: bool


event Settled:
    expiry: indexed(uint256)
    price: uint256
    feed_price: uint256
    pool_reference: uint256
    rule: uint256


event SettlementDeferred:
    expiry: indexed(uint256)
    feed_price: uint256
    pool_reference: uint256


event Checkpointed:
    expiry: indexed(uint256)
    pool_reference: uint256


event ExpiryRegistered:
    expiry: indexed(uint256)


event RegistrySet:
    registry: address


event SettlementParametersSet:
    deviation: uint256
    delay: uint256


@deploy
def __init__(feed_: IPriceFeed, twap_oracle_: ITwapOracle, settlement_window_: uint256, max_age_: uint256, max_deviation_: uint256, max_spot_deviation_: uint256, twap_window_: uint256):
    ownable.__init__()
    assert feed_.address != empty(address), "oracle: zero feed"
    assert twap_oracle_.address != empty(address), "oracle: zero twap"
    assert settlement_window_ >= WINDOW_MIN and settlement_window_ <= WINDOW_MAX, "oracle: window out of bounds"
    feed = feed_
    twap_oracle = twap_oracle_
    pool = ISpotPool(staticcall twap_oracle_.pool())
    settlement_window = settlement_window_
    self._set_parameters(max_age_, max_deviation_, max_spot_deviation_, twap_window_)
    self._set_settlement_parameters(2 * 10 ** 16, 6 * 3_600)
    self.last_status = STATUS_STALE


@external
def set_registry(registry_: address):
    """
    @notice Owner only, once: the series registry, the one caller of
            `register_expiry`.
    """
    ownable._check_owner()
    assert self.registry == empty(address), "oracle: registry already set"
    assert registry_ != empty(address), "oracle: zero registry"
    self.registry = registry_
    log RegistrySet(registry=registry_)


@external
def set_settlement_parameters(deviation: uint256, delay: uint256):
    """
    @notice Owner only: the feed-vs-pool agreement bound (WAD, 0.5% ..
            10%) and the delay after expiry before a disagreement settles
            by median (1 h .. 7 days). Applies to expiries not yet settled.
    """
    ownable._check_owner()
    self._set_settlement_parameters(deviation, delay)


@external
def register_expiry(expiry: uint256):
    """
    @notice Registry only: `expiry` is used by a listed series and may
            settle. Idempotent. Keeps the not-yet-checkpointed expiries
            sorted (a walk over at most 256 of them).
    """
    assert msg.sender == self.registry, "oracle: not registry"
    assert expiry > block.timestamp, "oracle: expiry passed"
    if self.is_expiry[expiry]:
        return
    self.is_expiry[expiry] = True
    head: uint256 = self.next_checkpoint
    if head == 0 or expiry < head:
        self._next_expiry[expiry] = head
        self.next_checkpoint = expiry
    else:
        prev: uint256 = head
        for _: uint256 in range(MAX_EXPIRIES):
            nxt: uint256 = self._next_expiry[prev]
            if nxt == 0 or nxt > expiry:
                break
            prev = nxt
        assert self._next_expiry[prev] == 0 or self._next_expiry[prev] > expiry, "oracle: too many expiries"
        self._next_expiry[expiry] = self._next_expiry[prev]
        self._next_expiry[prev] = expiry
    log ExpiryRegistered(expiry=expiry)


@external
def checkpoint(expiry: uint256) -> uint256:
    """
    @notice Record the pool reference of a registered, passed expiry now
            (once; `poke` does it for the earliest due expiry). Anyone.
    @return uint256 The recorded reference (0: the ring no longer covered
            the window; settlement then rests on the feed readings).
    """
    assert self.is_expiry[expiry], "oracle: unknown expiry"
    assert block.timestamp >= expiry, "oracle: not expired"
    extcall twap_oracle.update()
    self._checkpoint(expiry)
    return self.pool_reference[expiry]


@external
def set_parameters(max_age_: uint256, max_deviation_: uint256, max_spot_deviation_: uint256, twap_window_: uint256):
    """
    @notice Owner only: staleness and deviation limits, within hard bounds.
    """
    ownable._check_owner()
    self._set_parameters(max_age_, max_deviation_, max_spot_deviation_, twap_window_)


@external
def set_frozen(frozen_: bool):
    """
    @notice Owner only: freeze (status FROZEN, last good price) or unfreeze.
    """
    ownable._check_owner()
    cfg: uint256 = self.config
    self.config = (cfg & ~1) | convert(frozen_, uint256)
    log Frozen(frozen=frozen_)


@external
def poke() -> (uint256, uint256):
    """
    @notice Evaluate the sources now, record the last good price (on FRESH
            or FALLBACK), emit status changes and source switches, and write
            a TWAP observation if one is due. Anyone may call.
    @return (uint256, uint256) (price, status).
    """
    extcall twap_oracle.update()
    head: uint256 = self.next_checkpoint
    if head != 0 and head <= block.timestamp:
        self._checkpoint(head)
    ok: bool = False
    twap: uint256 = 0
    ok, twap = staticcall twap_oracle.try_twap((self.config >> 33) & U32)
    if ok and twap != 0 and twap < 2 ** 192:
        self.twap_cache = (twap << 64) | block.timestamp
    else:
        self.twap_cache = 0
    r: Reading = self._read()
    if r.status == STATUS_FRESH or r.status == STATUS_FALLBACK:
        self.last_good_price = r.price
        self.last_good_at = r.as_of
    if r.status != self.last_status:
        log StatusChanged(old_status=self.last_status, new_status=r.status, price=r.price)
        self.last_status = r.status
    if r.source != self.last_source:
        log SourceSwitched(old_source=self.last_source, new_source=r.source)
        self.last_source = r.source
    return r.price, r.status


@view
@external
def price() -> (uint256, uint256):
    """
    @notice (price, status) now, without writing state. Reverts only when
            no price has ever been good and the sources give none.
    """
    r: Reading = self._read()
    return r.price, r.status


@view
@external
def reading() -> Reading:
    """
    @notice The full evaluation: price, status, source, and as-of time.
    """
    return self._read()


@view
@external
def latency() -> uint256:
    """
    @notice Seconds since the data behind the current price (the "oracle
            latency" metric): feed age when FRESH, 0 on the TWAP, and the
            age of the last good price otherwise.
    """
    r: Reading = self._read()
    return block.timestamp - r.as_of


@view
@external
def max_age() -> uint256:
    """
    @notice Seconds after which the feed is stale.
    """
    return (self.config >> 1) & U32


@view
@external
def twap_window() -> uint256:
    """
    @notice Seconds of the TWAP the feed and spot are checked against.
    """
    return (self.config >> 33) & U32


@view
@external
def max_deviation() -> uint256:
    """
    @notice Largest feed-vs-TWAP / feed-vs-spot disagreement (WAD).
    """
    return (self.config >> 65) & U64


@view
@external
def max_spot_deviation() -> uint256:
    """
    @notice Largest spot-vs-TWAP disagreement before DEVIANT (WAD).
    """
    return (self.config >> 129) & U64


@view
@external
def frozen() -> bool:
    return self.config & 1 != 0


@view
@external
def cached_twap() -> (uint256, uint256):
    """
    @notice (TWAP, time computed) stored by the last `poke`; (0, 0) when
            none. Reads use it for `TWAP_CACHE_TTL` seconds.
    """
    cache: uint256 = self.twap_cache
    return cache >> 64, cache & TIME_MASK


@external
def settle(expiry: uint256) -> uint256:
    """
    @notice Fix the settlement price of a registered expiry (see the
            contract notice): the feed's price at expiry when the pool
            reference agrees, else, from `settlement_delay` after expiry,
            the median of the readings. Returns 0 and changes nothing but
            the checkpoint while deferred. Once fixed it never changes;
            later calls return it. Anyone may call.
    """
    fixed: uint256 = self.settlement_price[expiry]
    if fixed != 0:
        return fixed
    assert self.is_expiry[expiry], "oracle: unknown expiry"
    assert block.timestamp >= expiry, "oracle: not expired"
    extcall twap_oracle.update()
    if self.checkpointed_at[expiry] == 0:
        self._checkpoint(expiry)
    ref: uint256 = self.pool_reference[expiry]
    f: uint256 = self._feed_at(expiry, False)
    price: uint256 = 0
    rule: uint256 = 0
    if f != 0 and ref != 0 and not self._deviates(f, ref, self.settlement_deviation):
        price = f
        rule = RULE_AGREED
    elif block.timestamp >= expiry + self.settlement_delay:
        g: uint256 = self._feed_at(expiry + settlement_window, False)
        price = self._median3(f, ref, g)
        rule = RULE_MEDIAN
        if price == 0:
            price = self._feed_at(expiry, True)
            rule = RULE_LATE_FEED
    if price == 0:
        log SettlementDeferred(expiry=expiry, feed_price=f, pool_reference=ref)
        return 0
    self.settlement_price[expiry] = price
    log Settled(expiry=expiry, price=price, feed_price=f, pool_reference=ref, rule=rule)
    return price


@view
@external
def feed_price_at(t: uint256) -> uint256:
    """
    @notice The feed reading settlement uses for time `t`: the round in
            effect at `t` if younger than `max_age` then, else the first
            round within `max_age` after `t`; 0 when neither exists.
    """
    return self._feed_at(t, False)


@internal
def _checkpoint(expiry: uint256):
    """
    @dev Record the pool reference of `expiry` (once) and advance the
         sorted list past every checkpointed expiry at its head.
    """
    if self.checkpointed_at[expiry] == 0:
        start: uint256 = expiry - settlement_window
        ref: uint256 = 0
        if start >= staticcall twap_oracle.oldest_timestamp():
            ref = staticcall twap_oracle.median_twap(start, expiry, SETTLEMENT_PARTS)
        self.pool_reference[expiry] = ref
        self.checkpointed_at[expiry] = block.timestamp
        log Checkpointed(expiry=expiry, pool_reference=ref)
    head: uint256 = self.next_checkpoint
    for _: uint256 in range(MAX_EXPIRIES):
        if head == 0 or self.checkpointed_at[head] == 0:
            break
        head = self._next_expiry[head]
    self.next_checkpoint = head


@view
@internal
def _feed_at(t: uint256, any_lateness: bool) -> uint256:
    """
    @dev Binary search for the last round with updated_at <= t (rounds are
         pushed in time order). Its answer if younger than max_age at t;
         else the next round's if it came within max_age after t (or at
         any time with `any_lateness`); else 0.
    """
    latest: uint256 = 0
    answer: int256 = 0
    started: uint256 = 0
    updated: uint256 = 0
    answered: uint256 = 0
    latest, answer, started, updated, answered = staticcall feed.latest_round_data()
    if latest == 0 or block.timestamp < t:
        return 0
    max_age: uint256 = (self.config >> 1) & U32
    # lo: last round known at or before t (0: none); hi: first round known after t.
    lo: uint256 = 0
    hi: uint256 = 0
    if updated <= t:
        lo = latest
    else:
        hi = latest
        for _: uint256 in range(FEED_SEARCH):
            if hi - lo <= 1:
                break
            mid: uint256 = (lo + hi) // 2
            answer, started, updated, answered = self._round(mid)
            if updated <= t:
                lo = mid
            else:
                hi = mid
    if lo != 0:
        answer, started, updated, answered = self._round(lo)
        if answer > 0 and t - updated <= max_age:
            return convert(answer, uint256)
    if lo < latest:
        answer, started, updated, answered = self._round(lo + 1)
        if answer > 0 and (any_lateness or updated - t <= max_age):
            return convert(answer, uint256)
    return 0


@view
@internal
def _round(id: uint256) -> (int256, uint256, uint256, uint256):
    r: uint256 = 0
    answer: int256 = 0
    started: uint256 = 0
    updated: uint256 = 0
    answered: uint256 = 0
    r, answer, started, updated, answered = staticcall feed.get_round_data(id)
    return answer, started, updated, answered


@pure
@internal
def _median3(a: uint256, b: uint256, c: uint256) -> uint256:
    """
    @dev The median of the non-zero values: of three, the middle one; of
         two, their mean rounded down; of one, it; of none, 0.
    """
    if a == 0:
        return (b + c) // 2 if b != 0 and c != 0 else b + c
    if b == 0:
        return (a + c) // 2 if c != 0 else a
    if c == 0:
        return (a + b) // 2
    return max(min(a, b), min(max(a, b), c))


@internal
def _set_settlement_parameters(deviation: uint256, delay: uint256):
    assert deviation >= DEVIATION_MIN and deviation <= SETTLE_DEVIATION_MAX, "oracle: deviation out of bounds"
    assert delay >= SETTLE_DELAY_MIN and delay <= SETTLE_DELAY_MAX, "oracle: delay out of bounds"
    self.settlement_deviation = deviation
    self.settlement_delay = delay
    log SettlementParametersSet(deviation=deviation, delay=delay)


@internal
def _set_parameters(max_age_: uint256, max_deviation_: uint256, max_spot_deviation_: uint256, twap_window_: uint256):
    assert max_age_ >= MAX_AGE_MIN and max_age_ <= MAX_AGE_MAX, "oracle: max age out of bounds"
    assert max_deviation_ >= DEVIATION_MIN and max_deviation_ <= DEVIATION_MAX, "oracle: deviation out of bounds"
    assert max_spot_deviation_ >= DEVIATION_MIN and max_spot_deviation_ <= DEVIATION_MAX, "oracle: deviation out of bounds"
    assert twap_window_ >= WINDOW_MIN and twap_window_ <= WINDOW_MAX, "oracle: window out of bounds"
    self.config = (
        (self.config & 1) | (max_age_ << 1) | (twap_window_ << 33) | (max_deviation_ << 65) | (max_spot_deviation_ << 129)
    )
    self.twap_cache = 0
    log ParametersSet(max_age=max_age_, max_deviation=max_deviation_, max_spot_deviation=max_spot_deviation_, twap_window=twap_window_)


@pure
@internal
def _deviates(a: uint256, b: uint256, limit: uint256) -> bool:
    """
    @dev |a - b| / b > limit (WAD), with b > 0.
    """
    diff: uint256 = a - b if a > b else b - a
    return diff * WAD > limit * b


@view
@internal
def _twap(window: uint256) -> (bool, uint256):
    """
    @dev The TWAP over `twap_window`: the cached one when computed within
         `TWAP_CACHE_TTL`, else live; (False, 0) when unavailable.
    """
    cache: uint256 = self.twap_cache
    if cache != 0 and block.timestamp - (cache & TIME_MASK) <= TWAP_CACHE_TTL:
        return True, cache >> 64
    ok: bool = False
    twap: uint256 = 0
    ok, twap = staticcall twap_oracle.try_twap(window)
    return ok and twap != 0, twap


@view
@internal
def _last_good(status: uint256) -> Reading:
    assert self.last_good_price != 0, "oracle: no good price yet"
    return Reading(price=self.last_good_price, status=status, source=SOURCE_LAST_GOOD, as_of=self.last_good_at)


@view
@internal
def _read() -> Reading:
    cfg: uint256 = self.config
    if cfg & 1 != 0:
        return self._last_good(STATUS_FROZEN)

    # Secondary: the TWAP, when the history covers the window.
    twap_ok: bool = False
    twap: uint256 = 0
    twap_ok, twap = self._twap((cfg >> 33) & U32)
    spot: uint256 = staticcall pool.spot_price()
    spot_agrees: bool = not twap_ok or (spot != 0 and not self._deviates(spot, twap, (cfg >> 129) & U64))

    # Primary: the feed, when positive, not from the future, not stale.
    round_id: uint256 = 0
    answer: int256 = 0
    started_at: uint256 = 0
    updated_at: uint256 = 0
    answered_in: uint256 = 0
    round_id, answer, started_at, updated_at, answered_in = staticcall feed.latest_round_data()
    feed_ok: bool = (
        round_id != 0
        and answer > 0
        and updated_at <= block.timestamp
        and block.timestamp - updated_at <= (cfg >> 1) & U32
    )

    if feed_ok:
        f: uint256 = convert(answer, uint256)
        max_dev: uint256 = (cfg >> 65) & U64
        feed_vs_twap_ok: bool = not twap_ok or not self._deviates(f, twap, max_dev)
        feed_vs_spot_ok: bool = spot != 0 and not self._deviates(f, spot, max_dev)
        if not feed_vs_twap_ok and not feed_vs_spot_ok:
            # One source alone moved: a bad print. Hold the last good price.
            return self._last_good(STATUS_DEVIANT)
        if not twap_ok and not feed_vs_spot_ok:
            # No history to judge by, and spot disagrees: do not trust it.
            return self._last_good(STATUS_DEVIANT)
        if not spot_agrees and feed_vs_twap_ok and (spot == 0 or self._deviates(f, spot, (cfg >> 129) & U64)):
            # Spot is off the TWAP and the feed does not follow it: spot
            # moved alone (a pump). The feed is consistent with history,
            # but flag it. When the feed confirms spot within
            # max_spot_deviation, both independent sources moved: a fast
            # market, FRESH (the guard is monotone in the size of a move).
            return Reading(price=f, status=STATUS_DEVIANT, source=SOURCE_FEED, as_of=updated_at)
        return Reading(price=f, status=STATUS_FRESH, source=SOURCE_FEED, as_of=updated_at)

    if twap_ok:
        if spot_agrees:
            return Reading(price=twap, status=STATUS_FALLBACK, source=SOURCE_TWAP, as_of=block.timestamp)
        return Reading(price=twap, status=STATUS_DEVIANT, source=SOURCE_TWAP, as_of=block.timestamp)
    return self._last_good(STATUS_STALE)
