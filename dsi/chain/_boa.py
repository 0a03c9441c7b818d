"""The in-process backend: titanoboa, with an Ape-shaped project adaptor.

`BoaProject().<ContractName>` is a container whose `.deploy(*args, sender=acct)` compiles (once
per process, cached on disk under .cache/boa) and deploys `contracts/**/<ContractName>.vy` with
the same search paths `ape compile` uses (`dsi.boa_env`). Struct return values come back as
named tuples (`margin(...).initial`, `series(id).expiry`), as Ape returns them, so scenario code
reads results the same way on both backends.
"""

from __future__ import annotations

import json

import eth_abi
from collections import namedtuple
from functools import lru_cache

import boa
from boa.contracts.abi.abi_contract import ABIContractFactory, ABIFunction
from boa.environment import Env

from dsi import boa_env
from boa.contracts.base_evm_contract import BoaError

from dsi.chain.base import Backend, ChainFacade, Reverted

TX_BASE_GAS = 21_000


@lru_cache(maxsize=None)
def _contract_path(name: str) -> str:
    matches = sorted(p for p in boa_env.CONTRACTS.rglob(f"{name}.vy"))
    if not matches:
        raise AttributeError(f"chain: no contract named {name!r} under contracts/")
    if len(matches) > 1:
        raise AttributeError(f"chain: contract name {name!r} is ambiguous: {matches}")
    return str(matches[0].relative_to(boa_env.CONTRACTS))


def _struct_types(vyper_type):
    """A namedtuple factory for a vyper StructT return type (recursively), or None."""
    from vyper.semantics.types import StructT, DArrayT, SArrayT, TupleT

    if isinstance(vyper_type, StructT):
        members = list(vyper_type.members.items())
        cls = namedtuple(vyper_type._id, [k for k, _ in members])
        subs = [_struct_types(t) for _, t in members]

        def conv(v):
            return cls(*[(s(x) if s else x) for s, x in zip(subs, v)])

        return conv
    if isinstance(vyper_type, (DArrayT, SArrayT)):
        sub = _struct_types(vyper_type.value_type)
        if sub is None:
            return None
        return lambda v: [sub(x) for x in v]
    if isinstance(vyper_type, TupleT):
        subs = [_struct_types(t) for t in vyper_type.member_types]
        if not any(subs):
            return None
        return lambda v: tuple((s(x) if s else x) for s, x in zip(subs, v))
    return None


def _wrap_structs(contract) -> None:
    """Replace external functions returning structs by wrappers returning named tuples."""
    for func_t in contract.compiler_data.global_ctx.exposed_functions:
        if func_t.return_type is None:
            continue
        fn_name = func_t.name
        fn = getattr(contract, fn_name)
        conv = _struct_types(func_t.return_type)
        if conv is None:
            continue

        def wrapped(*args, _fn=fn, _conv=conv, **kwargs):
            return _conv(_fn(*args, **kwargs))

        wrapped.func_t = func_t
        setattr(contract, fn_name, wrapped)


@lru_cache(maxsize=None)
def _artifacts() -> dict:
    """Ape's compiled contract types (.build/__local__.json), if the project is compiled."""
    path = boa_env.ROOT / ".build" / "__local__.json"
    if not path.exists():
        return {}
    return json.loads(path.read_text()).get("contractTypes", {})


class BoaContainer:
    """`project.<Name>`: deploy or attach to a contract of the project.

    The bytecode and ABI are Ape's own build (`.build/`, what `make compile` produced), so
    both backends run byte-identical contracts and nothing is recompiled per process; a
    project that was never compiled falls back to compiling the sources with boa (~5 s per
    contract)."""

    def __init__(self, name: str):
        self.name = name
        artifact = _artifacts().get(name)
        if artifact and artifact.get("deploymentBytecode", {}).get("bytecode"):
            self.abi = artifact["abi"]
            self.initcode = bytes.fromhex(artifact["deploymentBytecode"]["bytecode"][2:])
            self.factory = ABIContractFactory.from_abi_dict(self.abi, name=name)
            ctor = [item for item in self.abi if item.get("type") == "constructor"]
            self.ctor = ABIFunction(ctor[0], name) if ctor else None
            self.source = None
        else:
            self.source = boa_env.deployer(_contract_path(name))

    def deploy(self, *args, sender=None, **kwargs):
        if self.source is not None:
            contract = self.source.deploy(*args, sender=sender, **kwargs)
            _wrap_structs(contract)
            return contract
        if kwargs:
            raise TypeError(f"chain: unsupported deploy options {sorted(kwargs)}")
        encoded = self.ctor.prepare_calldata(*args) if self.ctor is not None else b""
        address, computation = boa.env.deploy(sender=sender, bytecode=self.initcode + encoded)
        if computation.is_error:
            raise Reverted(str(computation.error))
        return self.factory.at(address)

    def at(self, address):
        if self.source is not None:
            contract = self.source.at(address)
            _wrap_structs(contract)
            return contract
        return self.factory.at(address)


