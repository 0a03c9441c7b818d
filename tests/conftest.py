"""Session fixtures for the DSI test suite: the chains, role-named accounts and the OptionPricer.

Chains: `chain` and `project` (overriding Ape's fixtures of the same names) are the in-process
chain of tests/inproc.py: Ape's test API over revm, the same bytecode as `.build/`. Every test
using it starts from the state the session fixtures left (a snapshot restored after each test,
in place of Ape's isolation). What is about the node or Ape itself, or asserts gas (revm keeps
storage slots warm across transactions), runs on anvil through `node_chain` / `node_project`
(Ape's own chain and project; Ape isolates those tests). docs/benchmarks.md ("Test-suite
timing") lists which and why.

Deployments are built in one place, `build` / `node_build` (tests/builder.py, over
`dsi.protocol`), which the conftests' worlds use.

Accounts are ape's deterministic test accounts (ape's `accounts` fixture *is*
`accounts.test_accounts`; `test.number_of_accounts` in ape-config.yaml), named by protocol role;
the in-process chain funds the same addresses.
The pricer is stateless, so one deployment serves the whole session.
"""

from __future__ import annotations

import os
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

from dsi.protocol import ROLES  # noqa: E402


# --- Chains -------------------------------------------------------------------


# DSI_TEST_CHAIN=anvil runs the in-process tests on anvil instead (slow: to compare outcomes).
ON_ANVIL = os.environ.get("DSI_TEST_CHAIN") == "anvil"


@pytest.fixture(scope="session")
def inproc(accounts):
    """The in-process chain and its project (tests/inproc.py), one per session."""
    if ON_ANVIL:
        import ape

        return SimpleNamespace(chain=ape.chain, project=ape.project, on_anvil=True)
    from inproc import InprocChain, InprocProject

    chain = InprocChain(funded=[a.address for a in accounts])
    return SimpleNamespace(chain=chain, project=InprocProject(chain), on_anvil=False)


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


@pytest.fixture(scope="session")
def build(inproc, accounts):
    """The test deployments' builder (tests/builder.py) on the in-process chain."""
    from builder import Builder

    return Builder(inproc.project, accounts, inproc.chain)


@pytest.fixture(scope="session")
def node_build(node_project, accounts, node_chain):
    """The same builder on anvil."""
    from builder import Builder

    return Builder(node_project, accounts, node_chain)


@pytest.fixture(autouse=True)
def _inproc_isolation(request):
    """A test on the in-process chain starts from what the session fixtures built and leaves
    nothing behind (its snapshot is restored); tests on the node are isolated by Ape."""
    if "inproc" not in request.fixturenames or ON_ANVIL:
        yield
        return
    chain = request.getfixturevalue("inproc").chain
    snapshot = chain.snapshot()
    yield
    chain.restore(snapshot)


# --- Roles ---------------------------------------------------------------------


# The tests' participants beyond the protocol's roles, on the accounts after them (8, 9, ...):
# more writers and holders of one series, and a liquidity provider of the market tests.
EXTRA_ROLES = ("second_writer", "second_buyer", "third_writer", "lp")
ROLE_HELP = {
    "deployer": "Deploys and owns the contracts.",
    "writer": "Sells (writes) options.",
    "buyer": "Buys options.",
    "keeper": "Runs settlement, TWAP observations and liquidations.",
    "arbitrageur": "Trades the pool (onto a price).",
    "attacker": "Holds no role; tries what it should not be able to do.",
    "reporter": "Pushes the price feed and the vol feed.",
    "guardian": "Cancels queued timelock operations; can only tighten risk parameters, for 7 days.",
    "second_writer": "Another writer of the same series (pro-rata assignment needs two).",
    "second_buyer": "Another holder of the same series.",
    "third_writer": "A writer who joins a series after an exercise.",
    "lp": "Provides the spot pool's liquidity (market tests).",
}


@pytest.fixture(scope="session")
def roles(accounts):
    """Role -> account: the protocol's role table (`dsi.protocol.ROLES`, what `deploy` uses) and
    the tests' extra participants after it."""
    from dsi.protocol import role_accounts

    table = role_accounts(accounts)
    table.update({role: accounts[len(ROLES) + i] for i, role in enumerate(EXTRA_ROLES)})
    return table


def _role_fixture(role: str):
    def fixture(roles):
        return roles[role]

    fixture.__name__ = role
    fixture.__doc__ = ROLE_HELP[role]
    return pytest.fixture(scope="session", name=role)(fixture)


for _role in (*ROLES, *EXTRA_ROLES):  # a session fixture per role: `deployer`, `writer`, ..., `lp`
    globals()[_role] = _role_fixture(_role)


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
def pricer(inproc, pricer_type, deployer, request):
    """The stateless Black-76 / SVI / normal-distribution pricer, deployed once per session."""
    if inproc.on_anvil:
        return request.getfixturevalue("node_pricer")
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


# --- Anvil without step tracing ----------------------------------------------
# The suite renders no call traces (errors come from the revert data, gas from receipts): one
# definition, shared with the gas bench (dsi.chain._ape.untraced_anvil).
from dsi.chain._ape import untraced_anvil  # noqa: E402

untraced_anvil()

