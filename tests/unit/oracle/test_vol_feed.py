"""VolFeed: roles, push and listing, every revert reason, staleness and expiry against the chain
clock, vol / total variance against the float SVI reference, the constant-tenor ATM index against
a hand computation and `svi_fit.atm_vol_index`, and the committed fitted surface on chain.

Views run at the head block, so they see `chain.blocks.head.timestamp`; a transaction's block time
is pinned with `chain.pending_timestamp` where it matters.
"""

import math

import ape
import pytest

from dsi.reference import pricing as ref
from dsi.reference import svi_fit

WAD = 10**18
DAY = 86_400
YEAR = ref.YEAR
MAX_AGE = 3_600  # the `vol_feed` fixture's
REL = 1e-12
ZERO = "0x0000000000000000000000000000000000000000"

# A valid, skewed slice (a, b, rho, m, sigma) in WAD: w(0) ~ 0.0335.
SKEW = (10**16, 10**17, -3 * 10**17, 5 * 10**16, 2 * 10**17)


def now(chain):
    return chain.blocks.head.timestamp


def push_at(chain, feed, ts, expiry, params, sender):
    """Push with the transaction mined at block time `ts`."""
    chain.pending_timestamp = ts
    return feed.push(expiry, *params, sender=sender)


def flat(w_atm_wad):
    """A slice with rho = m = 0 whose ATM total variance is a + b sigma = `w_atm_wad` (WAD)."""
    b, sigma = 10**17, 10**17  # b sigma = 0.01
    return (w_atm_wad - 10**16, b, 0, 0, sigma)


def ref_vol(params_wad, k_wad, tte):
    p = [x / WAD for x in params_wad]
    return math.sqrt(ref.svi_total_variance(k_wad / WAD, *p) / (tte / YEAR))


# --- deployment and roles ----------------------------------------------------


def test_deploy_sets_owner_reporter_and_max_age(vol_feed, deployer, reporter, attacker):
    assert vol_feed.owner() == deployer
    assert vol_feed.is_reporter(reporter)
    assert not vol_feed.is_reporter(deployer)
    assert not vol_feed.is_reporter(attacker)
    assert vol_feed.max_age() == MAX_AGE
    assert vol_feed.listed_expiries() == []
    # Ownership cannot be renounced (a feed without owner could not remove a reporter).
    assert not hasattr(vol_feed, "renounce_ownership")


def test_deploy_without_reporter(create_vol_feed, reporter):
    feed = create_vol_feed()
    assert not feed.is_reporter(reporter)


@pytest.mark.parametrize("max_age", [60, 7 * DAY])
def test_deploy_accepts_max_age_bounds(create_vol_feed, max_age):
    assert create_vol_feed(max_age=max_age).max_age() == max_age


@pytest.mark.parametrize("max_age", [0, 59, 7 * DAY + 1])
def test_deploy_rejects_max_age_out_of_bounds(create_vol_feed, max_age):
    with ape.reverts("vol: max age out of bounds"):
        create_vol_feed(max_age=max_age)


def test_owner_appoints_and_removes_reporters(vol_feed, deployer, attacker, chain):
    receipt = vol_feed.set_reporter(attacker, True, sender=deployer)
    assert vol_feed.is_reporter(attacker)
    assert receipt.events.filter(vol_feed.ReporterSet) == [
        vol_feed.ReporterSet(account=attacker, allowed=True)
    ]
    expiry = now(chain) + 30 * DAY
    vol_feed.push(expiry, *SKEW, sender=attacker)
    assert vol_feed.slice(expiry)[:5] == SKEW

    vol_feed.set_reporter(attacker, False, sender=deployer)
    assert not vol_feed.is_reporter(attacker)
    with ape.reverts("vol: not reporter"):
        vol_feed.push(expiry, *SKEW, sender=attacker)


def test_set_reporter_is_owner_only(vol_feed, reporter, attacker):
    for caller in (attacker, reporter):
        with ape.reverts("ownable: caller is not the owner"):
            vol_feed.set_reporter(attacker, True, sender=caller)
    assert not vol_feed.is_reporter(attacker)


def test_set_reporter_rejects_zero_address(vol_feed, deployer):
    with ape.reverts("vol: zero address"):
        vol_feed.set_reporter(ZERO, True, sender=deployer)


