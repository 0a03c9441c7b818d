"""OptionsVault + OptionSeries: a covered call and a cash-secured put through write, transfer,
expiry, settlement, the writer's settlement and the buyer's redemption, in and out of the
money, with every balance checked against the reference (dsi/reference/options.py) and the
totals conserved."""

from fractions import Fraction

from dsi.reference import options as ref

WAD = 10**18
USD_TO_WAD = 10**12


def _approx(a: int, b: int, rel: float = 2e-3) -> bool:
    return abs(a - b) <= rel * b


def test_covered_call_in_the_money(protocol, opts):
    writer, buyer = protocol.writer, protocol.buyer
    vault, series, token = protocol.vault, protocol.series, protocol.option_token
    id_ = opts.list(3000, is_call=True)
    amount = 2_500_000_000_000_000_007  # 2.5 options and 7 units, to exercise rounding

    lock = opts.fund(writer, id_, amount)
    tx = vault.write(id_, amount, sender=writer)
    assert lock == amount == ref.lock_units(3000 * WAD, True, amount)  # 1 WETH per option
    assert [(log.writer, log.amount, log.collateral) for log in tx.decode_logs(vault.Written)] == [
        (writer.address, amount, amount)]
    assert protocol.weth.balanceOf(writer) == 0
    assert (token.balanceOf(writer, id_), token.total_supply(id_)) == (amount, amount)
    assert vault.written(id_, writer) == vault.total_written(id_) == vault.locked_of(id_, writer) == amount
    opts.assert_conserved([id_])

    sold = 2 * WAD
    opts.give(writer, buyer, id_, sold)
    assert (token.balanceOf(writer, id_), token.balanceOf(buyer, id_)) == (amount - sold, sold)

    S, payoff = opts.expire(id_, 3_300 * WAD)
    assert _approx(S, 3_300 * WAD)
    assert payoff == ref.payoff_units(S, 3000 * WAD, True) == S - 3000 * WAD
    assert series.total_owed_value(id_) == payoff * amount // WAD
    assert series.settlement(id_).supply == amount

    # The writer settles: payoff / S WETH per option into the pool (rounded up), the rest back.
    owed = ref.owed_units(S, 3000 * WAD, True, amount)
    assert _approx(owed, amount * 300 // 3300)
    tx = vault.settle_writer(id_, sender=writer)
    assert [(log.amount, log.owed, log.returned) for log in tx.decode_logs(vault.WriterSettled)] == [
        (amount, owed, amount - owed)]
    assert protocol.weth.balanceOf(writer) == amount - owed
    assert series.pool_weth(id_) == owed
    assert series.funded_value(id_) == ref.pool_credit_units(0, owed, S) >= series.total_owed_value(id_)
    assert vault.written(id_, writer) == 0 and vault.weth_held() == 0
    opts.assert_conserved([id_])

    # The buyer redeems: a pro-rata share of the pool worth payoff * amount, rounded down.
    claim = ref.claim_units(payoff, sold)
    usd_out, weth_out = ref.split_units(0, owed, S, claim)
    tx = series.redeem(id_, sold, sender=buyer)
    assert opts.balances(buyer) == (0, weth_out) == (usd_out, weth_out)
    assert [(log.amount, log.claim) for log in tx.decode_logs(series.Redeemed)] == [(sold, claim)]
    received = ref.value_units(0, weth_out, S)
    assert claim - Fraction(S, WAD) <= received <= claim  # rounded down, by less than 1 wei of WETH
    assert token.balanceOf(buyer, id_) == 0 and token.total_supply(id_) == amount - sold

    # The writer redeems the longs it kept; the pool owes nothing more and keeps only dust.
    series.redeem(id_, amount - sold, sender=writer)
    assert series.owed_value(id_) == 0 and token.total_supply(id_) == 0
    paid = claim + ref.claim_units(payoff, amount - sold)
    assert series.paid_value(id_) == series.total_owed_value(id_) == paid
    assert 0 <= series.pool_weth(id_) <= 2
    opts.assert_conserved([id_])


def test_covered_call_out_of_the_money(protocol, opts):
    writer, buyer = protocol.writer, protocol.buyer
    id_ = opts.list(3000, is_call=True)
    opts.write(writer, id_, 3 * WAD)
    opts.give(writer, buyer, id_, 3 * WAD)
    S, payoff = opts.expire(id_, 2_700 * WAD)
    assert S < 3000 * WAD and payoff == 0 == ref.payoff_units(S, 3000 * WAD, True)
    assert protocol.vault.settle_writer(id_, sender=writer).return_value == 3 * WAD
    assert protocol.weth.balanceOf(writer) == 3 * WAD  # everything back
    assert protocol.series.pool_weth(id_) == 0 and protocol.series.funded_value(id_) == 0
    protocol.series.redeem(id_, 3 * WAD, sender=buyer)  # worthless, burnt
    assert opts.balances(buyer) == (0, 0)
    assert protocol.option_token.total_supply(id_) == 0
    assert protocol.series.total_owed_value(id_) == protocol.series.owed_value(id_) == 0
    opts.assert_conserved([id_])


def test_cash_secured_put_in_the_money(protocol, opts):
    writer, buyer = protocol.writer, protocol.buyer
    vault, series = protocol.vault, protocol.series
    strike = 3_100_123_456_789_012_345_678  # 3,100.123456789012345678 USD: the lock rounds up
    id_ = opts.list(strike, is_call=False)
    amount = 1_500_000_000_000_000_003
    lock = opts.write(writer, id_, amount)
    exact = Fraction(strike * amount, 10**30)
    assert lock == ref.lock_units(strike, False, amount) == -(-exact.numerator // exact.denominator)
    assert lock > exact  # rounded up, in the vault's favour
    assert protocol.usd.balanceOf(vault.address) == vault.usd_held() == lock
    opts.give(writer, buyer, id_, amount)

    S, payoff = opts.expire(id_, 2_700 * WAD)
    assert payoff == ref.payoff_units(S, strike, False) == strike - S
    owed = ref.owed_units(S, strike, False, amount)
    vault.settle_writer(id_, sender=writer)
    assert protocol.usd.balanceOf(writer) == lock - owed
    assert series.pool_usd(id_) == owed and series.funded_value(id_) == owed * USD_TO_WAD
    assert _approx(lock - owed, amount * 2_700 // 10**12)  # the writer keeps ~S per option

    claim = ref.claim_units(payoff, amount)
    series.redeem(id_, amount, sender=buyer)
    usd_out = protocol.usd.balanceOf(buyer)
    assert usd_out == claim // USD_TO_WAD == ref.split_units(owed, 0, S, claim)[0]
    assert series.pool_usd(id_) == owed - usd_out <= 1
    opts.assert_conserved([id_])


def test_cash_secured_put_out_of_the_money(protocol, opts):
    writer, buyer = protocol.writer, protocol.buyer
    id_ = opts.list(2_900, is_call=False)
    lock = opts.write(writer, id_, 2 * WAD)
    assert lock == 5_800 * 10**6
    opts.give(writer, buyer, id_, WAD)
    S, payoff = opts.expire(id_, 3_300 * WAD)
    assert payoff == 0
    protocol.vault.settle_writer(id_, sender=writer)
    assert protocol.usd.balanceOf(writer) == lock
    protocol.series.redeem(id_, WAD, sender=buyer)
    assert opts.balances(buyer) == (0, 0)
    opts.assert_conserved([id_])


def test_keeper_settles_writers_for_them(protocol, opts, second_writer):
    """settle_writer(id, writer) may be called by anyone; proceeds go to the writer."""
    id_ = opts.list(3000, is_call=False)
    lock = opts.write(second_writer, id_, WAD)
    opts.expire(id_, 3_300 * WAD)
    protocol.vault.settle_writer(id_, second_writer, sender=protocol.keeper)
    assert protocol.usd.balanceOf(second_writer) == lock
    assert protocol.usd.balanceOf(protocol.keeper) == 0


def test_writer_buys_back_and_closes(protocol, opts, expect_revert):
    writer, buyer = protocol.writer, protocol.buyer
    vault = protocol.vault
    id_ = opts.list(3000, is_call=True)
    opts.write(writer, id_, 3 * WAD)
    tx = vault.close(id_, WAD, sender=writer)
    assert [(log.amount, log.unlocked) for log in tx.decode_logs(vault.Closed)] == [(WAD, WAD)]
    assert protocol.weth.balanceOf(writer) == WAD
    supply = protocol.option_token.total_supply(id_)
    assert vault.written(id_, writer) == vault.total_written(id_) == supply == 2 * WAD
    expect_revert("vault: exceeds written", vault.close, id_, 2 * WAD + 1, sender=writer)
    expect_revert("vault: zero amount", vault.close, id_, 0, sender=writer)
    expect_revert("vault: below min size", vault.close, id_, WAD // 1000, sender=writer)
    opts.give(writer, buyer, id_, 3 * WAD // 2)
    expect_revert("vault: insufficient options", vault.close, id_, WAD, sender=writer)
    # A holder who never wrote cannot close.
    expect_revert("vault: exceeds written", vault.close, id_, WAD, sender=buyer)
    vault.close(id_, WAD // 2, sender=writer)
    assert protocol.weth.balanceOf(writer) == 3 * WAD // 2
    assert vault.total_written(id_) == 3 * WAD // 2
    opts.assert_conserved([id_])
    # After expiry the position can only be settled.
    opts.expire(id_)
    expect_revert("vault: expired", vault.close, id_, WAD, sender=writer)


def test_put_close_returns_exactly_what_was_locked(protocol, opts, second_writer):
    """Two writers with rounded-up locks: each close returns its pro-rata lock; the last one
    takes exactly what is left, so the vault ends empty."""
    strike = 2_999_999_999_999_999_999_999  # just under 3,000 USD
    id_ = opts.list(strike, is_call=False)
    a = opts.write(protocol.writer, id_, WAD + 1)
    b = opts.write(second_writer, id_, 2 * WAD + 1)
    assert (a, b) == (ref.lock_units(strike, False, WAD + 1), ref.lock_units(strike, False, 2 * WAD + 1))
    protocol.vault.close(id_, WAD + 1, sender=protocol.writer)
    got_a = protocol.usd.balanceOf(protocol.writer)
    assert a - 1 <= got_a <= a
    protocol.vault.close(id_, 2 * WAD + 1, sender=second_writer)
    assert got_a + protocol.usd.balanceOf(second_writer) == a + b
    assert protocol.vault.usd_held() == protocol.usd.balanceOf(protocol.vault.address) == 0
    assert protocol.vault.shorts(id_).shares == 0


def test_totals_conserved_across_series_and_writers(protocol, opts, second_writer, second_buyer):
    writer, buyer = protocol.writer, protocol.buyer
    call = opts.list(3000, is_call=True)
    put = opts.list(3000, is_call=False)
    put2 = opts.list(2_500, is_call=False, days=14)
    opts.write(writer, call, 2 * WAD)
    opts.write(second_writer, call, WAD // 3)
    opts.write(writer, put, WAD)
    opts.write(second_writer, put2, 5 * WAD)
    opts.give(writer, buyer, call, WAD)
    opts.give(second_writer, second_buyer, put2, WAD)
    protocol.vault.close(call, WAD // 2, sender=writer)
    ids = [call, put, put2]
    opts.assert_conserved(ids)
    assert protocol.vault.weth_held() == 2 * WAD + WAD // 3 - WAD // 2
    assert protocol.vault.usd_held() == 3_000 * 10**6 + 12_500 * 10**6
    S, _ = opts.expire(call, 3_300 * WAD)  # call and put share the expiry
    protocol.series.settle(put, sender=protocol.keeper)
    assert protocol.series.settlement_price(put) == S
    for id_, w in ((call, writer), (call, second_writer), (put, writer)):
        protocol.vault.settle_writer(id_, w, sender=protocol.keeper)
    opts.assert_conserved(ids)
    protocol.series.redeem(call, WAD, sender=buyer)
    opts.assert_conserved(ids)
    # put2 has not expired: still fully locked.
    assert protocol.vault.series_collateral(put2) == 12_500 * 10**6
