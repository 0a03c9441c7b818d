"""OptionSeries: listing by listers within bounds, access control, parameters, wiring."""

import pytest

from dsi.protocol import Params

WAD = 10**18
DAY = 86_400


def test_wiring_roles_and_defaults(protocol):
    s, v, t = protocol.series, protocol.vault, protocol.option_token
    assert (s.oracle(), s.option_token(), s.weth(), s.usd()) == (
        protocol.oracle.address, t.address, protocol.weth.address, protocol.usd.address)
    assert (v.series(), v.option_token(), v.oracle(), v.weth(), v.usd()) == (
        s.address, t.address, protocol.oracle.address, protocol.weth.address, protocol.usd.address)
    assert t.is_minter(v.address) and t.is_minter(s.address)
    assert not t.is_minter(protocol.deployer)  # the owner cannot mint unbacked longs
    assert s.is_payer(v.address) and not s.is_payer(protocol.deployer)
    assert s.is_lister(protocol.deployer) and not s.is_lister(protocol.attacker)
    assert (s.max_tenor(), s.min_strike_ratio(), s.max_strike_ratio(), s.min_size()) == (
        365 * DAY, WAD // 5, 5 * WAD, WAD // 100)
    assert not s.is_listed(s.series_count() + 1)


def test_lister_lists_series_with_incrementing_ids(protocol, opts):
    # Ids count up from 1 over the session (other suites' session fixtures may have listed).
    s = protocol.series
    base = s.series_count()
    expiry = opts.now() + 7 * DAY
    tx = s.list_series(3000 * WAD, expiry, True, False, sender=protocol.deployer)
    assert tx.return_value == base + 1
    assert [(log.id, log.strike, log.expiry, log.is_call, log.is_american) for log in
            tx.decode_logs(s.SeriesListed)] == [(base + 1, 3000 * WAD, expiry, True, False)]
    assert s.list_series(2500 * WAD, expiry, False, True, sender=protocol.deployer).return_value == base + 2
    assert s.series_count() == base + 2
    call, put = s.series(base + 1), s.series(base + 2)
    assert (call.strike, call.expiry, call.is_call, call.is_american) == (3000 * WAD, expiry, True, False)
    assert (put.strike, put.expiry, put.is_call, put.is_american) == (2500 * WAD, expiry, False, True)
    assert s.is_listed(base + 1) and s.is_listed(base + 2) and not s.is_listed(base + 3)
    assert not s.is_expired(base + 1)
    assert s.find_series(2500 * WAD, expiry, False, True) == base + 2
    assert s.find_series(2500 * WAD, expiry, False, False) == 0


def test_is_expired_from_expiry_on(protocol, opts, chain):
    id_ = opts.list(3000, days=1)
    expiry = protocol.series.series(id_).expiry
    chain.mine(deltatime=expiry - opts.now() - 5)
    assert not protocol.series.is_expired(id_)
    chain.mine(deltatime=10)
    assert protocol.series.is_expired(id_)


def test_duplicate_tuple_reverts_but_style_differs(protocol, opts, expect_revert):
    base = protocol.series.series_count()
    expiry = opts.now() + 7 * DAY
    protocol.series.list_series(3000 * WAD, expiry, True, False, sender=protocol.deployer)
    expect_revert("series: already listed", protocol.series.list_series, 3000 * WAD, expiry, True, False,
                  sender=protocol.deployer)
    # The American twin and the put are different series.
    protocol.series.list_series(3000 * WAD, expiry, True, True, sender=protocol.deployer)
    protocol.series.list_series(3000 * WAD, expiry, False, False, sender=protocol.deployer)
    assert protocol.series.series_count() == base + 3


def test_expiry_bounds(protocol, opts, expect_revert):
    s, d = protocol.series, protocol.deployer
    now = opts.now()
    expect_revert("series: expiry not in future", s.list_series, 3000 * WAD, now, True, False, sender=d)
    expect_revert("series: tenor above max", s.list_series, 3000 * WAD, now + 365 * DAY + 600, True, False,
                  sender=d)
    id_ = s.list_series(3000 * WAD, now + 365 * DAY - 600, True, False, sender=d).return_value
    assert s.series(id_).expiry == now + 365 * DAY - 600


def test_strike_band_around_oracle_price(protocol, opts, expect_revert):
    """Default band [0.2, 5] x the oracle price (3000): strikes 600 .. 15,000 USD."""
    s, d = protocol.series, protocol.deployer
    expiry = opts.now() + 7 * DAY
    expect_revert("series: strike out of band", s.list_series, 600 * WAD - 1, expiry, False, False, sender=d)
    expect_revert("series: strike out of band", s.list_series, 15_000 * WAD + 1, expiry, True, False,
                  sender=d)
    low = s.list_series(600 * WAD, expiry, False, False, sender=d).return_value
    high = s.list_series(15_000 * WAD, expiry, True, False, sender=d).return_value
    assert [s.series(i).strike for i in (low, high)] == [600 * WAD, 15_000 * WAD]
    # The band follows the oracle: at 3,100 USD, 620 is the floor.
    protocol.feed.submit(3_100 * WAD, sender=protocol.reporter)
    expect_revert("series: strike out of band", s.list_series, 610 * WAD, expiry, False, False, sender=d)
    s.list_series(620 * WAD, expiry, False, False, sender=d)


def test_listing_requires_a_fresh_oracle(protocol, opts, chain, expect_revert):
    s, d = protocol.series, protocol.deployer
    expiry = opts.now() + 7 * DAY
    # A 35% bad print (as in test_oracle_attacks): DEVIANT.
    protocol.feed.submit(int(3000 * 1.35) * WAD, sender=protocol.reporter)
    assert protocol.oracle.price()[1] == 2  # DEVIANT
    expect_revert("series: oracle not fresh", s.list_series, 3000 * WAD, expiry, True, False, sender=d)
    # Frozen by the owner: FROZEN.
    protocol.feed.submit(3000 * WAD, sender=protocol.reporter)
    protocol.oracle.set_frozen(True, sender=d)
    expect_revert("series: oracle not fresh", s.list_series, 3000 * WAD, expiry, True, False, sender=d)
    protocol.oracle.set_frozen(False, sender=d)
    s.list_series(3000 * WAD, expiry, True, False, sender=d)
    # The feed goes stale (> 1 h): no longer FRESH.
    chain.mine(deltatime=3_700)
    assert protocol.oracle.price()[1] != 0
    expect_revert("series: oracle not fresh", s.list_series, 3000 * WAD, expiry, False, False, sender=d)


def test_listing_access_control(protocol, opts, expect_revert):
    s = protocol.series
    base = s.series_count()
    expiry = opts.now() + 7 * DAY
    attacker = protocol.attacker
    expect_revert("series: not lister", s.list_series, 3000 * WAD, expiry, True, False, sender=attacker)
    expect_revert("ownable: caller is not the owner", s.set_lister, attacker, True, sender=attacker)
    expect_revert("ownable: caller is not the owner", s.set_payer, attacker, True, sender=attacker)
    expect_revert("series: zero address", s.set_lister, "0x" + "00" * 20, True, sender=protocol.deployer)
    expect_revert("series: zero address", s.set_payer, "0x" + "00" * 20, True, sender=protocol.deployer)
    tx = s.set_lister(protocol.keeper, True, sender=protocol.deployer)
    assert [(log.lister, log.status) for log in tx.decode_logs(s.ListerSet)] == [
        (protocol.keeper.address, True)]
    s.list_series(3000 * WAD, expiry, True, False, sender=protocol.keeper)
    s.set_lister(protocol.keeper, False, sender=protocol.deployer)
    expect_revert("series: not lister", s.list_series, 3100 * WAD, expiry, True, False,
                  sender=protocol.keeper)
    assert s.series_count() == base + 1


def test_parameters_bounded_and_owner_only(protocol, expect_revert):
    s, d = protocol.series, protocol.deployer
    good = (30 * DAY, WAD // 2, 2 * WAD, WAD // 10)  # max tenor, strike band, min size
    expect_revert("ownable: caller is not the owner", s.set_parameters, *good, sender=protocol.attacker)
    # (position in `good`, value just outside the hard bound, reason)
    for i, bad, reason in (
        (0, DAY - 1, "series: tenor out of bounds"),
        (0, 730 * DAY + 1, "series: tenor out of bounds"),
        (1, WAD // 100 - 1, "series: strike band out of bounds"),
        (1, WAD + 1, "series: strike band out of bounds"),
        (2, WAD - 1, "series: strike band out of bounds"),
        (2, 100 * WAD + 1, "series: strike band out of bounds"),
        (3, 10**12 - 1, "series: min size out of bounds"),
        (3, WAD + 1, "series: min size out of bounds"),
    ):
        args = list(good)
        args[i] = bad
        expect_revert(reason, s.set_parameters, *args, sender=d)
    tx = s.set_parameters(30 * DAY, WAD // 2, 2 * WAD, WAD // 10, sender=d)
    assert (s.max_tenor(), s.min_strike_ratio(), s.max_strike_ratio(), s.min_size()) == (
        30 * DAY, WAD // 2, 2 * WAD, WAD // 10)
    assert len(tx.decode_logs(s.ParametersSet)) == 1


def test_new_bounds_apply_to_listing(protocol, opts, expect_revert):
    protocol.series.set_parameters(30 * DAY, WAD // 2, 2 * WAD, WAD // 10, sender=protocol.deployer)
    now = opts.now()
    list_series, d = protocol.series.list_series, protocol.deployer
    expect_revert("series: tenor above max", list_series, 3000 * WAD, now + 31 * DAY, True, False, sender=d)
    expect_revert("series: strike out of band", list_series, 1_400 * WAD, now + 7 * DAY, False, False,
                  sender=d)
    protocol.series.list_series(1_500 * WAD, now + 7 * DAY, False, False, sender=protocol.deployer)


@pytest.mark.parametrize("bad", [
    {"max_tenor": 3_600}, {"max_tenor": 731 * DAY}, {"strike_band_min": 0.001}, {"strike_band_min": 1.5},
    {"strike_band_max": 0.9}, {"strike_band_max": 101}, {"min_option_size": 1e-7}, {"min_option_size": 2},
])
def test_params_validation_rejects_out_of_bounds(bad):
    with pytest.raises(ValueError):
        Params(**bad).validate()
    assert Params().validate().min_option_size == 0.01