def test_set_max_age_within_bounds(vol_feed, deployer):
    receipt = vol_feed.set_max_age(600, sender=deployer)
    assert vol_feed.max_age() == 600
    assert receipt.events.filter(vol_feed.MaxAgeSet) == [
        vol_feed.MaxAgeSet(old_max_age=MAX_AGE, new_max_age=600)
    ]
    for bad in (59, 7 * DAY + 1):
        with ape.reverts("vol: max age out of bounds"):
            vol_feed.set_max_age(bad, sender=deployer)
    assert vol_feed.max_age() == 600


def test_set_max_age_is_owner_only(vol_feed, reporter, attacker):
    for caller in (attacker, reporter):
        with ape.reverts("ownable: caller is not the owner"):
            vol_feed.set_max_age(600, sender=caller)
    assert vol_feed.max_age() == MAX_AGE


def test_transferred_ownership_moves_the_setters(vol_feed, deployer, attacker):
    vol_feed.transfer_ownership(attacker, sender=deployer)
    assert vol_feed.owner() == attacker
    vol_feed.set_max_age(120, sender=attacker)
    assert vol_feed.max_age() == 120
    with ape.reverts("ownable: caller is not the owner"):
        vol_feed.set_max_age(600, sender=deployer)


# --- push --------------------------------------------------------------------


def test_push_stores_the_slice_and_lists_the_expiry(vol_feed, reporter, chain):
    t = now(chain) + 10
    expiry = t + 30 * DAY
    receipt = push_at(chain, vol_feed, t, expiry, SKEW, reporter)
    assert vol_feed.slice(expiry) == (*SKEW, t)
    assert vol_feed.listed_expiries() == [expiry]
    assert receipt.events.filter(vol_feed.SlicePushed) == [
        vol_feed.SlicePushed(expiry=expiry, reporter=reporter, a=SKEW[0], b=SKEW[1], rho=SKEW[2],
                             m=SKEW[3], sigma=SKEW[4])
    ]
    assert receipt.events.filter(vol_feed.ExpiryListed) == [vol_feed.ExpiryListed(expiry=expiry)]
    assert vol_feed.is_fresh(expiry)


def test_push_again_replaces_the_slice_without_relisting(vol_feed, reporter, chain):
    t = now(chain) + 10
    expiry = t + 30 * DAY
    push_at(chain, vol_feed, t, expiry, SKEW, reporter)
    newer = flat(5 * 10**16)
    receipt = push_at(chain, vol_feed, t + 100, expiry, newer, reporter)
    assert vol_feed.slice(expiry) == (*newer, t + 100)
    assert vol_feed.listed_expiries() == [expiry]
    assert receipt.events.filter(vol_feed.ExpiryListed) == []


def test_unknown_expiry_reads_as_zeros(vol_feed, chain):
    expiry = now(chain) + DAY
    assert vol_feed.slice(expiry) == (0, 0, 0, 0, 0, 0)
    assert not vol_feed.is_fresh(expiry)


# ids as before the role fixtures replaced vol_attacker / vol_deployer (stable test ids)
@pytest.mark.parametrize("caller", ["attacker", "deployer"], ids=["vol_attacker", "vol_deployer"])
def test_push_is_reporter_only(vol_feed, caller, request, chain):
    expiry = now(chain) + DAY
    with ape.reverts("vol: not reporter"):
        vol_feed.push(expiry, *SKEW, sender=request.getfixturevalue(caller))
    assert vol_feed.slice(expiry)[5] == 0


def test_push_rejects_a_passed_expiry(vol_feed, reporter, chain):
    t = now(chain) + 10
    for expiry in (t, t - 1, 0):  # at the block time (expiry is not ahead) and before
        chain.pending_timestamp = t
        with ape.reverts("vol: expiry passed"):
            vol_feed.push(expiry, *SKEW, sender=reporter)
    # One second ahead is accepted.
    push_at(chain, vol_feed, t, t + 1, SKEW, reporter)
    assert vol_feed.slice(t + 1)[5] == t


def test_push_rejects_an_expiry_beyond_ten_years(vol_feed, reporter, chain):
    t = now(chain) + 10
    chain.pending_timestamp = t
    with ape.reverts("vol: expiry too far"):
        vol_feed.push(t + 10 * YEAR + 1, *SKEW, sender=reporter)
    push_at(chain, vol_feed, t + 1, t + 1 + 10 * YEAR, SKEW, reporter)
    assert vol_feed.is_fresh(t + 1 + 10 * YEAR)


