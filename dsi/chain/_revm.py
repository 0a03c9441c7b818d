"""The fast in-process backend: revm (Rust EVM) through pyrevm, with an Ape-shaped project.

titanoboa runs on py-evm, an interpreter in Python: ~400 token transfers/s and ~30 portfolio
margin checks/s on this machine, too slow for Monte Carlo and long replays. pyrevm executes the
same bytecode (Ape's own build, `.build/__local__.json`) in Rust, ~30x faster. Contracts get
one Python method per ABI function (`contract.fn(*args, sender=acct)`); structs come back as
named tuples and addresses checksummed, as Ape returns them; a revert raises
`dsi.chain.Reverted` with the decoded reason.
"""

from __future__ import annotations

import json
import re
from collections import namedtuple
from functools import lru_cache
from pathlib import Path

import eth_abi
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address
from pyrevm import EVM, BlockEnv

from dsi.chain.base import Backend, ChainFacade, Reverted

ROOT = Path(__file__).resolve().parents[2]
GAS_LIMIT = 30_000_000  # per transaction, as anvil's block (ape-config.yaml)
START_TIMESTAMP = 1_800_000_000
ERROR_SELECTOR = bytes.fromhex("08c379a0")
_REVERT = re.compile(r"Revert \{ gas_used: (\d+), output: 0x([0-9a-fA-F]*) \}")


@lru_cache(maxsize=None)
def _artifacts() -> dict:
    path = ROOT / ".build" / "__local__.json"
    if not path.exists():
        raise RuntimeError("chain: the project is not compiled (.build/ missing): run `make compile`")
    return json.loads(path.read_text())["contractTypes"]


def _abi_type(item: dict) -> str:
    t = item["type"]
    if t.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in item["components"]) + ")" + t[len("tuple"):]
    return t


def _converter(item: dict):
    """A function turning eth_abi's decoded value into Ape-like Python values, or None."""
    t = item["type"]
    if t == "address":
        return to_checksum_address
    if t.startswith("address["):
        return lambda v: [to_checksum_address(x) for x in v]
    if t.startswith("tuple"):
        comps = item["components"]
        cls = namedtuple(item.get("internalType", "struct").split(" ")[-1].split(".")[-1].replace("[]", "") or "struct",
                         [c["name"] or f"field{i}" for i, c in enumerate(comps)], rename=True)
        subs = [_converter(c) for c in comps]

        def one(v):
            return cls(*[(s(x) if s else x) for s, x in zip(subs, v)])

        depth = t.count("[")
        if depth == 0:
            return one
        if depth == 1:
            return lambda v: [one(x) for x in v]
        raise NotImplementedError(f"chain: nested struct arrays ({t})")
    return None


class RevmFunction:
    def __init__(self, contract: "RevmContract", abis: list[dict]):
        self.contract = contract
        self.name = abis[0]["name"]
        self.by_arity = {}
        for abi in abis:
            inputs = [_abi_type(i) for i in abi["inputs"]]
            outputs = [_abi_type(o) for o in abi["outputs"]]
            selector = function_signature_to_4byte_selector(f"{self.name}({','.join(inputs)})")
            convs = [_converter(o) for o in abi["outputs"]]
            static = abi.get("stateMutability") in ("view", "pure")
            self.by_arity[len(inputs)] = (selector, inputs, outputs, convs, static)

    def encode_input(self, *args) -> bytes:
        try:
            selector, inputs, *_ = self.by_arity[len(args)]
        except KeyError:
            raise TypeError(f"chain: {self.contract.name}.{self.name} takes {sorted(self.by_arity)} arguments, "
                            f"got {len(args)}") from None
        return selector + eth_abi.encode(inputs, [_arg(a) for a in args])

    def __call__(self, *args, sender=None, value=0, gas=None):
        selector, inputs, outputs, convs, static = self.by_arity.get(len(args), (None,) * 5)
        if selector is None:
            self.encode_input(*args)  # raises the arity error
        data = selector + eth_abi.encode(inputs, [_arg(a) for a in args])
        out = self.contract.chain._call(sender, self.contract.address, data, value, gas, static)
        if not outputs:
            return None
        values = eth_abi.decode(outputs, out)
        values = tuple((c(v) if c else v) for c, v in zip(convs, values))
        return values[0] if len(values) == 1 else values


def _arg(a):
    address = getattr(a, "address", None)
    if isinstance(address, str):
        return address
    return a


class RevmContract:
    def __init__(self, chain: "RevmChain", name: str, abi: list[dict], address: str):
        self.chain = chain
        self.name = name
        self.address = to_checksum_address(address)
        groups: dict[str, list] = {}
        for item in abi:
            if item.get("type") == "function":
                groups.setdefault(item["name"], []).append(item)
        for fn_name, abis in groups.items():
            setattr(self, fn_name, RevmFunction(self, abis))

    def __repr__(self):
        return f"<{self.name} {self.address}>"


