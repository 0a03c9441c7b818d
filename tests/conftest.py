"""Session fixtures for the DSI test suite: role-named accounts and the deployed OptionPricer.

Accounts are ape's deterministic test accounts (ape's `accounts` fixture *is*
`accounts.test_accounts`; `test.number_of_accounts` in ape-config.yaml), named by protocol role.
The pricer is stateless, so one deployment serves the whole session.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
# `from dsi.reference import pricing as ref` and `import pricer_support` from any test module.
for path in (ROOT, TESTS):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


@pytest.fixture(scope="session")
def roles(accounts):
    """Role -> account, from the one role table the protocol deployer uses."""
    from dsi.protocol import role_accounts

    return role_accounts(accounts)


@pytest.fixture(scope="session")
def deployer(roles):
    return roles["deployer"]


@pytest.fixture(scope="session")
def writer(roles):
    """Sells (writes) options."""
    return roles["writer"]


@pytest.fixture(scope="session")
def buyer(roles):
    """Buys options."""
    return roles["buyer"]


@pytest.fixture(scope="session")
def keeper(roles):
    """Runs settlement and liquidations."""
    return roles["keeper"]


def _fresh_build(project, name: str):
    """`name` compiled now from the working tree, bypassing ape's build cache.

    ape-config.yaml excludes the imported modules (`math/*.vy`) from compilation, so ape does not
    track them as sources: an edit to contracts/math/*.vy leaves OptionPricer's cached bytecode in
    .build/ untouched, and `ape compile` / `ape test` would silently test the old math.
    """
    from ape import compilers

    source = Path(project.contracts_folder) / f"{name}.vy"
    for contract_type in compilers.compile([source], project=project):
        if contract_type.name == name:
            return contract_type
    raise LookupError(name)


@pytest.fixture(scope="session")
def pricer(project, deployer):
    """The stateless Black-76 / SVI / normal-distribution pricer, deployed once per session."""
    container = project.OptionPricer
    fresh = _fresh_build(project, "OptionPricer")
    if fresh.runtime_bytecode != container.contract_type.runtime_bytecode:
        from ape.contracts import ContractContainer

        warnings.warn(
            "ape's cached OptionPricer is stale (contracts/math/*.vy changed since it was built); "
            "testing a fresh build of the working tree instead. `ape compile --force` refreshes the cache.",
            stacklevel=1,
        )
        container = ContractContainer(fresh)
    return container.deploy(sender=deployer)


# --- Fast reverts -----------------------------------------------------------
# ape-foundry renders a full call trace on every revert (0.3-20 s each); tests only
# need the reason. The lab's Ape backend installs the same patch: one definition.
from dsi.chain._ape import fast_reverts  # noqa: E402

fast_reverts()
