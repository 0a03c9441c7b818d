"""The backend-neutral part of `dsi.chain`: the `Backend` bundle and the chain facade's API."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass


class Reverted(Exception):
    """A transaction or call reverted (in-process backends); `str(e)` is the reason."""


class ChainFacade:
    """Time, mining, snapshots and counters, the same on every backend."""

    name = "abstract"

    @property
    def timestamp(self) -> int:
        """Timestamp of the latest block (what views read)."""
        raise NotImplementedError

    @property
    def pending_timestamp(self) -> int:
        """Timestamp the next transaction will run at."""
        raise NotImplementedError

    @property
    def block_number(self) -> int:
        raise NotImplementedError

    @property
    def chain_id(self) -> int:
        raise NotImplementedError

    def mine(self, blocks: int = 1, deltatime: int = 0) -> None:
        """Mine `blocks` blocks, the last one `deltatime` seconds after the current head."""
        raise NotImplementedError

    def snapshot(self):
        raise NotImplementedError

    def restore(self, snapshot) -> None:
        """Back to `snapshot`: state, clock and the gas counter (what ran in between, e.g. a
        simulation in `isolate`, is not counted as spent)."""
        raise NotImplementedError

    @contextmanager
    def isolate(self):
        """Everything done inside is undone on exit (state and clock)."""
        snap = self.snapshot()
        try:
            yield
        finally:
            self.restore(snap)

    def gas_used(self) -> int:
        """Gas used by all transactions since the facade was created (execution + intrinsic on
        ape: the receipts'; in process: the EVM's execution gas plus 21,000 per transaction)."""
        raise NotImplementedError

    def code_size(self, address) -> int:
        raise NotImplementedError

    def attempt(self, fn, *args, **kwargs):
        """Call `fn(*args, **kwargs)` (a contract method); returns (True, result) or, when the
        call reverts, (False, reason). The way scenario code tries actions that may be refused."""
        raise NotImplementedError


@dataclass
class Backend:
    name: str  # "ape" | "boa"
    project: object
    accounts: object
    chain: ChainFacade

    def contract_at(self, name: str, address: str):
        """A deployed contract of type `name` (a file in contracts/) at `address`."""
        return getattr(self.project, name).at(address)
