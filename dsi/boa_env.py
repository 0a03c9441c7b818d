"""In-process EVM (titanoboa) access to the project's contracts, for volume: benchmarks, Monte Carlo, fuzzing.

The same sources that `ape compile` builds are loaded here with the same import paths
(the project root for `contracts.*` relative imports and site-packages for snekmate).
"""

from __future__ import annotations

import sysconfig
from functools import lru_cache
from pathlib import Path

import boa

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = ROOT / "contracts"


@lru_cache(maxsize=None)
def _configure() -> None:
    boa.interpret.set_search_paths([str(ROOT), sysconfig.get_paths()["purelib"]])
    # Compiled output cached inside the project (never in $HOME).
    boa.interpret.set_cache_dir(str(ROOT / ".cache" / "boa"))


@lru_cache(maxsize=None)
def deployer(relpath: str):
    """A compiled `VyperDeployer` for `contracts/<relpath>` (cached per process)."""
    _configure()
    return boa.load_partial(str(CONTRACTS / relpath))


def deploy(relpath: str, *args, **kwargs):
    return deployer(relpath).deploy(*args, **kwargs)
