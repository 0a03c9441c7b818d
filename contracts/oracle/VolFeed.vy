# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title DSI volatility feed (per-expiry raw-SVI slices)
@custom:contract-name VolFeed
@license GNU Affero General Public License v3.0 only
@notice The protocol's implied-volatility surface: one raw-SVI slice per
        listed expiry, pushed by trusted reporters, read by the pricer and
        the margin engine. The feed never extrapolates in time on its own:
        a slice is served only while it is fresh and its expiry is ahead.

        Glossary
        - expiry: the unix time (seconds) at which the options of a series
          expire; slices are keyed by it.
        - slice: the raw-SVI parameters (a, b, rho, m, sigma), WAD, of the
          total implied variance of one expiry at log-moneyness
          k = ln(K / F):  w(k) = a + b (rho (k - m) + sqrt((k - m)^2 + sigma^2)).
          Every stored slice passed `svi._check` (b >= 0, |rho| < 1,
          sigma > 0, a + b sigma sqrt(1 - rho^2) >= 0, size bounds).
        - updated_at: the block time of the latest push for that expiry.
        - tte: time to expiry, expiry - block.timestamp, in seconds; the vol
          is sqrt(w(k) / T) with T = tte / 31,536,000 (a 365-day year).
        - fresh: a slice exists, its expiry is still ahead
          (expiry > block.timestamp) and it is at most `max_age` seconds old
          (block.timestamp - updated_at <= max_age). Reads of a slice that
          is not fresh revert; `is_fresh` says beforehand.
        - max_age: the staleness limit, owner-settable within
          [MIN_MAX_AGE, MAX_MAX_AGE] = [60 s, 7 days].
        - listed expiries: the expiries that have a slice, kept sorted
          ascending in a bounded array (MAX_EXPIRIES = 32). A push for a new
          expiry lists it; expired entries are pruned whenever a new expiry
          is listed, so the array only fills up with live expiries.
        - ATM vol index: the at-the-forward (k = 0) vol at a constant tenor
          (say 30 days), a DVOL-like gauge. ATM total variance is linear in
          time to expiry between the two fresh listed expiries that bracket
          the tenor; beyond the first or last fresh expiry the vol is held
          flat (the nearest expiry's ATM vol).

        Rounding: total variance and vols round up, as in `svi.vy` (more
        variance means more margin on shorts, the conservative side).

        Roles: the owner (the deployer, snekmate `ownable`) appoints and
        removes reporters and sets `max_age`. Ownership can be transferred
        but not renounced: a feed without an owner could never remove a
        compromised reporter. Reporters are trusted for the shape of the
        surface; the contract only guarantees every slice is a valid SVI
        slice within the library's bounds and that nothing stale or expired
        is served.
"""

# @dev Owner role: manages reporters and the staleness limit.
from snekmate.auth import ownable
initializes: ownable

# @dev Stateless: `_ceil_div` for the rounded-up index arithmetic.
from snekmate.utils import math

# @dev Stateless: `Params`, `_check`, `_total_variance`, `_vol`.
from ..math import svi

# @dev WAD, YEAR, TTE_MAX.
from ..math import constants as c

exports: (
    ownable.owner,
    ownable.transfer_ownership,
)


# @dev Bound on the listed-expiry array (Deribit lists about a dozen ETH
# expiries at a time).
MAX_EXPIRIES: constant(uint256) = 32
# @dev Hard bounds of the owner-settable staleness limit.
MIN_MAX_AGE: constant(uint256) = 60
MAX_MAX_AGE: constant(uint256) = 7 * 86_400


struct Slice:
    params: svi.Params
    updated_at: uint256


# @dev Reporter role: may push slices.
is_reporter: public(HashMap[address, bool])
# @dev Staleness limit in seconds, MIN_MAX_AGE <= max_age <= MAX_MAX_AGE.
max_age: public(uint256)

_slices: HashMap[uint256, Slice]
_expiries: DynArray[uint256, MAX_EXPIRIES]


event SlicePushed:
    expiry: indexed(uint256)
    reporter: indexed(address)
    a: int256
    b: int256
    rho: int256
    m: int256
    sigma: int256


event ExpiryListed:
    expiry: indexed(uint256)


event ReporterSet:
    account: indexed(address)
    allowed: bool


event MaxAgeSet:
    old_max_age: uint256
    new_max_age: uint256


@deploy
def __init__(reporter: address, max_age: uint256):
    """
    @dev The deployer becomes the owner.
    @param reporter A first reporter, or the zero address for none yet.
    @param max_age Staleness limit in seconds, within [60, 604,800].
    """
    ownable.__init__()
    if reporter != empty(address):
        self.is_reporter[reporter] = True
        log ReporterSet(account=reporter, allowed=True)
    self._set_max_age(max_age)


@external
def set_reporter(account: address, allowed: bool):
    """
    @notice Appoint (`allowed = True`) or remove a reporter. Owner only.
    """
    ownable._check_owner()
    assert account != empty(address), "vol: zero address"
    self.is_reporter[account] = allowed
    log ReporterSet(account=account, allowed=allowed)


@external
def set_max_age(max_age: uint256):
    """
    @notice Set the staleness limit, in seconds, within [60, 604,800].
            Owner only. Takes effect on every stored slice at once.
    """
    ownable._check_owner()
    self._set_max_age(max_age)


@external
def push(expiry: uint256, a: int256, b: int256, rho: int256, m: int256, sigma: int256):
    """
    @notice Store the SVI slice of `expiry` (replacing any previous one)
            with `updated_at = block.timestamp`, and list the expiry if it
            is new. Reporter only.
    @dev Reverts "vol: not reporter", "vol: expiry passed"
         (expiry <= block.timestamp), "vol: expiry too far" (more than ten
         years ahead, the library's TTE_MAX), any `svi:` reason of
         `svi._check`, and "vol: too many expiries" when a new expiry finds
         32 live ones listed. Gas (transaction, with the 21k base): ~46k to
         update a slice; ~190k + ~2.5k per listed expiry to list a new one
         (six fresh slots, and the sorted list rewritten), ~270k at 32.
    @param expiry Unix time of expiry, seconds.
    @param a WAD.
    @param b WAD, >= 0.
    @param rho WAD, -1e18 < rho < 1e18.
    @param m WAD.
    @param sigma WAD, > 0.
    """
    assert self.is_reporter[msg.sender], "vol: not reporter"
    assert expiry > block.timestamp, "vol: expiry passed"
    assert expiry - block.timestamp <= c.TTE_MAX, "vol: expiry too far"
    p: svi.Params = svi.Params(a=a, b=b, rho=rho, m=m, sigma=sigma)
    svi._check(p)
    is_new: bool = self._slices[expiry].updated_at == 0
    self._slices[expiry] = Slice(params=p, updated_at=block.timestamp)
    if is_new:
        self._list(expiry)
    log SlicePushed(expiry=expiry, reporter=msg.sender, a=a, b=b, rho=rho, m=m, sigma=sigma)


@external
@view
def slice(expiry: uint256) -> (int256, int256, int256, int256, int256, uint256):
    """
    @notice The stored slice of `expiry` as (a, b, rho, m, sigma, updated_at),
            fresh or not; all zeros when none was ever pushed.
    """
    s: Slice = self._slices[expiry]
    return s.params.a, s.params.b, s.params.rho, s.params.m, s.params.sigma, s.updated_at


@external
@view
def is_fresh(expiry: uint256) -> bool:
    """
    @notice True iff `expiry` has a slice, is still ahead and the slice is at
            most `max_age` old, i.e. iff `vol(expiry, k)` is served.
    """
    updated_at: uint256 = self._slices[expiry].updated_at
    return updated_at != 0 and expiry > block.timestamp and block.timestamp - updated_at <= self.max_age


@external
@view
def listed_expiries() -> DynArray[uint256, MAX_EXPIRIES]:
    """
    @notice The listed expiries, ascending. Entries already expired stay until
            the next new expiry is listed; fresh or stale, they are all here.
    """
    return self._expiries


@external
@view
def total_variance(expiry: uint256, k: int256) -> uint256:
    """
    @notice Total implied variance w(k) of `expiry`, WAD, rounded up.
    @dev Reverts "vol: no slice", "vol: expired" (expiry <= block.timestamp),
         "vol: stale" (older than max_age), in that order, and
         "svi: log-moneyness out of bounds" for |k| > 10.
    @param k Log-moneyness ln(K / F), WAD.
    """
    p: svi.Params = self._fresh(expiry)
    return svi._total_variance(p, k)


@external
@view
def vol(expiry: uint256, k: int256) -> uint256:
    """
    @notice Implied vol sqrt(w(k) / T) of `expiry` at log-moneyness k, WAD
            (1e18 = 100%), rounded up; T = (expiry - block.timestamp) / YEAR.
    @dev Same reverts as `total_variance`. Gas: ~19k per external call,
         mostly its eight cold storage reads (slice, max_age, lock).
    @param k Log-moneyness ln(K / F), WAD.
    """
    p: svi.Params = self._fresh(expiry)
    return svi._vol(p, k, expiry - block.timestamp)


@external
@view
def atm_vol(expiry: uint256) -> uint256:
    """
    @notice At-the-forward (k = 0) implied vol of `expiry`, WAD, rounded up.
    @dev Same reverts as `vol`.
    """
    p: svi.Params = self._fresh(expiry)
    return svi._vol(p, 0, expiry - block.timestamp)


@external
@view
def atm_vol_index(tenor: uint256) -> uint256:
    """
    @notice ATM vol at the constant tenor `tenor` seconds, WAD, rounded up.
            Over the fresh listed expiries (stale and expired ones skipped),
            with ATM total variance w_i at time to expiry t_i: if some
            t_lo <= tenor <= t_hi bracket the tenor (the nearest on each
            side), w = (w_lo (t_hi - tenor) + w_hi (tenor - t_lo)) / (t_hi - t_lo)
            and the index is sqrt(w / (tenor / YEAR)); otherwise it is the
            ATM vol of the nearest fresh expiry (flat-vol extrapolation),
            exactly `atm_vol` of that expiry.
    @dev Reverts "vol: zero tenor", "vol: tenor too far" (over ten years),
         "vol: no fresh expiry". Gas per external call: ~40k plus ~2.1k per
         listed expiry (the list is read whole) and ~2.5k per expiry scanned
         up to the tenor; ~165k with 32 listed and the tenor past them all.
    @param tenor Constant time to expiry, seconds (30 days = 2,592,000).
    """
    assert tenor != 0, "vol: zero tenor"
    assert tenor <= c.TTE_MAX, "vol: tenor too far"
    max_age: uint256 = self.max_age
    # Scan on expiry and updated_at only (two storage reads per entry); the
    # parameters are read for the one or two expiries chosen.
    lo: uint256 = 0  # expiry; 0 = none
    hi: uint256 = 0
    for expiry: uint256 in self._expiries:
        if expiry <= block.timestamp:
            continue
        if block.timestamp - self._slices[expiry].updated_at > max_age:
            continue
        tte: uint256 = expiry - block.timestamp
        if tte <= tenor:
            lo = expiry  # ascending: the last one is the nearest below
        if tte >= tenor:
            hi = expiry  # the first one is the nearest above
            break
    if lo == 0 and hi == 0:
        raise "vol: no fresh expiry"
    if hi == 0:
        return svi._vol(self._slices[lo].params, 0, lo - block.timestamp)
    if lo == 0 or lo == hi:
        return svi._vol(self._slices[hi].params, 0, hi - block.timestamp)
    lo_t: uint256 = lo - block.timestamp
    hi_t: uint256 = hi - block.timestamp
    w_lo: uint256 = svi._total_variance(self._slices[lo].params, 0)
    w_hi: uint256 = svi._total_variance(self._slices[hi].params, 0)
    # lo_t < tenor < hi_t <= TTE_MAX < 2^29 and w <= ~4e21 (svi size bounds):
    # each product is below 2^110.
    w: uint256 = math._ceil_div(w_lo * (hi_t - tenor) + w_hi * (tenor - lo_t), hi_t - lo_t)
    return self._annualised_vol(w, tenor)


@internal
def _set_max_age(max_age: uint256):
    """
    @dev Bounds-checked write of the staleness limit, with its event.
    """
    assert max_age >= MIN_MAX_AGE and max_age <= MAX_MAX_AGE, "vol: max age out of bounds"
    log MaxAgeSet(old_max_age=self.max_age, new_max_age=max_age)
    self.max_age = max_age


@internal
def _list(expiry: uint256):
    """
    @dev Insert a new `expiry` into the sorted list, dropping expired entries.
    """
    listed: DynArray[uint256, MAX_EXPIRIES] = []
    inserted: bool = False
    for e: uint256 in self._expiries:
        if e <= block.timestamp:
            continue  # expired: pruned
        if not inserted and expiry < e:
            listed.append(expiry)
            inserted = True
        assert len(listed) < MAX_EXPIRIES, "vol: too many expiries"
        listed.append(e)
    if not inserted:
        assert len(listed) < MAX_EXPIRIES, "vol: too many expiries"
        listed.append(expiry)
    self._expiries = listed
    log ExpiryListed(expiry=expiry)


@internal
@view
def _fresh(expiry: uint256) -> svi.Params:
    """
    @dev The slice of `expiry` if it is fresh, else the revert reason.
    """
    s: Slice = self._slices[expiry]
    assert s.updated_at != 0, "vol: no slice"
    assert expiry > block.timestamp, "vol: expired"
    assert block.timestamp - s.updated_at <= self.max_age, "vol: stale"
    return s.params


@internal
@pure
def _annualised_vol(w: uint256, tte: uint256) -> uint256:
    """
    @dev sqrt(w / (tte / YEAR)) in WAD, rounded up: the arithmetic of
         `svi._vol` applied to a given total variance. 0 < tte <= TTE_MAX.
    """
    v: uint256 = math._ceil_div(w * c.YEAR * c.WAD, tte)  # E36
    vol: uint256 = isqrt(v)
    if vol * vol < v:
        vol += 1
    return vol
