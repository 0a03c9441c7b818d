"""The test suite's in-process chain: Ape's test API over the revm backend (`dsi.chain._revm`).

Most of the suite is about contract logic (what a call returns, what it refuses, what the books
say afterwards), which a node does not change: no RPC, mempool, gas pricing or block production
is involved. Those tests run here, on the same bytecode `ape compile` builds into `.build/`,
executed by the Rust EVM, instead of on anvil through Ape (~45 transactions/s through Ape's
per-call overhead, against thousands here). The test bodies are the ones written for Ape:

- `project.<Name>.deploy(*args, sender=account)` and `.at(address)`; contract calls
  `contract.fn(*args, sender=account)`; a view returns its value, a transaction returns a
  `Receipt` (`return_value`, `events`, `decode_logs(contract.Event)`, `block_number`), and
  `fn.call(...)` dry-runs a transaction and returns its value;
- a revert raises `Reverted`, which is an `ape.exceptions.ContractLogicError`, so
  `ape.reverts("reason")` and `pytest.raises(ContractLogicError)` work unchanged (a revert
  without a reason reads "Transaction failed.", as Ape reports it);
- `chain.blocks.head.timestamp` / `.number`, `chain.blocks[n]`, `chain.pending_timestamp`
  (settable: the next block's timestamp), `chain.mine(num_blocks, timestamp=, deltatime=)`,
  `chain.snapshot()` / `chain.restore(...)`, `chain.isolate()`, `chain.provider.get_code(address)`;
- accounts are Ape's own test accounts (the same addresses as on anvil): the chain only needs
  their addresses, and funds them with ether.

Each transaction is mined in its own block, as on anvil; the clock moves only when a test moves
it (`mine`, `pending_timestamp`), where anvil follows the wall clock between blocks (a few
seconds of drift a test could not rely on anyway).

Not provided, on purpose: gas. revm keeps storage slots warm across transactions (the state is
one journal that is never committed), so it under-counts cold-slot costs; `Receipt.gas_used`
raises instead of returning a wrong figure, and tests that assert gas run on anvil.
"""

from __future__ import annotations

from collections import namedtuple
from contextlib import contextmanager

import eth_abi
from ape.exceptions import ContractLogicError, TransactionError
from eth_utils import keccak, to_checksum_address

from dsi.chain import Reverted as ChainReverted
from dsi.chain._revm import (
    RevmChain,
    RevmContainer,
    RevmContract,
    RevmFunction,
    _abi_type,
    _arg,
    _artifacts,
)

NO_REASON = "reverted without a reason"  # what dsi.chain._revm decodes an empty revert to
ETHER = 10**24


class Reverted(ChainReverted, ContractLogicError):
    """A reverted call or transaction: `ape.reverts(...)` matches its `revert_message`."""

    def __init__(self, reason: str):
        message = TransactionError.DEFAULT_MESSAGE if reason == NO_REASON else reason
        ContractLogicError.__init__(self, revert_message=message)
        self.reason = message

    def __str__(self) -> str:
        return self.reason


