"""Session fixtures for the DSI test suite: the chains, role-named accounts and the OptionPricer.

Chains: `chain` and `project` (overriding Ape's fixtures of the same names) are the in-process
chain of tests/inproc.py: Ape's test API over revm, the same bytecode as `.build/`. Every test
using it starts from the state the session fixtures left (a snapshot restored after each test,
in place of Ape's isolation). What is about the node or Ape itself, or asserts gas (revm keeps
storage slots warm across transactions), runs on anvil through `node_chain` / `node_project`
(Ape's own chain and project; Ape isolates those tests). docs/benchmarks.md ("Test-suite
timing") lists which and why.

Accounts are ape's deterministic test accounts (ape's `accounts` fixture *is*
`accounts.test_accounts`; `test.number_of_accounts` in ape-config.yaml), named by protocol role;
the in-process chain funds the same addresses.
The pricer is stateless, so one deployment serves the whole session.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
# `from dsi.reference import pricing as ref` and `import pricer_support` from any test module.
for path in (ROOT, TESTS):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


# --- Chains -------------------------------------------------------------------


@pytest.fixture(scope="session")
def inproc(accounts):
    """The in-process chain and its project (tests/inproc.py), one per session."""
    from inproc import InprocChain, InprocProject

    chain = InprocChain(funded=[a.address for a in accounts])
    return SimpleNamespace(chain=chain, project=InprocProject(chain))


@pytest.fixture(scope="session")
def chain(inproc):
    """The in-process chain (overrides Ape's `chain`): `blocks.head`, `mine`, `pending_timestamp`."""
    return inproc.chain


@pytest.fixture(scope="session")
def project(inproc):
    """The project's contracts on the in-process chain (overrides Ape's `project`)."""
    return inproc.project


@pytest.fixture(scope="session")
def node_chain():
    """Ape's chain: the anvil node Ape started (for the tests about the node, or gas)."""
    import ape

    return ape.chain


@pytest.fixture(scope="session")
def node_project():
    """Ape's project, deploying to the anvil node."""
    import ape

    return ape.project


@pytest.fixture(autouse=True)
def _inproc_isolation(request):
    """A test on the in-process chain starts from what the session fixtures built and leaves
    nothing behind (its snapshot is restored); tests on the node are isolated by Ape."""
    if "inproc" not in request.fixturenames:
        yield
        return
    chain = request.getfixturevalue("inproc").chain
    snapshot = chain.snapshot()
    yield
    chain.restore(snapshot)


# --- Roles ---------------------------------------------------------------------


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
def pricer_type(node_project):
    """OptionPricer's contract type: Ape's build, or a fresh build of the working tree if the
    cached one is stale."""
    container = node_project.OptionPricer
    fresh = _fresh_build(node_project, "OptionPricer")
    if fresh.runtime_bytecode != container.contract_type.runtime_bytecode:
        warnings.warn(
            "ape's cached OptionPricer is stale (contracts/math/*.vy changed since it was built); "
            "testing a fresh build of the working tree instead. `ape compile --force` refreshes the cache.",
            stacklevel=1,
        )
        return fresh
    return container.contract_type


@pytest.fixture(scope="session")
def pricer(inproc, pricer_type, deployer):
    """The stateless Black-76 / SVI / normal-distribution pricer, deployed once per session."""
    abi = pricer_type.model_dump(mode="json", by_alias=True)
    return inproc.project.container("OptionPricer", abi).deploy(sender=deployer)


@pytest.fixture(scope="session")
def node_pricer(pricer_type, deployer):
    """The same pricer on anvil (for the gas budgets: eth_estimateGas)."""
    from ape.contracts import ContractContainer

    return ContractContainer(pricer_type).deploy(sender=deployer)


# --- Fast reverts -----------------------------------------------------------
# ape-foundry renders a full call trace on every revert (0.3-20 s each); tests only
# need the reason. The lab's Ape backend installs the same patch: one definition.
from dsi.chain._ape import fast_reverts  # noqa: E402

fast_reverts()