class RevmContainer:
    def __init__(self, chain: "RevmChain", name: str):
        artifact = _artifacts().get(name)
        if artifact is None:
            raise AttributeError(f"chain: no contract named {name!r} in .build/ (run `make compile`)")
        self.chain = chain
        self.name = name
        self.abi = artifact["abi"]
        self.initcode = bytes.fromhex(artifact["deploymentBytecode"]["bytecode"][2:])
        ctor = [item for item in self.abi if item.get("type") == "constructor"]
        self.ctor_types = [_abi_type(i) for i in ctor[0]["inputs"]] if ctor else []

    def deploy(self, *args, sender=None):
        if len(args) != len(self.ctor_types):
            raise TypeError(f"chain: {self.name} constructor takes {len(self.ctor_types)} arguments, got {len(args)}")
        code = self.initcode + eth_abi.encode(self.ctor_types, [_arg(a) for a in args])
        address = self.chain._deploy(sender, code)
        return RevmContract(self.chain, self.name, self.abi, address)

    def at(self, address):
        return RevmContract(self.chain, self.name, self.abi, address)


class RevmProject:
    def __init__(self, chain: "RevmChain"):
        self._chain = chain
        self._containers = {}

    def __getattr__(self, name: str) -> RevmContainer:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._containers:
            self._containers[name] = RevmContainer(self._chain, name)
        return self._containers[name]


def _decode_revert(message: str) -> str:
    m = _REVERT.search(message)
    if not m:
        return message
    output = bytes.fromhex(m.group(2))
    if output[:4] == ERROR_SELECTOR:
        try:
            return eth_abi.decode(["string"], output[4:])[0]
        except Exception:  # malformed reason: keep the raw bytes
            pass
    return "0x" + output.hex() if output else "reverted without a reason"


class RevmChain(ChainFacade):
    name = "revm"

    def __init__(self, chain_id: int = 31337):
        self.evm = EVM()
        self._timestamp = START_TIMESTAMP
        self._number = 1
        self._chain_id = chain_id
        self._apply_block()
        self.calls = 0
        self.transactions = 0
        self._gas = 0
        self.default_sender = None

    def _apply_block(self):
        self.evm.set_block_env(BlockEnv(number=self._number, timestamp=self._timestamp))

    def _sender(self, sender) -> str:
        sender = sender or self.default_sender
        if sender is None:
            raise ValueError("chain: a sender is required")
        return _arg(sender)

    def _call(self, sender, to, data, value, gas, static) -> bytes:
        self.calls += 1
        try:
            out = self.evm.message_call(self._sender(sender), to, data, value or None, gas or GAS_LIMIT,
                                        is_static=static)
        except RuntimeError as e:
            if not static:
                self.transactions += 1
                m = _REVERT.search(str(e))
                if m:
                    self._gas += int(m.group(1))
            raise Reverted(_decode_revert(str(e))) from None
        if not static:
            self.transactions += 1
            self._gas += self.evm.result.gas_used
        return bytes(out)

    def _deploy(self, sender, code) -> str:
        try:
            address = self.evm.deploy(self._sender(sender), code, None, GAS_LIMIT)
        except RuntimeError as e:
            raise Reverted(_decode_revert(str(e))) from None
        self.transactions += 1
        self._gas += self.evm.result.gas_used
        return address

    @property
    def timestamp(self) -> int:
        return self._timestamp

    pending_timestamp = timestamp

    @property
    def block_number(self) -> int:
        return self._number

    @property
    def chain_id(self) -> int:
        return self._chain_id

    def mine(self, blocks: int = 1, deltatime: int = 0) -> None:
        self._timestamp += deltatime
        self._number += blocks
        self._apply_block()

    def snapshot(self):
        return (self.evm.snapshot(), self._timestamp, self._number, self._gas)

    def restore(self, snapshot) -> None:
        checkpoint, self._timestamp, self._number, self._gas = snapshot
        self.evm.revert(checkpoint)
        self._apply_block()

    def gas_used(self) -> int:
        return self._gas

    def code_size(self, address) -> int:
        return len(self.evm.get_code(_arg(address)) or b"")

    def attempt(self, fn, *args, **kwargs):
        try:
            return True, fn(*args, **kwargs)
        except Reverted as e:
            return False, str(e)


def make(n_accounts: int = 10) -> Backend:
    chain = RevmChain()
    accounts = [to_checksum_address(keccak(text=f"dsi-lab-account-{i}")[-20:]) for i in range(n_accounts)]
    for a in accounts:
        chain.evm.set_balance(a, 10**24)
    chain.default_sender = accounts[0]
    return Backend(name="revm", project=RevmProject(chain), accounts=accounts, chain=chain)