def _plain(value):
    """Accounts and contracts as their addresses, recursively (lists of contracts, structs)."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return _arg(value)


# --- events ------------------------------------------------------------------------------------

class EventType:
    """`contract.EventName`: `decode_logs` / `events.filter` take it; calling it with (a subset
    of) the arguments makes the expected log `==` compares against, as Ape's mock logs."""

    def __init__(self, contract_address: str, abi: dict):
        self.contract = contract_address
        self.name = abi["name"]
        self.abi = abi
        types = [_abi_type(i) for i in abi["inputs"]]
        self.topic = keccak(text=f"{self.name}({','.join(types)})")
        fields = [(i["name"], _abi_type(i), _ape_converter(i), bool(i.get("indexed"))) for i in abi["inputs"]]
        self.indexed = [f[:3] for f in fields if f[3]]
        self.data = [f[:3] for f in fields if not f[3]]
        self.names = [i["name"] for i in abi["inputs"]]

    def decode(self, address: str, topics: list[bytes], data: bytes, index: int) -> "Log":
        args = {}
        for (name, typ, conv), topic in zip(self.indexed, topics[1:]):
            if typ in ("string", "bytes") or typ.endswith("]") or typ.startswith("("):
                args[name] = topic  # a hash, as for any indexed dynamic type
            else:
                value = eth_abi.decode([typ], topic)[0]
                args[name] = conv(value) if conv else value
        values = eth_abi.decode([t for _, t, _ in self.data], data) if self.data else ()
        for (name, _, conv), value in zip(self.data, values):
            args[name] = conv(value) if conv else value
        ordered = {name: args[name] for name in self.names if name in args}
        return Log(self.name, to_checksum_address(address), ordered, index)

    def __call__(self, *args, **kwargs) -> "MockLog":
        expected = dict(zip(self.names, args))
        overlap = set(expected) & set(kwargs)
        if overlap:
            raise ValueError(f"overlapping keys: {sorted(overlap)}")
        expected.update(kwargs)
        unknown = set(expected) - set(self.names)
        if unknown:
            raise ValueError(f"{self.name} has no input(s) {sorted(unknown)}")
        return MockLog(self.name, self.contract, {k: _plain(v) for k, v in expected.items()})

    def __repr__(self):
        return f"<event {self.name} of {self.contract}>"


class Log:
    """A decoded log: its arguments as attributes (`log.amount`), `event_name`,
    `contract_address`, `event_arguments`, `log_index`."""

    def __init__(self, event_name: str, contract_address: str, event_arguments: dict, log_index: int):
        self.event_name = event_name
        self.contract_address = contract_address
        self.event_arguments = event_arguments
        self.log_index = log_index

    def __getattr__(self, name):
        arguments = self.__dict__.get("event_arguments", {})
        if name in arguments:
            return arguments[name]
        raise AttributeError(f"{self.__dict__.get('event_name', 'log')} has no argument {name!r}")

    def __getitem__(self, name):
        return self.event_arguments[name]

    def __eq__(self, other):
        if isinstance(other, MockLog):
            return other == self
        if isinstance(other, Log):
            return (self.event_name, self.contract_address, self.event_arguments) == \
                (other.event_name, other.contract_address, other.event_arguments)
        return NotImplemented

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.event_arguments.items())
        return f"{self.event_name}({args})"


def _equal_inputs(expected, actual) -> bool:
    if expected is None:
        return True  # not checked
    if isinstance(expected, (list, tuple)):
        return isinstance(actual, (list, tuple)) and len(actual) == len(expected) and \
            all(_equal_inputs(e, a) for e, a in zip(expected, actual))
    return expected == actual


class MockLog:
    """An expected log: equal to a log of the same event and contract whose arguments match every
    argument given (the others are not compared), as Ape's `MockContractLog`."""

    def __init__(self, event_name: str, contract_address: str, event_arguments: dict):
        self.event_name = event_name
        self.contract_address = contract_address
        self.event_arguments = event_arguments

    def __eq__(self, other):
        if not isinstance(other, Log):
            return NotImplemented
        if (other.event_name, other.contract_address) != (self.event_name, self.contract_address):
            return False
        return all(_equal_inputs(v, other.event_arguments.get(k)) for k, v in self.event_arguments.items())

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.event_arguments.items())
        return f"{self.event_name}({args}) (expected)"


class Logs(list):
    def filter(self, event: EventType, **kwargs) -> list[Log]:
        """The logs of `event` emitted by its contract whose arguments equal `kwargs`."""
        return [x for x in self if x.event_name == event.name and x.contract_address == event.contract
                and all(v is not None and _plain(v) == x.event_arguments.get(k) for k, v in kwargs.items())]


