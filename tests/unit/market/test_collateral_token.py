"""CollateralToken: metadata and the minter role.

Each test deploys fresh tokens: the session's `usd`/`weth` carry the pool's
and the lender's opening balances once those fixtures exist.
"""

import ape
import pytest

from market_model import USD, USD_DECIMALS, WETH, WETH_DECIMALS


@pytest.fixture
def fresh_usd(create_token):
    return create_token("DSI USD", "dUSD", USD_DECIMALS)


@pytest.fixture
def fresh_weth(create_token):
    return create_token("Wrapped Ether", "WETH", WETH_DECIMALS)


def test_metadata(fresh_usd, fresh_weth, deployer):
    assert (fresh_usd.name(), fresh_usd.symbol(), fresh_usd.decimals()) == ("DSI USD", "dUSD", 6)
    assert (fresh_weth.name(), fresh_weth.symbol(), fresh_weth.decimals()) == ("Wrapped Ether", "WETH", 18)
    assert fresh_usd.owner() == deployer
    assert fresh_usd.totalSupply() == 0


def test_session_tokens_have_the_lab_decimals(usd, weth):
    assert (usd.symbol(), usd.decimals()) == ("dUSD", USD_DECIMALS)
    assert (weth.symbol(), weth.decimals()) == ("WETH", WETH_DECIMALS)


def test_deployer_is_minter_and_mints(fresh_usd, deployer, arbitrageur):
    assert fresh_usd.is_minter(deployer)
    fresh_usd.mint(arbitrageur, 1_234 * USD, sender=deployer)
    assert fresh_usd.balanceOf(arbitrageur) == 1_234 * USD
    assert fresh_usd.totalSupply() == 1_234 * USD


def test_non_minter_cannot_mint(fresh_weth, attacker):
    assert not fresh_weth.is_minter(attacker)
    with ape.reverts("erc20: access is denied"):
        fresh_weth.mint(attacker, WETH, sender=attacker)
    assert fresh_weth.balanceOf(attacker) == 0
    assert fresh_weth.totalSupply() == 0


def test_granted_minter_mints_until_revoked(fresh_usd, deployer, lp, arbitrageur):
    fresh_usd.set_minter(lp, True, sender=deployer)
    assert fresh_usd.is_minter(lp)
    fresh_usd.mint(arbitrageur, 7 * USD, sender=lp)
    assert fresh_usd.balanceOf(arbitrageur) == 7 * USD

    fresh_usd.set_minter(lp, False, sender=deployer)
    assert not fresh_usd.is_minter(lp)
    with ape.reverts("erc20: access is denied"):
        fresh_usd.mint(arbitrageur, 1, sender=lp)
    assert fresh_usd.totalSupply() == 7 * USD


def test_only_owner_grants_minter(fresh_usd, attacker):
    with ape.reverts("ownable: caller is not the owner"):
        fresh_usd.set_minter(attacker, True, sender=attacker)
    assert not fresh_usd.is_minter(attacker)


def test_decimals_above_18_rejected(create_token):
    with ape.reverts("token: decimals above 18"):
        create_token("Too fine", "FINE", 19)
