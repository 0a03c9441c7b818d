"""The Ape backend: any network Ape is connected to (default: a local anvil Ape starts)."""

from __future__ import annotations

from dsi.chain.base import Backend, ChainFacade


class ApeChain(ChainFacade):
    name = "ape"

    def __init__(self, chain, block_interval: int | None = 0):
        self.chain = chain
        self._start_block = chain.blocks.head.number
        self._gas_counted_to = self._start_block
        self._gas = 0
        self.block_interval = block_interval
        if block_interval is not None and self._is_anvil():
            # Deterministic clock: each new block is stamped exactly `block_interval` s after
            # the previous one instead of following the wall clock.
            self.chain.provider.make_request("anvil_setBlockTimestampInterval", [block_interval])

    def _is_anvil(self) -> bool:
        return type(self.chain.provider).__name__ == "FoundryProvider"

    def close(self) -> None:
        if self.block_interval is not None and self._is_anvil():
            self.chain.provider.make_request("anvil_removeBlockTimestampInterval", [])

    @property
    def timestamp(self) -> int:
        return self.chain.blocks.head.timestamp

    @property
    def pending_timestamp(self) -> int:
        return self.chain.pending_timestamp

    @property
    def block_number(self) -> int:
        return self.chain.blocks.head.number

    @property
    def chain_id(self) -> int:
        return self.chain.chain_id

    def mine(self, blocks: int = 1, deltatime: int = 0) -> None:
        if deltatime:
            # Stamp the mined block exactly `deltatime` after the head (not after the wall clock).
            target = self.timestamp + deltatime
            if blocks > 1:
                self.chain.mine(blocks - 1)
            self.chain.provider.make_request("evm_mine", [target])
        else:
            self.chain.mine(blocks)

    def snapshot(self):
        # the counter as it stands (counted up to `_gas_counted_to`): a restore puts it back, and
        # blocks before the snapshot not counted yet are counted when next asked
        return (self.chain.snapshot(), self._gas, self._gas_counted_to)

    def restore(self, snapshot) -> None:
        snap, self._gas, counted = snapshot
        self.chain.restore(snap)
        self._gas_counted_to = min(counted, self.block_number)

    def gas_used(self) -> int:
        head = self.block_number
        if head > self._gas_counted_to:
            w3 = self.chain.provider.web3
            for n in range(self._gas_counted_to + 1, head + 1):
                self._gas += w3.eth.get_block(n)["gasUsed"]
            self._gas_counted_to = head
        return self._gas

    def code_size(self, address) -> int:
        return len(self.chain.provider.get_code(address))

    def attempt(self, fn, *args, **kwargs):
        from ape.exceptions import ContractLogicError

        try:
            return True, fn(*args, **kwargs)
        except ContractLogicError as e:
            return False, str(e.message if hasattr(e, "message") else e)


def fast_reverts() -> None:
    """ape-foundry renders a full call trace (debug_traceTransaction) on every revert, 0.3-20 s
    each for the heavier contracts; the lab only needs the reason (attackers' refused actions
    are expected), so the error is built without rendering the trace (as tests/conftest.py)."""
    from ape.exceptions import ContractLogicError, TransactionError
    from ape_foundry.provider import FoundryProvider

    def _handle_execution_reverted(self, exception, revert_message=None, **kwargs):
        if revert_message == "0x" or not revert_message:
            revert_message = TransactionError.DEFAULT_MESSAGE
        if revert_message.startswith("revert: "):
            revert_message = revert_message[8:]
        kwargs.pop("trace", None)
        return ContractLogicError(base_err=exception, revert_message=revert_message, **kwargs)

    FoundryProvider._handle_execution_reverted = _handle_execution_reverted


def untraced_anvil() -> None:
    """Start anvil without `--steps-tracing` (ape-foundry's default adds it).

    With it every opcode of every transaction is recorded in anvil's memory for Ape's call
    traces. Nothing here renders one (errors are built from the revert data, gas comes from
    receipts and eth_estimateGas, which tracing does not change), and the recording made node
    tests 7-10x slower on heavy transactions (the 32-position margin checks: 71 s -> 9.5 s; Black
    Thursday on anvil: 161 s -> 15 s) and grew anvil past this machine's 23 GB: the gas bench's
    liquidation rows after the engine split (take@32, OOM-killed at 24 GB), and a full run of
    the old suite (~18 GB). Idempotent.
    """
    from ape_foundry.provider import FoundryProvider

    if getattr(FoundryProvider.build_command, "_dsi_untraced", False):
        return
    build_command = FoundryProvider.build_command

    def without_steps_tracing(self):
        return [arg for arg in build_command(self) if arg != "--steps-tracing"]

    without_steps_tracing._dsi_untraced = True
    FoundryProvider.build_command = without_steps_tracing


def make(project=None, accounts=None, chain=None, block_interval: int | None = 0) -> Backend:
    if project is None or accounts is None or chain is None:
        import ape

        project = project or ape.project
        accounts = accounts or ape.accounts
        chain = chain or ape.chain
    fast_reverts()
    return Backend(name="ape", project=project, accounts=accounts, chain=ApeChain(chain, block_interval))