class Receipt:
    """What a transaction returns: `return_value`, `events` (every log, decoded with its
    contract's ABI), `decode_logs(event)` (the logs matching that event's signature, from any
    contract, as Ape decodes them), `block_number`, `timestamp` (its block's), `logs` (raw)."""

    def __init__(self, chain: "InprocChain", return_value, logs: list, block_number: int, timestamp: int):
        self.chain = chain
        self.return_value = return_value
        self.logs = logs  # [(address, topics, data)]
        self.block_number = block_number
        self.timestamp = timestamp

    @property
    def events(self) -> Logs:
        out = Logs()
        for i, (address, topics, data) in enumerate(self.logs):
            event = self.chain._event_for(address, topics[0] if topics else b"")
            if event is not None:
                out.append(event.decode(address, topics, data, i))
            else:
                out.append(Log(f"UnknownLog_WithIndex_{i}", to_checksum_address(address), {"root": data}, i))
        return out

    def decode_logs(self, event: EventType | list | None = None) -> Logs:
        if event is None:
            return self.events
        events = event if isinstance(event, (list, tuple)) else [event]
        by_topic = {e.topic: e for e in events}
        out = Logs()
        for i, (address, topics, data) in enumerate(self.logs):
            e = by_topic.get(topics[0]) if topics else None
            if e is not None and len(topics) == 1 + len(e.indexed):
                out.append(e.decode(address, topics, data, i))
        return out

    @property
    def gas_used(self):
        raise NotImplementedError("inproc: revm keeps storage slots warm across transactions and "
                                  "under-counts gas; a test that asserts gas runs on anvil")


# --- contracts ---------------------------------------------------------------------------------

def _ape_converter(item: dict):
    """Decoded eth_abi values as Ape returns them: arrays as lists, structs as named tuples,
    addresses checksummed; None when nothing needs converting."""
    t = item["type"]
    if t.endswith("]"):
        inner = dict(item, type=t[:t.rindex("[")])
        sub = _ape_converter(inner)
        return (lambda v: [sub(x) for x in v]) if sub else list
    if t == "tuple":
        comps = item["components"]
        name = item.get("internalType", "struct").split(" ")[-1].split(".")[-1].replace("[]", "") or "struct"
        names = [c["name"] or f"field{i}" for i, c in enumerate(comps)]
        cls = namedtuple(name.split("[")[0], names, rename=True)
        subs = [_ape_converter(c) for c in comps]
        return lambda v: cls(*[(s(x) if s else x) for s, x in zip(subs, v)])
    if t == "address":
        return to_checksum_address
    return None


class InprocFunction(RevmFunction):
    def __init__(self, contract, abis: list[dict]):
        super().__init__(contract, abis)
        for abi in abis:
            n = len(abi["inputs"])
            selector, inputs, outputs, _, static = self.by_arity[n]
            convs = [_ape_converter(o) for o in abi["outputs"]]
            self.by_arity[n] = (selector, inputs, outputs, convs, static)

    def __call__(self, *args, sender=None, value=0, gas=None, skip_trace=False):
        selector, inputs, outputs, convs, static = self._resolve(args)
        data = selector + eth_abi.encode(inputs, [_plain(a) for a in args])
        chain = self.contract.chain
        if static:
            out = chain._call(sender, self.contract.address, data, value, gas, True)
            return self._decode(out, outputs, convs)
        out, logs, number = chain._transact(sender, self.contract.address, data, value, gas)
        return Receipt(chain, self._decode(out, outputs, convs), logs, number, chain._timestamp)

    def call(self, *args, sender=None, value=0, gas=None, skip_trace=False):
        """The transaction's return value, dry-run: nothing is kept (Ape's `fn.call`)."""
        selector, inputs, outputs, convs, _ = self._resolve(args)
        data = selector + eth_abi.encode(inputs, [_plain(a) for a in args])
        chain = self.contract.chain
        with chain.isolate():
            out = chain._call(sender, self.contract.address, data, value, gas, False)
            return self._decode(out, outputs, convs)

    def encode_input(self, *args) -> bytes:
        selector, inputs, *_ = self._resolve(args)
        return selector + eth_abi.encode(inputs, [_plain(a) for a in args])

    def _resolve(self, args):
        try:
            return self.by_arity[len(args)]
        except KeyError:
            raise TypeError(f"inproc: {self.contract.name}.{self.name} takes {sorted(self.by_arity)} "
                            f"arguments, got {len(args)}") from None

    @staticmethod
    def _decode(out: bytes, outputs, convs):
        if not outputs:
            return None
        values = eth_abi.decode(outputs, out)
        values = tuple((c(v) if c else v) for c, v in zip(convs, values))
        return values[0] if len(values) == 1 else values