@pytest.mark.parametrize(
    "params, reason",
    [
        ((0, -1, 0, 0, WAD), "svi: negative b"),
        ((0, WAD, WAD, 0, WAD), "svi: |rho| >= 1"),
        ((0, WAD, -WAD, 0, WAD), "svi: |rho| >= 1"),
        ((0, WAD, 0, 0, 0), "svi: sigma not positive"),
        ((0, WAD, 0, 0, -1), "svi: sigma not positive"),
        ((101 * WAD, WAD, 0, 0, WAD), "svi: a out of bounds"),
        ((-101 * WAD, WAD, 0, 0, WAD), "svi: a out of bounds"),
        ((0, 101 * WAD, 0, 0, WAD), "svi: b out of bounds"),
        ((0, WAD, 0, 11 * WAD, WAD), "svi: m out of bounds"),
        ((0, WAD, 0, -11 * WAD, WAD), "svi: m out of bounds"),
        ((0, WAD, 0, 0, 11 * WAD), "svi: sigma out of bounds"),
        # a + b sigma sqrt(1 - rho^2) = -1e-18 < 0
        ((-10**16 - 1, 10**17, 0, 0, 10**17), "svi: negative minimum variance"),
    ],
)
def test_push_rejects_invalid_slices(vol_feed, reporter, chain, params, reason):
    expiry = now(chain) + 30 * DAY
    with ape.reverts(reason):
        vol_feed.push(expiry, *params, sender=reporter)
    assert vol_feed.listed_expiries() == []


def test_push_accepts_a_zero_minimum_variance(vol_feed, reporter, chain):
    expiry = now(chain) + 30 * DAY
    params = (-10**16, 10**17, 0, 0, 10**17)  # a + b sigma = 0 exactly: w(m) = 0
    vol_feed.push(expiry, *params, sender=reporter)
    assert vol_feed.total_variance(expiry, 0) == 0
    assert vol_feed.atm_vol(expiry) == 0


