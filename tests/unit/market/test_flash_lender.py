"""FlashLender: ERC-3156 fee math, a repaid loan, and every way a loan fails."""

import ape
import pytest
from eth_utils import keccak

import market_model as m
from market_model import LENDER_USD, LENDER_WETH, USD, WETH


def test_callback_constant_is_the_erc3156_hash():
    assert keccak(m.CALLBACK_SUCCESS_PREIMAGE).hex() == (
        "439148f0bbc682ca079e46d6e2c2f0c1e3b820f1a291b069d8882abf8cf18dd9"
    )


def test_max_flash_loan_is_deposited_liquidity(lender, weth, usd, stranger_token):
    assert lender.maxFlashLoan(weth) == LENDER_WETH
    assert lender.maxFlashLoan(usd) == LENDER_USD
    assert lender.maxFlashLoan(stranger_token) == 0
    assert lender.fee_bps() == m.FLASH_DEFAULT_FEE_BPS


@pytest.mark.parametrize("amount", [1, 1_999, 2_000, 2_001, 10_000, 123_456_789 * USD])
def test_flash_fee_rounds_up(lender, usd, amount):
    assert lender.flashFee(usd, amount) == m.flash_fee(amount)


def test_flash_fee_examples(lender, weth, usd):
    assert lender.flashFee(usd, 1_000_000 * USD) == 500 * USD  # 5 bps
    assert lender.flashFee(weth, 1) == 1  # dust never borrows for free
    assert lender.flashFee(weth, 20_000) == 10


def test_flash_fee_unsupported_token(lender, stranger_token):
    with ape.reverts("flash: unsupported token"):
        lender.flashFee(stranger_token, 1)


def test_repaid_loan_moves_fee_to_lender(lender, flash_borrower, weth, attacker, fund):
    amount = 300 * WETH
    fee = m.flash_fee(amount)
    fund(weth, flash_borrower, fee)
    receipt = flash_borrower.borrow(weth, amount, m.REPAY, sender=attacker)

    assert flash_borrower.last_amount() == amount
    assert flash_borrower.last_fee() == fee == 3 * WETH // 20
    assert flash_borrower.last_initiator() == flash_borrower
    assert weth.balanceOf(flash_borrower) == 0
    assert weth.balanceOf(lender) == LENDER_WETH + fee
    assert lender.liquidity(weth) == lender.maxFlashLoan(weth) == LENDER_WETH + fee
    assert lender.fees_earned(weth) == fee
    assert receipt.events.filter(lender.FlashLoan) == [
        lender.FlashLoan(
            receiver=flash_borrower, token=weth, initiator=flash_borrower, amount=amount, fee=fee
        )
    ]


def test_whole_liquidity_can_be_borrowed(lender, flash_borrower, usd, attacker, fund):
    fee = m.flash_fee(LENDER_USD)
    fund(usd, flash_borrower, fee)
    flash_borrower.borrow(usd, LENDER_USD, m.REPAY, sender=attacker)
    assert usd.balanceOf(lender) == LENDER_USD + fee == lender.maxFlashLoan(usd)


def test_wrong_callback_hash_reverts(lender, flash_borrower, weth, attacker, fund):
    fund(weth, flash_borrower, WETH)
    with ape.reverts("flash: callback failed"):
        flash_borrower.borrow(weth, WETH, m.WRONG_HASH, sender=attacker)
    assert weth.balanceOf(lender) == LENDER_WETH
    assert weth.balanceOf(flash_borrower) == WETH


def test_unpaid_loan_reverts(lender, flash_borrower, weth, attacker, fund):
    fund(weth, flash_borrower, WETH)
    with ape.reverts("flash: repay failed"):
        flash_borrower.borrow(weth, 10 * WETH, m.NO_REPAY, sender=attacker)
    assert weth.balanceOf(lender) == LENDER_WETH
    assert lender.fees_earned(weth) == 0


def test_unsupported_token_reverts(lender, flash_borrower, stranger_token, attacker):
    with ape.reverts("flash: unsupported token"):
        flash_borrower.borrow(stranger_token, 1, m.REPAY, sender=attacker)


def test_amount_above_max_reverts(lender, flash_borrower, usd, attacker, fund):
    fund(usd, flash_borrower, LENDER_USD)
    with ape.reverts("flash: amount above max"):
        flash_borrower.borrow(usd, LENDER_USD + 1, m.REPAY, sender=attacker)


def test_donation_is_not_lendable(lender, weth, attacker, fund):
    fund(weth, attacker, 7 * WETH)
    weth.transfer(lender, 7 * WETH, sender=attacker)
    assert weth.balanceOf(lender) == LENDER_WETH + 7 * WETH
    assert lender.maxFlashLoan(weth) == LENDER_WETH


def test_deposit_by_anyone_and_withdraw_by_owner(lender, usd, lp, deployer, attacker, fund):
    fund(usd, lp, 1_000 * USD, lender)
    lender.deposit(usd, 1_000 * USD, sender=lp)
    assert lender.maxFlashLoan(usd) == LENDER_USD + 1_000 * USD

    with ape.reverts("ownable: caller is not the owner"):
        lender.withdraw(usd, 1, attacker, sender=attacker)
    lender.withdraw(usd, 400 * USD, deployer, sender=deployer)
    assert usd.balanceOf(deployer) == 400 * USD
    assert lender.liquidity(usd) == LENDER_USD + 600 * USD
    assert usd.balanceOf(lender) == LENDER_USD + 600 * USD


def test_fee_setter_bound_and_owner_only(lender, flash_borrower, weth, deployer, attacker, fund):
    with ape.reverts("ownable: caller is not the owner"):
        lender.set_fee(0, sender=attacker)
    with ape.reverts("flash: fee above bound"):
        lender.set_fee(m.FLASH_MAX_FEE_BPS + 1, sender=deployer)
    lender.set_fee(m.FLASH_MAX_FEE_BPS, sender=deployer)
    assert lender.fee_bps() == m.FLASH_MAX_FEE_BPS
    assert lender.flashFee(weth, 10 * WETH) == m.flash_fee(10 * WETH, m.FLASH_MAX_FEE_BPS) == WETH // 10

    fund(weth, flash_borrower, WETH // 10)
    flash_borrower.borrow(weth, 10 * WETH, m.REPAY, sender=attacker)
    assert lender.fees_earned(weth) == WETH // 10