class InprocContract(RevmContract):
    def __init__(self, chain: "InprocChain", name: str, abi: list[dict], address: str):
        self.chain = chain
        self.name = name
        self.address = to_checksum_address(address)
        groups: dict[str, list] = {}
        for item in abi:
            if item.get("type") == "function":
                groups.setdefault(item["name"], []).append(item)
            elif item.get("type") == "event":
                setattr(self, item["name"], EventType(self.address, item))
        for fn_name, abis in groups.items():
            setattr(self, fn_name, InprocFunction(self, abis))
        chain._register(self.address, abi)

    def __eq__(self, other):
        if hasattr(other, "address") or isinstance(other, str):
            return _arg(other) == self.address
        return NotImplemented

    def __hash__(self):
        return hash(self.address)


class InprocContainer(RevmContainer):
    def __init__(self, chain: "InprocChain", name: str, artifact: dict | None = None):
        if artifact is None:
            super().__init__(chain, name)
            return
        self.chain, self.name = chain, name
        self.abi = artifact["abi"]
        self.initcode = bytes.fromhex(artifact["deploymentBytecode"]["bytecode"].removeprefix("0x"))
        ctor = [item for item in self.abi if item.get("type") == "constructor"]
        self.ctor_types = [_abi_type(i) for i in ctor[0]["inputs"]] if ctor else []

    def deploy(self, *args, sender=None):
        if len(args) != len(self.ctor_types):
            raise TypeError(f"inproc: {self.name} constructor takes {len(self.ctor_types)} arguments, "
                            f"got {len(args)}")
        code = self.initcode + eth_abi.encode(self.ctor_types, [_plain(a) for a in args])
        return InprocContract(self.chain, self.name, self.abi, self.chain._create(sender, code))

    def at(self, address):
        return InprocContract(self.chain, self.name, self.abi, _arg(address))


class InprocProject:
    """`project.<Name>`: the contracts of Ape's build (`.build/__local__.json`)."""

    def __init__(self, chain: "InprocChain"):
        self._chain = chain
        self._containers = {}

    def __getattr__(self, name: str) -> InprocContainer:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._containers:
            if name not in _artifacts():
                raise AttributeError(f"inproc: no contract named {name!r} in .build/")
            self._containers[name] = InprocContainer(self._chain, name)
        return self._containers[name]

    def container(self, name: str, contract_type: dict) -> InprocContainer:
        """A container for a contract type built elsewhere (a fresh compile: {abi, deploymentBytecode})."""
        return InprocContainer(self._chain, name, contract_type)


# --- the chain ---------------------------------------------------------------------------------

Block = namedtuple("Block", "number timestamp")


class _Blocks:
    def __init__(self, chain: "InprocChain"):
        self._chain = chain

    @property
    def head(self) -> Block:
        return Block(self._chain._number, self._chain._timestamp)

    @property
    def height(self) -> int:
        return self._chain._number

    def __getitem__(self, number: int) -> Block:
        if number < 0:
            number += self._chain._number + 1
        return Block(number, self._chain._stamp_of(number))