class BoaProject:
    """The boa twin of Ape's `project`: `project.MarginEngine.deploy(..., sender=acct)`."""

    def __init__(self):
        self._containers = {}

    def __getattr__(self, name: str) -> BoaContainer:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._containers:
            self._containers[name] = BoaContainer(name)
        return self._containers[name]


def _boa_reason(e: Exception) -> str:
    """The revert reason of a boa error, decoded from the reverted computation's output."""
    frame = e.args[0] if e.args else None
    computation = getattr(frame, "computation", None)
    output = bytes(getattr(computation, "output", b"") or b"")
    if output[:4] == bytes.fromhex("08c379a0"):
        try:
            return eth_abi.decode(["string"], output[4:])[0]
        except Exception:  # malformed reason: fall through to the raw text
            pass
    return str(e).strip()


class BoaChain(ChainFacade):
    name = "boa"

    def __init__(self, env: Env):
        self.env = env
        self.calls = 0  # every external call into a contract (views included)
        self.transactions = 0
        self._gas = 0
        chain = self
        original = env.execute_code

        def counting_execute_code(*args, **kwargs):
            computation = original(*args, **kwargs)
            chain.calls += 1
            if kwargs.get("is_modifying", True) and not kwargs.get("simulate", False):
                chain.transactions += 1
                chain._gas += computation.get_gas_used() + TX_BASE_GAS
            return computation

        original_deploy = env.deploy

        def counting_deploy(*args, **kwargs):
            address, computation = original_deploy(*args, **kwargs)
            chain.transactions += 1
            chain._gas += computation.get_gas_used() + TX_BASE_GAS
            return address, computation

        env.execute_code = counting_execute_code
        env.deploy = counting_deploy

    @property
    def timestamp(self) -> int:
        return self.env.evm.patch.timestamp

    pending_timestamp = timestamp

    @property
    def block_number(self) -> int:
        return self.env.evm.patch.block_number

    @property
    def chain_id(self) -> int:
        return self.env.evm.patch.chain_id

    def mine(self, blocks: int = 1, deltatime: int = 0) -> None:
        self.env.evm.patch.timestamp += deltatime
        self.env.evm.patch.block_number += blocks

    def snapshot(self):
        patch = self.env.evm.patch
        return (self.env.evm.snapshot(), patch.timestamp, patch.block_number, self._gas)

    def restore(self, snapshot) -> None:
        snap, ts, number, self._gas = snapshot
        self.env.evm.revert(snap)
        self.env.evm.patch.timestamp = ts
        self.env.evm.patch.block_number = number

    def gas_used(self) -> int:
        return self._gas

    def code_size(self, address) -> int:
        return len(self.env.evm.get_code(boa.util.abi.Address(address)))

    def attempt(self, fn, *args, **kwargs):
        try:
            return True, fn(*args, **kwargs)
        except (BoaError, Reverted) as e:
            return False, _boa_reason(e)


def make(n_accounts: int = 10) -> Backend:
    """A fresh in-process EVM (its own state; the previous `boa.env` is replaced) with
    `n_accounts` funded accounts."""
    env = Env()
    boa.set_env(env)
    accounts = [env.generate_address(f"account{i}") for i in range(n_accounts)]
    for a in accounts:
        env.set_balance(a, 10**24)
    return Backend(name="boa", project=BoaProject(), accounts=accounts, chain=BoaChain(env))
