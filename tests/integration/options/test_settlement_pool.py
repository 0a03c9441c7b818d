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


LABEL = ref.engine_account("0x000000000000000000000000000000000000dEaD", 7)  # a custodian's sub-ledger
OTHER = ref.engine_account("0x000000000000000000000000000000000000dEaD", 8)


def _unfunded_longs(protocol, opts, holders_units, strike=3000, is_call=True):
    """A series whose longs (minted by the owner standing in for the margin engine) no writer
    backs: the pool holds only what payers put in. Returns the id."""
    token, d = protocol.option_token, protocol.deployer
    id_ = opts.list(strike, is_call=is_call)
    token.set_minter(d, True, sender=d)
    for holder, units in holders_units:
        token.mint(holder, id_, units, sender=d)
    return id_


def _top_up(protocol, id_, usd=0, weth=0):
    series, d = protocol.series, protocol.deployer
    series.set_payer(d, True, sender=d)
    for token, amount in ((protocol.usd, usd), (protocol.weth, weth)):
        if amount:
            token.mint(d, amount, sender=d)
            token.approve(series.address, amount, sender=d)
    series.pay_in(id_, usd, weth, sender=d)


def test_redeem_for_records_the_claim_under_the_caller_and_account(protocol, opts, expect_revert):
    """A claim redeemed under (buyer, LABEL) is the buyer's under that label only: not its wallet
    claim, not anyone else's under the same label. `redeem_for` / `claim_for` return exactly the
    tokens they transfer, to the caller."""
    series, buyer, attacker = protocol.series, protocol.buyer, protocol.attacker
    id_ = opts.list(3000, is_call=True)
    opts.write(protocol.writer, id_, WAD)  # the vault backs one of the three longs
    token, d = protocol.option_token, protocol.deployer
    token.set_minter(d, True, sender=d)
    token.mint(buyer, id_, 2 * WAD, sender=d)
    S, payoff = opts.expire(id_, 3_300 * WAD)
    protocol.vault.settle_writer(id_, sender=protocol.writer)  # pays WETH
    owed, funded = series.total_owed_value(id_), series.funded_value(id_)
    claim = ref.claim_units(payoff, WAD)
    entitled = ref.entitled_units(claim, owed, funded)

    before = opts.balances(buyer)
    tx = series.redeem_for(id_, WAD, LABEL, sender=buyer)
    value, usd_out, weth_out = tx.return_value
    assert value == entitled < claim
    assert (usd_out, weth_out) == ref.split_units(0, series.pool_weth(id_) + weth_out, S, value)
    after = opts.balances(buyer)
    assert (after[0] - before[0], after[1] - before[1]) == (usd_out, weth_out)
    assert [(log.holder, log.amount, log.claim, log.account) for log in tx.decode_logs(series.Redeemed)] == [
        (buyer, WAD, claim, LABEL)]
    assert [(log.value, log.usd_amount, log.weth_amount, log.account)
            for log in tx.decode_logs(series.ClaimPaid)] == [(value, usd_out, weth_out, LABEL)]
    assert series.pending_claim(id_, buyer, LABEL) == claim - entitled
    assert series.claim_value(id_, buyer, LABEL) == claim and series.claim_paid(id_, buyer, LABEL) == entitled
    assert series.pending_claim(id_, buyer) == series.pending_claim(id_, buyer, ref.WALLET) == 0
    assert series.pending_claim(id_, attacker, LABEL) == 0
    expect_revert("series: nothing to claim", series.claim_for, id_, LABEL, sender=buyer)  # not funded yet

    _top_up(protocol, id_, usd=-(-series.shortfall(id_) // USD_TO_WAD))
    assert series.claimable(id_, buyer, LABEL) == claim - entitled and series.claimable(id_, buyer) == 0
    # Nobody else can take it, under the same label or as a wallet claim; nor can the holder
    # through its wallet claim.
    expect_revert("series: nothing to claim", series.claim_for, id_, LABEL, sender=attacker)
    expect_revert("series: nothing to claim", series.claim, id_, sender=attacker)
    expect_revert("series: nothing to claim", series.claim, id_, sender=buyer)
    expect_revert("series: nothing to claim", series.claim_for, id_, OTHER, sender=buyer)
    before = opts.balances(buyer)
    value, usd_out, weth_out = series.claim_for(id_, LABEL, sender=buyer).return_value
    after = opts.balances(buyer)
    assert value == claim - entitled and (after[0] - before[0], after[1] - before[1]) == (usd_out, weth_out)
    assert series.pending_claim(id_, buyer, LABEL) == 0
    expect_revert("series: nothing to claim", series.claim_for, id_, LABEL, sender=buyer)
    # A second label of the same holder, redeemed after the top-up: paid in full at once.
    assert series.redeem_for(id_, WAD, OTHER, sender=buyer).return_value[0] == claim
    assert series.owed_value(id_) == owed - 2 * claim
    opts.assert_conserved([id_])


def test_redeem_for_and_claim_for_revert_reasons(protocol, opts, expect_revert):
    series, buyer = protocol.series, protocol.buyer
    id_ = opts.list(3000, is_call=True)
    opts.write(protocol.writer, id_, WAD)
    opts.give(protocol.writer, buyer, id_, WAD)
    expect_revert("series: not expired", series.redeem_for, id_, WAD, LABEL, sender=buyer)
    expect_revert("series: not settled", series.claim_for, id_, LABEL, sender=buyer)
    expect_revert("series: unknown series", series.redeem_for, 99, WAD, LABEL, sender=buyer)
    opts.expire(id_, 3_300 * WAD)
    expect_revert("series: zero amount", series.redeem_for, id_, 0, LABEL, sender=buyer)
    expect_revert("series: insufficient options", series.redeem_for, id_, WAD + 1, LABEL, sender=buyer)
    expect_revert("series: nothing to claim", series.claim_for, id_, LABEL, sender=buyer)
    protocol.vault.settle_writer(id_, sender=protocol.writer)
    series.redeem_for(id_, WAD, LABEL, sender=buyer)  # fully funded: paid in full
    expect_revert("series: nothing to claim", series.claim_for, id_, LABEL, sender=buyer)


def test_keyed_claims_match_the_pool_reference(protocol, opts, second_buyer):
    """A seeded sequence of pay-ins (USD and WETH), redemptions and claims by three holders under
    the wallet label and two sub-ledger labels, against `SettlementPoolModel`: every payment
    (value, USD, WETH) and the pool's state agree exactly."""
    import random

    series, buyer, attacker = protocol.series, protocol.buyer, protocol.attacker
    holders = (buyer, second_buyer, attacker)
    id_ = _unfunded_longs(protocol, opts, [(h, 3 * WAD) for h in holders])
    S, payoff = opts.expire(id_, 3_300 * WAD)
    model = ref.SettlementPoolModel(price=S, payoff=payoff, owed=series.total_owed_value(id_))
    left = {h.address: 3 * WAD for h in holders}
    rng = random.Random(13)
    for step in range(14):
        kind = ("pay", "redeem", "redeem", "claim")[step % 4]
        holder = holders[rng.randrange(3)]
        label = (ref.WALLET, LABEL, OTHER)[rng.randrange(3)]
        if kind == "pay":
            usd, weth = rng.randrange(1, 300) * 10**6, rng.randrange(1, 10**17)
            model.pay_in(usd, weth)
            _top_up(protocol, id_, usd=usd, weth=weth)
            continue
        if kind == "redeem":
            amount = min(left[holder.address], rng.choice([WAD // 3, WAD, 2 * WAD]))
            if amount == 0:
                continue
            left[holder.address] -= amount
            expected = model.redeem(holder.address, label, amount)
            tx = (series.redeem(id_, amount, sender=holder) if label == ref.WALLET
                  else series.redeem_for(id_, amount, label, sender=holder))
        else:
            if model.claimable(holder.address, label) == 0:
                continue
            expected = model.claim(holder.address, label)
            tx = (series.claim(id_, sender=holder) if label == ref.WALLET
                  else series.claim_for(id_, label, sender=holder))
        paid = [(log.holder, log.account, log.value, log.usd_amount, log.weth_amount)
                for log in tx.decode_logs(series.ClaimPaid)]
        assert paid == ([(holder.address, label, *expected)] if expected[0] else [])
    assert (series.pool_usd(id_), series.pool_weth(id_)) == (model.usd, model.weth)
    assert (series.funded_value(id_), series.paid_value(id_)) == (model.funded, model.paid)
    for holder in holders:
        for label in (ref.WALLET, LABEL, OTHER):
            assert series.pending_claim(id_, holder, label) == model.pending(holder.address, label)
            assert series.claimable(id_, holder, label) == model.claimable(holder.address, label)