class InprocChain(RevmChain):
    name = "inproc"

    def __init__(self, funded=()):
        super().__init__()
        self._next_timestamp = None
        self._stamps = [(0, self._timestamp)]  # (first block number, timestamp), by block number
        self._abis: dict[str, dict] = {}  # address -> {topic: EventType}
        self.blocks = _Blocks(self)
        for account in funded:
            self.evm.set_balance(_arg(account), ETHER)
        if funded:
            self.default_sender = _arg(funded[0])

    # -- clock --

    @property
    def pending_timestamp(self) -> int:
        return self._timestamp if self._next_timestamp is None else self._next_timestamp

    @pending_timestamp.setter
    def pending_timestamp(self, value: int) -> None:
        if value < self._timestamp:
            raise ValueError(f"inproc: timestamp {value} is before the head's {self._timestamp}")
        self._next_timestamp = int(value)

    def _new_block(self, blocks: int, timestamp: int) -> None:
        self._number += blocks
        if timestamp != self._timestamp:
            self._stamps.append((self._number, timestamp))
        self._timestamp = timestamp
        self._next_timestamp = None
        self._apply_block()

    def _stamp_of(self, number: int) -> int:
        if number > self._number:
            raise IndexError(f"inproc: no block {number} (head {self._number})")
        stamp = self._stamps[0][1]
        for first, ts in self._stamps:
            if first > number:
                break
            stamp = ts
        return stamp

    def mine(self, num_blocks: int = 1, timestamp: int | None = None, deltatime: int | None = None,
             blocks: int | None = None) -> None:
        """Ape's `chain.mine`: `num_blocks` blocks, the last at `timestamp`, or `deltatime` after the
        pending timestamp (the head's unless set); `blocks=` as the dsi.chain facade names it."""
        if timestamp is not None and deltatime:
            raise ValueError("inproc: timestamp or deltatime, not both")
        n = blocks if blocks is not None else num_blocks
        target = timestamp if timestamp is not None else self.pending_timestamp + (deltatime or 0)
        if target < self._timestamp:
            raise ValueError(f"inproc: timestamp {target} is before the head's {self._timestamp}")
        self._new_block(n, target)

    # -- transactions --

    def _transact(self, sender, to, data, value, gas):
        """A transaction in its own block: (output, logs, block number); nothing is mined when it
        reverts (as Ape, which refuses a failing transaction at estimation)."""
        number, stamp = self._number, self._timestamp
        self._number, self._timestamp = number + 1, self.pending_timestamp
        self._apply_block()
        try:
            out = self._call(sender, to, data, value, gas, False)
        except BaseException:
            self._number, self._timestamp = number, stamp
            self._apply_block()
            raise
        logs = [(log.address, list(log.data[0]), bytes(log.data[1])) for log in self.evm.result.logs]
        self._number, self._timestamp = number, stamp
        self._new_block(1, self.pending_timestamp)
        return out, logs, self._number

    def _call(self, sender, to, data, value, gas, static) -> bytes:
        try:
            return super()._call(sender, to, data, value, gas, static)
        except ChainReverted as e:
            raise Reverted(str(e)) from None

    def _create(self, sender, code) -> str:
        number, stamp = self._number, self._timestamp
        self._number, self._timestamp = number + 1, self.pending_timestamp
        self._apply_block()
        try:
            address = super()._deploy(sender, code)
        except ChainReverted as e:
            self._number, self._timestamp = number, stamp
            self._apply_block()
            raise Reverted(str(e)) from None
        self._number, self._timestamp = number, stamp
        self._new_block(1, self.pending_timestamp)
        return address

    # -- events --

    def _register(self, address: str, abi: list[dict]) -> None:
        self._abis[address.lower()] = _events_of(address, abi)

    def _event_for(self, address: str, topic: bytes):
        return self._abis.get(address.lower(), {}).get(bytes(topic))

    # -- state --

    def snapshot(self):
        return (self.evm.snapshot(), self._timestamp, self._number, self._gas, self._next_timestamp,
                len(self._stamps))

    def restore(self, snapshot) -> None:
        checkpoint, self._timestamp, self._number, self._gas, self._next_timestamp, stamps = snapshot
        self.evm.revert(checkpoint)
        del self._stamps[stamps:]
        self._apply_block()

    @contextmanager
    def isolate(self):
        snap = self.snapshot()
        try:
            yield
        finally:
            self.restore(snap)

    def get_code(self, address) -> bytes:
        return bytes(self.evm.get_code(_arg(address)) or b"")

    @property
    def provider(self) -> "InprocChain":
        """`chain.provider.get_code(address)`, as on Ape."""
        return self

    def gas_used(self):
        raise NotImplementedError("inproc: revm under-counts gas (warm slots); gas is measured on anvil")


def _events_of(address: str, abi: list[dict]) -> dict:
    return {e.topic: e for e in (EventType(to_checksum_address(address), item)
                                  for item in abi if item.get("type") == "event")}
