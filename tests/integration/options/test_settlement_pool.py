"""OptionSeries settlement and the settlement pool: the price is fixed once, redemptions round
down, and an underfunded pool pays pro rata and records the rest of every claim (paid later by
`claim`), independent of the order in which holders redeem."""

from dsi.reference import options as ref

WAD = 10**18
USD_TO_WAD = 10**12


def test_settlement_fixed_once(protocol, opts, chain):
    id_ = opts.list(3000, is_call=False)
    put_twin = opts.list(3000, is_call=True)  # same expiry: same settlement price
    opts.write(protocol.writer, id_, WAD)
    S, payoff = opts.expire(id_, 2_800 * WAD)
    expiry = protocol.series.series(id_).expiry
    assert S == protocol.oracle.settlement_price(expiry)
    assert payoff == ref.payoff_units(S, 3000 * WAD, False) > 0
    assert protocol.series.is_settled(id_) and not protocol.series.is_settled(put_twin)
    # The market moves a lot afterwards; settling again changes nothing and logs nothing.
    opts.move_pool(2_000 * WAD)
    chain.mine(deltatime=3_600)
    tx = protocol.series.settle(id_, sender=protocol.attacker)
    assert tx.decode_logs(protocol.series.SeriesSettled) == []
    assert (protocol.series.settlement_price(id_), protocol.series.payoff_per_unit(id_)) == (S, payoff)
    assert protocol.series.settlement(id_).supply == WAD
    # A series settled later with the same expiry gets the same, already fixed, price.
    tx = protocol.series.settle(put_twin, sender=protocol.keeper)
    assert [log.price for log in tx.decode_logs(protocol.series.SeriesSettled)] == [S]
    assert protocol.series.payoff_per_unit(put_twin) == 0


def test_redemption_rounds_down(protocol, opts):
    """A put claim that is not a whole number of USD units: the holder gets the floor."""
    strike = 3_000_000_000_000_000_000_001
    id_ = opts.list(strike, is_call=False)
    amount = 333_333_333_333_333_337
    opts.write(protocol.writer, id_, amount)
    opts.give(protocol.writer, protocol.buyer, id_, amount)
    S, payoff = opts.expire(id_, 2_900 * WAD)
    protocol.vault.settle_writer(id_, sender=protocol.writer)
    claim = ref.claim_units(payoff, amount)
    assert claim % USD_TO_WAD != 0
    assert protocol.series.redemption_value(id_, amount) == claim
    protocol.series.redeem(id_, amount, sender=protocol.buyer)
    got = protocol.usd.balanceOf(protocol.buyer)
    assert got == claim // USD_TO_WAD
    assert got * USD_TO_WAD < claim < (got + 1) * USD_TO_WAD
    # The pool keeps the rounding (writer paid up, holder paid down).
    assert protocol.series.pool_usd(id_) == ref.owed_units(S, strike, False, amount) - got >= 0
    assert protocol.series.pending_claim(id_, protocol.buyer) == 0


