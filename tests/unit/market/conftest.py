"""Fixtures for the market contracts: two collateral tokens, a funded WETH/USD
spot pool, a funded ERC-3156 flash lender and a scriptable flash borrower, built by the
`build` fixture (tests/builder.py).

Everything is deployed once per session; the chain is restored after each test.
Accounts are the role fixtures of tests/conftest.py: the `lp` provides the pool's liquidity, the
`arbitrageur` trades it, the `attacker` tries what it should not be able to do.
"""

import pytest

from market_model import (
    LENDER_USD,
    LENDER_WETH,
    POOL_USD,
    POOL_WETH,
    USD_DECIMALS,
    WETH_DECIMALS,
)


@pytest.fixture(scope="session")
def create_token(build):
    """create_token(name, symbol, decimals): a fresh CollateralToken owned by the deployer."""
    return build.token


@pytest.fixture(scope="session")
def usd(create_token):
    return create_token("DSI USD", "dUSD", USD_DECIMALS)


@pytest.fixture(scope="session")
def weth(create_token):
    return create_token("Wrapped Ether", "WETH", WETH_DECIMALS)


@pytest.fixture(scope="session")
def fund(deployer):
    """fund(token, account, amount, spender=None): mint, and approve `spender` for it."""

    def _fund(token, account, amount, spender=None):
        token.mint(account, amount, sender=deployer)
        if spender is not None:
            token.approve(spender, amount, sender=account)

    return _fund


@pytest.fixture(scope="session")
def create_pool(build, weth, usd):
    """create_pool(): a fresh WETH/USD pool with no liquidity."""

    def _create_pool():
        return build.pool(weth, usd)

    return _create_pool


@pytest.fixture
def empty_pool(create_pool):
    return create_pool()


@pytest.fixture(scope="session")
def pool(build, lp, weth, usd):
    """A pool with opening liquidity from `lp` at 3,000 USD/WETH."""
    return build.pool(weth, usd, lp, POOL_WETH, POOL_USD)


@pytest.fixture(scope="session")
def lender(build, weth, usd):
    """A flash lender of WETH and USD with deposits from the deployer."""
    return build.lender({weth: LENDER_WETH, usd: LENDER_USD})


@pytest.fixture(scope="session")
def flash_borrower(project, deployer, lender, pool):
    return project.FlashBorrowerMock.deploy(lender, pool, sender=deployer)


@pytest.fixture(scope="session")
def stranger_token(create_token):
    """A token neither the pool nor the lender supports."""
    return create_token("Stranger", "STR", 18)
