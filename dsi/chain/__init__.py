"""How the lab talks to an EVM, behind one small API so scenario code does not know which.

A `Backend` has:
- `project`: `project.<ContractName>.deploy(*args, sender=account)` deploys a contract from
  `contracts/` (Ape's project on any network, or `BoaProject`: the same sources compiled in
  process with titanoboa);
- `accounts`: the role accounts' source (`dsi.protocol.role_accounts(backend.accounts)`);
- `chain`: a `ChainFacade` (time, mining, snapshots, gas spent, calls made).

So `dsi.protocol.deploy(backend.project, backend.accounts, params)` and `deploy_margin` run
unchanged on both, and contract calls look the same (`contract.fn(*args, sender=account)`;
both backends accept `sender=` on views and transactions). Two backends:

- `ape_backend()`: Ape on the connected network (default: a local anvil that Ape starts). Every
  transaction is its own block; the block clock is made deterministic (each block stamped
  exactly `block_interval` seconds after the previous, default 0: time moves only through
  `chain.mine`) so the same scenario gives the same numbers as in process.
- `boa_backend()`: titanoboa in process, for volume (Monte Carlo, fuzzing, long replays): a
  fresh EVM with its own accounts; time moves only through `chain.mine`.
"""

from dsi.chain._ape import ApeChain  # noqa: F401  (imports nothing from ape until used)
from dsi.chain.base import Backend, ChainFacade, Reverted  # noqa: F401


def ape_backend(project=None, accounts=None, chain=None, block_interval: int | None = 0) -> "Backend":
    from dsi.chain._ape import make

    return make(project, accounts, chain, block_interval)


def boa_backend(n_accounts: int = 10) -> "Backend":
    from dsi.chain._boa import make

    return make(n_accounts)


def revm_backend(n_accounts: int = 10) -> "Backend":
    from dsi.chain._revm import make

    return make(n_accounts)


BACKENDS = ("ape", "boa", "revm")


def backend(name: str, **kwargs) -> "Backend":
    """`backend("ape")`, `backend("boa")` or `backend("revm")`."""
    if name == "ape":
        return ape_backend(**kwargs)
    if name == "boa":
        return boa_backend(**kwargs)
    if name == "revm":
        return revm_backend(**kwargs)
    raise ValueError(f"chain: unknown backend {name!r} (expected one of {BACKENDS})")