def test_underfunded_pool_pays_pro_rata_and_records_claims(protocol, opts, second_buyer, expect_revert):
    """Longs of a short that has not paid yet (minted here by the owner acting as the margin
    engine): the vault's writer pays its half, holders are paid half and keep a claim for the
    rest; the late payment (liquidation, insurance) is then claimed in full."""
    series, token, d = protocol.series, protocol.option_token, protocol.deployer
    buyer = protocol.buyer
    id_ = opts.list(3000, is_call=True)
    opts.write(protocol.writer, id_, WAD)
    opts.give(protocol.writer, second_buyer, id_, WAD)
    token.set_minter(d, True, sender=d)  # stands in for the margin engine
    token.mint(buyer, id_, WAD, sender=d)

    S, payoff = opts.expire(id_, 3_300 * WAD)
    total_owed = payoff * 2 * WAD // WAD
    assert series.total_owed_value(id_) == total_owed
    protocol.vault.settle_writer(id_, sender=protocol.writer)
    funded = series.funded_value(id_)
    assert funded == ref.pool_credit_units(0, ref.owed_units(S, 3000 * WAD, True, WAD), S)
    assert series.shortfall(id_) == total_owed - funded > 0

    claim = ref.claim_units(payoff, WAD)
    entitled = ref.entitled_units(claim, total_owed, funded)
    assert abs(entitled - claim // 2) <= S // WAD + 1
    assert series.redeem(id_, WAD, sender=buyer).return_value == entitled
    assert series.pending_claim(id_, buyer) == claim - entitled
    assert series.claimable(id_, buyer) == 0
    expect_revert("series: nothing to claim", series.claim, id_, sender=buyer)
    assert series.owed_value(id_) == total_owed - entitled

    # The rest arrives in USD from a payer (the insurance fund, next issue).
    series.set_payer(d, True, sender=d)
    top_up = -(-series.shortfall(id_) // USD_TO_WAD)
    protocol.usd.mint(d, top_up, sender=d)
    protocol.usd.approve(series.address, top_up, sender=d)
    series.pay_in(id_, top_up, 0, sender=d)
    assert series.shortfall(id_) == 0
    assert series.claimable(id_, buyer) == claim - entitled
    assert series.claim(id_, sender=buyer).return_value == claim - entitled
    assert series.pending_claim(id_, buyer) == 0

    # The second holder, redeeming after the top-up, is paid its whole claim at once.
    assert series.redeem(id_, WAD, sender=second_buyer).return_value == claim
    assert series.owed_value(id_) == 0
    for holder in (buyer, second_buyer):
        usd, weth = opts.balances(holder)
        received = ref.value_units(usd, weth, S)
        assert claim - 2 * S // WAD - USD_TO_WAD <= received <= claim  # never more, never short but dust
    opts.assert_conserved([id_])


def test_claims_do_not_depend_on_redemption_order(protocol, opts, second_buyer):
    """Two equal holders of a half-funded series: whoever redeems first gets the same share."""
    series, token, d = protocol.series, protocol.option_token, protocol.deployer
    id_ = opts.list(2_800, is_call=False)
    opts.write(protocol.writer, id_, WAD)
    opts.give(protocol.writer, second_buyer, id_, WAD)
    token.set_minter(d, True, sender=d)
    token.mint(protocol.buyer, id_, WAD, sender=d)
    opts.expire(id_, 2_500 * WAD)
    protocol.vault.settle_writer(id_, sender=protocol.writer)
    first = series.redeem(id_, WAD, sender=second_buyer).return_value
    second = series.redeem(id_, WAD, sender=protocol.buyer).return_value
    expected = ref.entitled_units(series.redemption_value(id_, WAD), series.total_owed_value(id_),
                                  series.funded_value(id_))
    assert first == second == expected < series.redemption_value(id_, WAD)
    usd = protocol.usd
    assert usd.balanceOf(second_buyer) == usd.balanceOf(protocol.buyer) == first // USD_TO_WAD


def test_series_revert_reasons(protocol, opts, expect_revert):
    series, attacker, buyer = protocol.series, protocol.attacker, protocol.buyer
    id_ = opts.list(3000, is_call=True)
    opts.write(protocol.writer, id_, WAD)
    opts.give(protocol.writer, buyer, id_, WAD)
    expect_revert("series: unknown series", series.settle, 99, sender=protocol.keeper)
    expect_revert("series: not expired", series.settle, id_, sender=protocol.keeper)
    expect_revert("series: not expired", series.redeem, id_, WAD, sender=buyer)
    expect_revert("series: not settled", series.claim, id_, sender=buyer)
    expect_revert("series: not payer", series.pay_in, id_, 1, 0, sender=attacker)
    series.set_payer(protocol.deployer, True, sender=protocol.deployer)
    expect_revert("series: not settled", series.pay_in, id_, 1, 0, sender=protocol.deployer)
    opts.expire(id_, 3_300 * WAD)
    expect_revert("series: zero amount", series.pay_in, id_, 0, 0, sender=protocol.deployer)
    # A payer without allowance.
    expect_revert("series: transfer failed", series.pay_in, id_, 10**6, 0, sender=protocol.deployer)
    expect_revert("series: zero amount", series.redeem, id_, 0, sender=buyer)
    expect_revert("series: insufficient options", series.redeem, id_, WAD + 1, sender=buyer)
    expect_revert("series: nothing to claim", series.claim, id_, sender=buyer)
    # The vault side: settling a writer who has nothing, before and after.
    expect_revert("vault: nothing to settle", protocol.vault.settle_writer, id_, sender=attacker)
    protocol.vault.settle_writer(id_, sender=protocol.writer)
    expect_revert("vault: nothing to settle", protocol.vault.settle_writer, id_, sender=protocol.writer)