def test_push_accepts_exactly_what_the_python_twin_accepts(vol_feed, reporter, chain):
    """The smallest valid `a` by `svi_fit.valid_wad` is the on-chain threshold, to the wei."""
    expiry = now(chain) + 30 * DAY
    b, rho, m, sigma = 3 * 10**17, -55 * 10**16, 10**16, 123_456_789 * 10**9
    a_min = -((b * sigma * math.isqrt(WAD * WAD - rho * rho)) // WAD**2)
    assert svi_fit.valid_wad(a_min, b, rho, m, sigma) and not svi_fit.valid_wad(a_min - 1, b, rho, m, sigma)
    with ape.reverts("svi: negative minimum variance"):
        vol_feed.push(expiry, a_min - 1, b, rho, m, sigma, sender=reporter)
    vol_feed.push(expiry, a_min, b, rho, m, sigma, sender=reporter)
    # The minimum of w sits at k* = m - rho sigma / sqrt(1 - rho^2), where w is ~0.
    k_star = m - rho * sigma // math.isqrt(WAD * WAD - rho * rho)
    assert vol_feed.total_variance(expiry, k_star) < 10**3


# --- listing -----------------------------------------------------------------


def test_expiries_are_listed_in_order(vol_feed, reporter, chain):
    base = now(chain) + 100
    days = [30, 7, 90, 1, 14, 180, 60]
    for d in days:
        vol_feed.push(base + d * DAY, *SKEW, sender=reporter)
    assert vol_feed.listed_expiries() == [base + d * DAY for d in sorted(days)]


def test_listing_a_new_expiry_prunes_expired_ones(vol_feed, reporter, chain):
    t = now(chain) + 10
    short, mid, long_ = t + DAY, t + 2 * DAY, t + 30 * DAY
    for e in (short, mid):
        vol_feed.push(e, *SKEW, sender=reporter)
    chain.mine(timestamp=short)  # `short` is now expired (expiry <= block time), still listed
    assert vol_feed.listed_expiries() == [short, mid]
    assert not vol_feed.is_fresh(short)
    vol_feed.push(mid, *SKEW, sender=reporter)  # an update lists nothing, prunes nothing
    assert vol_feed.listed_expiries() == [short, mid]
    vol_feed.push(long_, *SKEW, sender=reporter)
    assert vol_feed.listed_expiries() == [mid, long_]
    # The expired slice stays readable through `slice`.
    assert vol_feed.slice(short)[:5] == SKEW


def test_listing_is_bounded_to_32_live_expiries(vol_feed, reporter, chain):
    base = now(chain) + 1_000
    expiries = [base + (i + 1) * DAY for i in range(32)]
    for e in expiries:
        vol_feed.push(e, *SKEW, sender=reporter)
    assert vol_feed.listed_expiries() == expiries
    with ape.reverts("vol: too many expiries"):
        vol_feed.push(base + 100 * DAY, *SKEW, sender=reporter)
    with ape.reverts("vol: too many expiries"):  # also when it would sort first
        vol_feed.push(base + 1, *SKEW, sender=reporter)
    vol_feed.push(expiries[5], *flat(4 * 10**16), sender=reporter)  # updates still work
    # Once the first two expire, two new expiries fit.
    chain.mine(timestamp=expiries[1])
    vol_feed.push(base + 100 * DAY, *SKEW, sender=reporter)
    vol_feed.push(base + 101 * DAY, *SKEW, sender=reporter)
    assert vol_feed.listed_expiries() == expiries[2:] + [base + 100 * DAY, base + 101 * DAY]


# --- reads: reverts, staleness, expiry ---------------------------------------


def test_reads_revert_without_a_slice(vol_feed, chain):
    expiry = now(chain) + DAY
    with ape.reverts("vol: no slice"):
        vol_feed.vol(expiry, 0)
    with ape.reverts("vol: no slice"):
        vol_feed.atm_vol(expiry)
    with ape.reverts("vol: no slice"):
        vol_feed.total_variance(expiry, 0)


def test_slice_is_fresh_for_exactly_max_age(vol_feed, reporter, chain):
    t = now(chain) + 10
    expiry = t + 30 * DAY
    push_at(chain, vol_feed, t, expiry, SKEW, reporter)
    chain.mine(timestamp=t + MAX_AGE)
    assert vol_feed.is_fresh(expiry)
    assert vol_feed.atm_vol(expiry) > 0
    chain.mine(timestamp=t + MAX_AGE + 1)
    assert not vol_feed.is_fresh(expiry)
    with ape.reverts("vol: stale"):
        vol_feed.vol(expiry, 0)
    with ape.reverts("vol: stale"):
        vol_feed.atm_vol(expiry)
    with ape.reverts("vol: stale"):
        vol_feed.total_variance(expiry, 0)
    # A new push refreshes it.
    vol_feed.push(expiry, *SKEW, sender=reporter)
    assert vol_feed.is_fresh(expiry)


def test_longer_max_age_revives_a_stale_slice(vol_feed, reporter, deployer, chain):
    t = now(chain) + 10
    expiry = t + 30 * DAY
    push_at(chain, vol_feed, t, expiry, SKEW, reporter)
    chain.mine(deltatime=2 * MAX_AGE)
    assert not vol_feed.is_fresh(expiry)
    vol_feed.set_max_age(DAY, sender=deployer)
    assert vol_feed.is_fresh(expiry)
    vol_feed.set_max_age(60, sender=deployer)
    assert not vol_feed.is_fresh(expiry)


def test_reads_revert_at_and_after_expiry(vol_feed, reporter, deployer, chain):
    vol_feed.set_max_age(7 * DAY, sender=deployer)
    t = now(chain) + 10
    expiry = t + DAY
    push_at(chain, vol_feed, t, expiry, SKEW, reporter)
    chain.mine(timestamp=expiry - 1)
    assert vol_feed.is_fresh(expiry)
    assert vol_feed.atm_vol(expiry) == pytest.approx(ref_vol(SKEW, 0, 1) * WAD, rel=REL)
    chain.mine(timestamp=expiry)
    assert not vol_feed.is_fresh(expiry)
    with ape.reverts("vol: expired"):
        vol_feed.vol(expiry, 0)
    with ape.reverts("vol: expired"):
        vol_feed.atm_vol(expiry)
    with ape.reverts("vol: expired"):
        vol_feed.total_variance(expiry, 0)
    chain.mine(timestamp=expiry + 3 * DAY)
    assert not vol_feed.is_fresh(expiry)
    with ape.reverts("vol: expired"):
        vol_feed.vol(expiry, 0)


def test_expired_is_reported_before_stale(vol_feed, reporter, chain):
    t = now(chain) + 10
    expiry = t + 2 * MAX_AGE
    push_at(chain, vol_feed, t, expiry, SKEW, reporter)
    chain.mine(timestamp=expiry + 1)  # both expired and stale
    with ape.reverts("vol: expired"):
        vol_feed.vol(expiry, 0)


def test_log_moneyness_is_bounded(vol_feed, reporter, chain):
    expiry = now(chain) + 30 * DAY
    vol_feed.push(expiry, *SKEW, sender=reporter)
    assert vol_feed.vol(expiry, 10 * WAD) > 0
    for k in (10 * WAD + 1, -10 * WAD - 1):
        with ape.reverts("svi: log-moneyness out of bounds"):
            vol_feed.vol(expiry, k)


# --- values against the reference --------------------------------------------

K_GRID = [-3 * WAD, -WAD, -3 * 10**17, -5 * 10**16, 0, 1, 7 * 10**16, 4 * 10**17, 2 * WAD, 10 * WAD]


@pytest.mark.parametrize(
    "params",
    [SKEW, flat(2 * 10**16), (-10**16, 3 * 10**17, 6 * 10**17, -10**17, 5 * 10**16),
     (5 * WAD, 2 * WAD, -9 * 10**17, 3 * WAD, 4 * WAD)],
    ids=["skew", "flat", "steep", "large"],
)
def test_vol_and_total_variance_match_the_reference(vol_feed, reporter, chain, params):
    expiry = now(chain) + 37 * DAY + 12_345
    vol_feed.push(expiry, *params, sender=reporter)
    tte = expiry - now(chain)
    p = [x / WAD for x in params]
    for k in K_GRID:
        w = vol_feed.total_variance(expiry, k)
        assert w == pytest.approx(ref.svi_total_variance(k / WAD, *p) * WAD, rel=REL)
        assert vol_feed.vol(expiry, k) == pytest.approx(ref_vol(params, k, tte) * WAD, rel=REL)
    assert vol_feed.atm_vol(expiry) == vol_feed.vol(expiry, 0)


def test_vol_rounds_up_against_exact_integer_arithmetic(vol_feed, reporter, chain):
    expiry = now(chain) + 30 * DAY
    vol_feed.push(expiry, *SKEW, sender=reporter)
    tte = expiry - now(chain)
    a, b, rho, m, sigma = SKEW
    for k in K_GRID:
        km = k - m
        arg = km * km + sigma * sigma
        root = math.isqrt(arg) + (math.isqrt(arg) ** 2 < arg)
        w = a + -(-b * (rho * km + root * WAD) // 10**36)
        assert vol_feed.total_variance(expiry, k) == w
        v = -(-w * YEAR * WAD // tte)
        assert vol_feed.vol(expiry, k) == math.isqrt(v) + (math.isqrt(v) ** 2 < v)


def test_vol_grows_as_expiry_nears_at_fixed_total_variance(vol_feed, reporter, deployer, chain):
    vol_feed.set_max_age(7 * DAY, sender=deployer)
    t = now(chain) + 10
    expiry = t + 6 * DAY  # stays fresh (max age 7 days) until it expires
    push_at(chain, vol_feed, t, expiry, SKEW, reporter)
    for left in (6 * DAY - 1, 3 * DAY, DAY, 60):
        chain.mine(timestamp=expiry - left)
        assert vol_feed.atm_vol(expiry) == pytest.approx(ref_vol(SKEW, 0, left) * WAD, rel=REL)


# --- ATM vol index -----------------------------------------------------------

TENOR = 30 * DAY
# (days to expiry, ATM total variance WAD)
LADDER = [(7, 10**16), (20, 2 * 10**16), (45, 6 * 10**16), (90, 9 * 10**16)]


def _index_setup(chain, feed, reporter, days_and_w):
    """Push flat slices (expiry in days from T0, ATM total variance WAD) and return T0, the chain
    time at which the reads happen (a fresh block, after every push)."""
    t0 = now(chain) + 1_000
    for d, w in days_and_w:
        feed.push(t0 + d * DAY, *flat(w), sender=reporter)
    chain.mine(timestamp=t0)
    return t0


def _ref_index(feed, t0, tenor):
    slices = []
    for e in feed.listed_expiries():
        if feed.is_fresh(e):
            slices.append((e, tuple(x / WAD for x in feed.slice(e)[:5])))
    return svi_fit.atm_vol_index(slices, t0, tenor)


def test_index_interpolates_total_variance_between_bracketing_expiries(vol_feed, reporter, chain):
    t0 = _index_setup(chain, vol_feed, reporter, LADDER)
    # By hand: w(30 d) = 0.02 + (0.06 - 0.02) * (30 - 20) / (45 - 20) = 0.036.
    expected = math.sqrt(0.036 * 365 / 30)
    index = vol_feed.atm_vol_index(TENOR)
    assert index == pytest.approx(expected * WAD, rel=REL)
    assert index == pytest.approx(_ref_index(vol_feed, t0, TENOR) * WAD, rel=REL)
    # Linear in total variance, not in vol: the vol-linear value would differ.
    vol20, vol45 = math.sqrt(0.02 * 365 / 20), math.sqrt(0.06 * 365 / 45)
    assert abs(index / WAD - (vol20 + (vol45 - vol20) * 10 / 25)) > 1e-3


@pytest.mark.parametrize("tenor_days", [1, 7.5, 20, 33.3, 89, 90, 200])
def test_index_matches_the_reference_across_tenors(vol_feed, reporter, chain, tenor_days):
    t0 = _index_setup(chain, vol_feed, reporter, LADDER)
    tenor = int(tenor_days * DAY)
    assert vol_feed.atm_vol_index(tenor) == pytest.approx(_ref_index(vol_feed, t0, tenor) * WAD, rel=REL)


def test_index_extrapolates_flat_in_vol_and_hits_listed_tenors_exactly(vol_feed, reporter, chain):
    t0 = _index_setup(chain, vol_feed, reporter, [(20, 2 * 10**16), (45, 6 * 10**16)])
    first, last = t0 + 20 * DAY, t0 + 45 * DAY
    assert vol_feed.atm_vol_index(DAY) == vol_feed.atm_vol(first)
    assert vol_feed.atm_vol_index(20 * DAY) == vol_feed.atm_vol(first)
    assert vol_feed.atm_vol_index(45 * DAY) == vol_feed.atm_vol(last)
    assert vol_feed.atm_vol_index(365 * DAY) == vol_feed.atm_vol(last)
    assert vol_feed.atm_vol(first) == pytest.approx(math.sqrt(0.02 * 365 / 20) * WAD, rel=REL)


def test_index_skips_stale_and_expired_expiries(vol_feed, reporter, deployer, chain):
    vol_feed.set_max_age(2 * DAY, sender=deployer)
    t = now(chain) + 10
    e1, e2, e3, e4 = (t + d * DAY for d in (1, 25, 40, 60))
    for i, (e, w) in enumerate(((e1, 10**16), (e2, 2 * 10**16), (e3, 5 * 10**16), (e4, 8 * 10**16))):
        push_at(chain, vol_feed, t + i, e, flat(w), reporter)
    # A day and a half later e1 has expired; re-push e2 and e4 only, then let e3 go stale.
    t1 = t + DAY + DAY // 2
    push_at(chain, vol_feed, t1, e2, flat(2 * 10**16), reporter)
    push_at(chain, vol_feed, t1 + 1, e4, flat(8 * 10**16), reporter)
    t2 = t + 2 * DAY + 10  # e3 (pushed at t + 2) is 2 days and 8 s old
    chain.mine(timestamp=t2)
    assert [vol_feed.is_fresh(e) for e in (e1, e2, e3, e4)] == [False, True, False, True]
    # 30 days is bracketed by e2 and e4 (e3, between them, is stale).
    lo_t, hi_t = e2 - t2, e4 - t2
    w = (0.02 * (hi_t - TENOR) + 0.08 * (TENOR - lo_t)) / (hi_t - lo_t)
    assert vol_feed.atm_vol_index(TENOR) == pytest.approx(math.sqrt(w * YEAR / TENOR) * WAD, rel=REL)
    # Below every fresh expiry (e1 expired): flat at e2.
    assert vol_feed.atm_vol_index(DAY) == vol_feed.atm_vol(e2)


def test_index_reverts_without_fresh_expiries(vol_feed, reporter, chain):
    with ape.reverts("vol: no fresh expiry"):
        vol_feed.atm_vol_index(TENOR)
    t = now(chain) + 10
    push_at(chain, vol_feed, t, t + 30 * DAY, SKEW, reporter)
    assert vol_feed.atm_vol_index(TENOR) > 0
    chain.mine(timestamp=t + MAX_AGE + 1)
    with ape.reverts("vol: no fresh expiry"):
        vol_feed.atm_vol_index(TENOR)


def test_index_rejects_bad_tenors(vol_feed, reporter, chain):
    vol_feed.push(now(chain) + 30 * DAY, *SKEW, sender=reporter)
    with ape.reverts("vol: zero tenor"):
        vol_feed.atm_vol_index(0)
    with ape.reverts("vol: tenor too far"):
        vol_feed.atm_vol_index(10 * YEAR + 1)
    assert vol_feed.atm_vol_index(10 * YEAR) > 0


# --- the committed fitted surface on chain -----------------------------------


def test_fitted_surface_deploys_fresh_and_in_order(fitted_vol_feed, vol_surface):
    feed, surface = fitted_vol_feed
    assert len(surface) == len(vol_surface["expiries"]) == 10
    assert feed.listed_expiries() == [e["expiry_ts"] for e in surface]
    for e in surface:
        p = e["params_wad"]
        assert feed.slice(e["expiry_ts"])[:5] == (p["a"], p["b"], p["rho"], p["m"], p["sigma"])
        assert feed.is_fresh(e["expiry_ts"])


def test_fitted_surface_vols_match_the_reference(fitted_vol_feed, chain):
    feed, surface = fitted_vol_feed
    t = now(chain)
    for e in surface:
        params = tuple(e["params_wad"][n] for n in svi_fit.PARAM_NAMES)
        tte = e["expiry_ts"] - t
        for k in (-5 * 10**17, -10**17, -2 * 10**16, 0, 3 * 10**16, 2 * 10**17, 6 * 10**17):
            assert feed.vol(e["expiry_ts"], k) == pytest.approx(ref_vol(params, k, tte) * WAD, rel=REL)


def test_fitted_surface_reproduces_the_market_near_the_money(fitted_vol_feed, vol_surface, chain):
    """On chain, at the re-dated expiries, the ATM vol is the fitted smile's: within its max error of
    the mark iv of the strike nearest the forward, on the data the fit was made from."""
    feed, surface = fitted_vol_feed
    chain_data, spot = svi_fit.load_chain()
    slices, _ = svi_fit.build_slices(chain_data, spot)
    t = now(chain)
    for e, s, doc in zip(surface, slices, vol_surface["expiries"]):
        i = int(abs(s.k).argmin())
        k = int(round(float(s.k[i]) * WAD))
        onchain = feed.vol(e["expiry_ts"], k) / WAD
        # The chain clock has moved a few seconds since re-dating: rescale to the fit's T.
        onchain *= math.sqrt((e["expiry_ts"] - t) / e["tte_seconds"])
        assert abs(onchain - s.iv[i]) * 100 <= doc["max_err_vol_points"] + 1e-9


def test_fitted_surface_30_day_index(fitted_vol_feed, chain):
    feed, surface = fitted_vol_feed
    t = now(chain)
    slices = [(e["expiry_ts"], tuple(e["params_wad"][n] / WAD for n in svi_fit.PARAM_NAMES)) for e in surface]
    index = feed.atm_vol_index(TENOR)
    assert index == pytest.approx(svi_fit.atm_vol_index(slices, t, TENOR) * WAD, rel=REL)
    # 30 days sits between the 2024-06-28 (35 d) and 2024-06-14 (21 d) expiries, whose ATM vols
    # bound a total-variance interpolation.
    atm = sorted(feed.atm_vol(e["expiry_ts"]) for e in surface if 20 * DAY < e["expiry_ts"] - t < 36 * DAY)
    assert len(atm) == 2
    assert atm[0] <= index <= atm[1]
    assert 0.55 * WAD < index < 0.75 * WAD
