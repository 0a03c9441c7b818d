"""Reentrancy through the ERC-1155 receiver hooks and the ERC-3156 callback (issue 13 §4).

An attacker contract (`contracts/test/ReentrancyAttacker.vy`) holds USD, WETH, longs, engine
accounts, vault writings and a fund reserve, and is armed with ONE re-entrant call fired from
inside a hook while another contract's call is in flight:

- `withdraw_long`: the engine pushes custody longs to the attacker (onERC1155Received);
- `vault_write`:   the vault mints the writer's longs (onERC1155Received);
- `open_short`:    the engine mints the short's longs to the caller (onERC1155Received);
- `transfer`:      a writer's plain safeTransferFrom to the attacker (onERC1155Received);
- `batch_transfer`: a writer's safeBatchTransferFrom to the attacker (onERC1155BatchReceived);
- `flash`:         the flash lender's onFlashLoan with 1,000,000 USD on loan (ERC-3156).

The re-entered functions are EVERY non-view function in the ABIs of the margin engine, the
margin model, the options vault, the series registry, the liquidator and the insurance fund (generated from the
ABIs: a new function is covered automatically), with the arguments of `ARGS` — chosen so the
call succeeds outside any hook where the attacker can make it succeed (`test_control_*` proves
which do) — and type-driven defaults otherwise (owner / role-gated functions: they must revert
for the attacker anyway). After every case: the engine holds at least its ledger totals, the
known accounts' ledgers sum to the totals, the engine's custody of every series equals the
custody longs in its ledger, the live series' supply equals engine open interest plus vault
writing, and the attacker is no richer than before (valued below; the transferred gift of the
transfer hooks excepted), whatever the inner call did.

The suite runs in process on the revm backend (`dsi.chain`: the same bytecode Ape builds into
`.build/`, executed by the Rust EVM), not on an anvil node: every case is about contract logic
(what a re-entered call can do to the books), which a node does not change — no RPC, mempool,
gas pricing or block production is involved, and time moves only where the arena mines it. The
arena is built once per module and snapshotted; every test starts from that snapshot (restored
by `isolated`, in place of Ape's per-test isolation). A revert raises `dsi.chain.Reverted`.
"""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import keccak

from dsi.chain import Reverted, backend as make_backend
from dsi.protocol import Params, deploy, deploy_liquidation, deploy_margin

WAD = 10**18
USD = 10**6
DAY = 86_400
SLICE = (10**16, 8 * 10**16, -3 * 10**17, 0, 2 * 10**17)
UNIT = WAD  # one option
MAX = 2**256 - 1

HOOKS = ("withdraw_long", "vault_write", "open_short", "transfer", "batch_transfer", "flash")
HOOK_ID = {"withdraw_long": 1, "vault_write": 1, "open_short": 1, "transfer": 1, "batch_transfer": 2, "flash": 3}
TARGETS = ("engine", "model", "vault", "series", "liquidator", "fund")


def _address(x) -> str:
    """An account or contract as its address (revm's accounts are plain address strings)."""
    return getattr(x, "address", x)


# --- the arena ---------------------------------------------------------------------------------

class Arena:
    """The protocol (margin layer, Dutch liquidator, fund), three series and the attacker's book.

    L: put K=2,700, 30 days (live); AM: American put K=3,300, 30 days (live, in the money);
    E: European put K=3,300 that expired in the fixture and is settled (payoff 300 per option).
    The attacker contract A: sub 0 cross, 2,000,000 USD, short 5 L and 5 E; sub 1 cross,
    100,000 USD, custody longs 2 L and 2 E; vault writings 5 L, 3 AM, 3 E; a 0.01 WETH reserve
    on sub 0; a pending wallet claim on E. The writer (an EOA) has its own engine book and vault
    writings in every series, so there is other people's money to steal.
    """

    def __init__(self, backend):
        project, accounts, chain = backend.project, backend.accounts, backend.chain
        self.chain = chain
        p = deploy_margin(project, deploy(project, accounts, Params()))
        deploy_liquidation(project, p, "dutch", fund_capital=20_000)
        self.p = p
        d = p.deployer
        now = chain.timestamp
        e_expiry, l_expiry = now + 2 * DAY, now + 30 * DAY
        for expiry in (e_expiry, l_expiry):
            p.vol_feed.push(expiry, *SLICE, sender=p.reporter)
        self.ids = {}
        for name, strike, expiry, american in (("L", 2700, l_expiry, False), ("AM", 3300, l_expiry, True),
                                               ("E", 3300, e_expiry, False)):
            p.series.list_series(strike * WAD, expiry, False, american, sender=d)
            self.ids[name] = p.series.find_series(strike * WAD, expiry, False, american)
        self.strikes = {"L": 2700 * WAD, "AM": 3300 * WAD, "E": 3300 * WAD}
        self._observe(30)

        self.attacker_eoa = p.attacker
        A = project.ReentrancyAttacker.deploy(sender=p.attacker)
        self.A = A
        p.usd.mint(A, 10_000_000 * USD, sender=d)
        p.weth.mint(A, 1_000 * WAD, sender=d)
        for spender in (p.engine, p.vault, p.insurance_fund):
            self.call(p.usd, "approve", spender.address, MAX)
            self.call(p.weth, "approve", spender.address, MAX)
        self.call(p.option_token, "setApprovalForAll", p.engine.address, True)
        L, AM, E = self.ids["L"], self.ids["AM"], self.ids["E"]
        eng = p.engine
        self.call(eng, "deposit", 0, 2_000_000 * USD, 0)
        self.call(eng, "set_mode", 0, 1)
        self.call(eng, "open_short", 0, L, 5 * UNIT)
        self.call(eng, "open_short", 0, E, 5 * UNIT)
        self.call(eng, "deposit", 1, 100_000 * USD, 0)
        self.call(eng, "set_mode", 1, 1)
        self.call(eng, "deposit_long", 1, L, 2 * UNIT)
        self.call(eng, "deposit_long", 1, E, 2 * UNIT)
        self.call(p.vault, "write", L, 5 * UNIT)
        self.call(p.vault, "write", AM, 3 * UNIT)
        self.call(p.vault, "write", E, 3 * UNIT)
        self.call(p.insurance_fund, "post_reserve", 0, 10**16)

        w = p.writer
        p.usd.mint(w, 10_000_000 * USD, sender=d)
        for spender in (eng, p.vault):
            p.usd.approve(spender.address, MAX, sender=w)
        eng.deposit(0, 1_000_000 * USD, 0, sender=w)
        eng.set_mode(0, 1, sender=w)
        eng.open_short(0, L, 10 * UNIT, sender=w)
        eng.open_short(0, E, 3 * UNIT, sender=w)
        for name in ("L", "AM", "E"):
            p.vault.write(self.ids[name], 10 * UNIT, sender=w)
        # The writer exercises 1 AM: assigned pro rata, it frees collateral A can `collect`.
        p.vault.exercise(AM, UNIT, sender=w)

        # E expires: observations through its settlement window, then settle it (A's wallet
        # redemption of 1 E leaves a pending claim; the writer's vault settlement funds it).
        chain.mine(deltatime=e_expiry - 2_400 - chain.timestamp)
        p.feed.submit(3_000 * WAD, sender=p.reporter)  # the feed reports the market through expiry
        self._observe(45)
        assert chain.timestamp > e_expiry
        self.call(p.series, "redeem", E, UNIT)
        p.vault.settle_writer(E, sender=w)
        p.feed.submit(3_000 * WAD, sender=p.reporter)
        p.vol_feed.push(l_expiry, *SLICE, sender=p.reporter)
        p.oracle.poke(sender=p.keeper)
        assert p.oracle.price()[1] == 0, "the oracle must be FRESH for the risk-increasing calls"
        self.writer_address = _address(w)
        self.accounts = [(A.address, s) for s in range(4)] + [(self.writer_address, 0), (self.writer_address, 1)]
        self.account_keys = {s: keccak(encode(["address", "uint256"], [A.address, s])) for s in range(4)}

    def _observe(self, n: int, step: int = 60):
        for _ in range(n):
            self.chain.mine(deltatime=step)
            self.p.twap.update(sender=self.p.keeper)

    # The attacker contract as msg.sender.
    def call(self, contract, method: str, *args):
        data = getattr(contract, method).encode_input(*args)
        return self.A.execute(contract.address, data, sender=self.attacker_eoa)

    def target(self, name: str):
        return {"engine": self.p.engine, "vault": self.p.vault, "series": self.p.series,
                "liquidator": self.p.liquidator, "fund": self.p.insurance_fund, "model": self.p.model}[name]

    # --- valuation and consistency ----------------------------------------------------------

    def marks(self) -> dict:
        """WAD USD per option: the settled payoff, else intrinsic at the oracle price. The
        attacker is net flat in every series, so the mark cannot hide a gain."""
        price = self.p.oracle.price()[0]
        out = {}
        for name, id_ in self.ids.items():
            if self.p.series.is_settled(id_):
                out[id_] = self.p.series.payoff_per_unit(id_)
            else:
                out[id_] = max(self.strikes[name] - price, 0)
        return out

    def attacker_value(self) -> int:
        """The attacker's wealth, WAD USD: wallet USD + WETH at the oracle price + longs at the
        mark; engine accounts (collateral + positions at the mark + custody claims pending in
        the series under the account's key); vault writings (locked + collectable - written at
        the mark); the fund reserve; pending wallet claims."""
        p, A = self.p, self.A.address
        price = p.oracle.price()[0]
        marks = self.marks()
        v = p.usd.balanceOf(A) * 10**12 + p.weth.balanceOf(A) * price // WAD
        for id_, mark in marks.items():
            v += p.option_token.balanceOf(A, id_) * mark // WAD
            v += p.series.pending_claim(id_, A)
            written = p.vault.written(id_, A)
            collateral = p.vault.locked_of(id_, A) + p.vault.collectable(id_, A)
            v += collateral * 10**12  # puts only: USD collateral
            v -= (written * mark + WAD - 1) // WAD  # the obligation rounded up
            for sub, key in self.account_keys.items():
                v += p.series.pending_claim(id_, p.engine.address, key) + p.series.pending_claim(id_, A, key)
        for sub in range(4):
            _, usd, weth, _ = p.engine.account(A, sub)
            v += usd * 10**12 + weth * price // WAD
            for pos in p.engine.positions(A, sub):
                amount = pos.amount
                v += amount * marks[pos.id] // WAD if amount > 0 else -((-amount * marks[pos.id] + WAD - 1) // WAD)
            v += p.insurance_fund.reserves(A, sub) * price // WAD
        return v

    def check_consistency(self):
        p, eng = self.p, self.p.engine
        assert p.usd.balanceOf(eng) >= eng.total_usd(), "engine USD below its ledger"
        assert p.weth.balanceOf(eng) >= eng.total_weth(), "engine WETH below its ledger"
        usd = weth = 0
        custody = {id_: 0 for id_ in self.ids.values()}
        shorts = {id_: 0 for id_ in self.ids.values()}
        for owner, sub in self.accounts:
            _, u, w, _ = eng.account(owner, sub)
            usd, weth = usd + u, weth + w
            for pos in eng.positions(owner, sub):
                if pos.amount > 0:
                    custody[pos.id] += pos.amount
                else:
                    shorts[pos.id] -= pos.amount
        assert usd == eng.total_usd(), "accounts' USD != engine total"
        assert weth == eng.total_weth(), "accounts' WETH != engine total"
        for name, id_ in self.ids.items():
            assert p.option_token.balanceOf(eng, id_) == custody[id_], f"custody of {name} != ledger longs"
            assert shorts[id_] == eng.open_interest(id_), f"{name}: ledger shorts != open interest"
            if not p.series.is_expired(id_):
                assert p.option_token.total_supply(id_) == eng.open_interest(id_) + p.vault.total_written(id_), \
                    f"{name}: supply != open interest + vault writing"
        assert p.usd.balanceOf(p.vault) >= sum(p.vault.series_collateral(i) for i in self.ids.values()), \
            "vault USD below its series' collateral"

    # --- the outer calls (hooks) ------------------------------------------------------------

    def trigger(self, hook: str) -> int:
        """Run the outer call whose hook fires the armed re-entry; returns the value the outer
        call gives the attacker for free (the writer's transferred longs at the mark)."""
        p, L, AM = self.p, self.ids["L"], self.ids["AM"]
        if hook == "withdraw_long":
            self.call(p.engine, "withdraw_long", 1, L, UNIT)
        elif hook == "vault_write":
            self.call(p.vault, "write", L, UNIT)
        elif hook == "open_short":
            self.call(p.engine, "open_short", 0, L, UNIT)
        elif hook == "transfer":
            p.option_token.safeTransferFrom(p.writer, self.A, L, UNIT, b"", sender=p.writer)
            return self.marks()[L]
        elif hook == "batch_transfer":
            p.option_token.safeBatchTransferFrom(p.writer, self.A, [L, AM], [UNIT, UNIT], b"", sender=p.writer)
            marks = self.marks()
            return marks[L] + marks[AM]
        elif hook == "flash":
            self.A.flash(p.lender.address, p.usd.address, 1_000_000 * USD, sender=self.attacker_eoa)
        else:
            raise ValueError(hook)
        return 0


@pytest.fixture(scope="module")
def arena():
    """The arena on a fresh in-process revm EVM, built once for the module and snapshotted."""
    a = Arena(make_backend("revm"))
    a.snapshot = a.chain.snapshot()
    return a


@pytest.fixture(autouse=True)
def isolated(arena):
    """Every test starts from the arena's snapshot (state and clock); a restore consumes its
    handle, so a fresh one is taken for the next test."""
    arena.chain.restore(arena.snapshot)
    arena.snapshot = arena.chain.snapshot()


# --- the re-entered functions, from the ABIs -----------------------------------------------------

def _abi_type(t: dict) -> str:
    if t["type"].startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in t["components"]) + ")" + t["type"][5:]
    return t["type"]


def state_changing(abi: list) -> list:
    """(signature, [abi types], [input names]) of every non-view function of a JSON ABI."""
    out = []
    for m in abi:
        if m.get("type") != "function" or m.get("stateMutability") in ("view", "pure"):
            continue
        types = [_abi_type(i) for i in m["inputs"]]
        out.append((f"{m['name']}({','.join(types)})", types, [i["name"] for i in m["inputs"]]))
    return out


CONTRACT_TYPES = {"engine": "MarginEngine", "model": "MarginModel", "vault": "OptionsVault", "series": "OptionSeries",
                  "liquidator": "DutchAuction", "fund": "InsuranceFund"}


def _collect_targets():
    # The ABIs of the build the arena deploys (.build/, read by the revm project; no state).
    project = make_backend("revm").project
    cases = []
    for target in TARGETS:
        for sig, types, names in state_changing(getattr(project, CONTRACT_TYPES[target]).abi):
            cases.append((target, sig, tuple(types), tuple(names)))
    return cases


FUNCTIONS = _collect_targets()

# Arguments that succeed outside any hook (test_control_succeeds proves each), by
# (target, signature); the values are filled in from the arena (ids, the attacker, keys).
ARGS = {
    ("engine", "deposit(uint256,uint256,uint256)"): lambda a: (0, 1_000 * USD, 0),
    ("engine", "withdraw(uint256,uint256,uint256)"): lambda a: (0, 1_000 * USD, 0),
    ("engine", "set_mode(uint256,uint256)"): lambda a: (1, 2),
    ("engine", "open_short(uint256,uint256,uint256)"): lambda a: (0, a.ids["L"], UNIT),
    ("engine", "close_short(uint256,uint256,uint256)"): lambda a: (0, a.ids["L"], UNIT),
    ("engine", "deposit_long(uint256,uint256,uint256)"): lambda a: (1, a.ids["L"], UNIT),
    ("engine", "withdraw_long(uint256,uint256,uint256)"): lambda a: (1, a.ids["L"], UNIT),
    ("engine", "settle_position(address,uint256,uint256)"): lambda a: (a.A.address, 0, a.ids["E"]),
    ("vault", "write(uint256,uint256)"): lambda a: (a.ids["L"], UNIT),
    ("vault", "close(uint256,uint256)"): lambda a: (a.ids["L"], UNIT),
    ("vault", "exercise(uint256,uint256)"): lambda a: (a.ids["AM"], UNIT),
    ("vault", "settle_writer(uint256)"): lambda a: (a.ids["E"],),
    ("vault", "settle_writer(uint256,address)"): lambda a: (a.ids["E"], a.A.address),
    ("vault", "collect(uint256)"): lambda a: (a.ids["AM"],),
    ("series", "settle(uint256)"): lambda a: (a.ids["E"],),
    ("series", "redeem(uint256,uint256)"): lambda a: (a.ids["E"], UNIT),
    ("series", "redeem_for(uint256,uint256,bytes32)"): lambda a: (a.ids["E"], UNIT, a.account_keys[0]),
    ("series", "claim(uint256)"): lambda a: (a.ids["E"],),
    ("fund", "post_reserve(uint256,uint256)"): lambda a: (0, 10**15),
    ("fund", "withdraw_reserve(uint256,uint256)"): lambda a: (0, 10**15),
    ("fund", "deposit(uint256)"): lambda a: (100 * USD,),
    ("liquidator", "sync(address,uint256)"): lambda a: (a.A.address, 0),
}
# Callable by the attacker but with nothing to act on in the arena (they revert outside hooks
# too): the liquidator's start / redo / take (no account is liquidatable), claim_for (no claim
# under the attacker's key), cover_settlement (no bad debt); aimed at the expired series.
FAILING_ARGS = {
    ("series", "claim_for(uint256,bytes32)"): lambda a: (a.ids["E"], a.account_keys[0]),
    ("fund", "cover_settlement(uint256)"): lambda a: (a.ids["E"],),
}
# The contract whose call is in flight when the hook fires: re-entering it must fail (its
# `# pragma nonreentrancy on` lock; owner-gated functions exported from snekmate's `ownable`
# are outside the lock and fail on the owner check instead).
OUTER = {"withdraw_long": "engine", "open_short": "engine", "vault_write": "vault"}


def default_args(arena, types, names):
    """Type- and name-driven arguments for the functions without an ARGS entry."""

    def one(t, name):
        if t.startswith("("):
            inner = t[1:t.rindex(")")]
            parts, depth, cur = [], 0, ""
            for ch in inner:
                if ch == "," and depth == 0:
                    parts.append(cur)
                    cur = ""
                    continue
                depth += ch == "("
                depth -= ch == ")"
                cur += ch
            parts.append(cur)
            return tuple(one(x, "") for x in parts)
        if t == "address":
            return arena.writer_address if name in ("owner",) else arena.A.address
        if t == "bool":
            return True
        if t == "bytes32":
            return arena.account_keys[0]
        if t in ("bytes", "string"):
            return b"" if t == "bytes" else ""
        if t.startswith("int"):
            return 10**18
        if name in ("id",):
            return arena.ids["L"]
        if name in ("sub", "to_sub", "taker_sub"):
            return 0
        if name in ("fraction",):
            return 5 * 10**17
        return UNIT

    return tuple(one(t, n) for t, n in zip(types, names))


def calldata(arena, target, sig, types, names) -> bytes:
    builder = ARGS.get((target, sig)) or FAILING_ARGS.get((target, sig))
    args = builder(arena) if builder else default_args(arena, types, names)
    return keccak(text=sig)[:4] + encode(list(types), list(args))


def _reason(data: bytes) -> str:
    if data[:4] == bytes.fromhex("08c379a0"):
        from eth_abi import decode

        return decode(["string"], data[4:])[0]
    return "0x" + data.hex() if data else "(no data)"


# --- the tests -----------------------------------------------------------------------------------

@pytest.mark.parametrize("target,sig,types,names", FUNCTIONS, ids=[f"{t}.{s.split('(')[0]}/{len(ty)}"
                                                                    for t, s, ty, _ in FUNCTIONS])
def test_control(arena, target, sig, types, names):
    """The re-entered call made directly by the attacker (no hook): the ARGS functions succeed
    and keep the state consistent, so the hook cases below test a call that would work."""
    arena.check_consistency()
    before = arena.attacker_value()
    data = calldata(arena, target, sig, types, names)
    contract = arena.target(target)
    if (target, sig) in ARGS:
        arena.A.execute(contract.address, data, sender=arena.attacker_eoa)
    else:
        # Owner / role-gated or nothing to act on: it must revert for the attacker.
        with pytest.raises(Reverted):
            arena.A.execute(contract.address, data, sender=arena.attacker_eoa)
    arena.check_consistency()
    assert arena.attacker_value() <= before


CASES = [(hook, *f) for hook in HOOKS for f in FUNCTIONS]


@pytest.mark.parametrize("hook,target,sig,types,names", CASES,
                         ids=[f"{h}-{t}.{s.split('(')[0]}/{len(ty)}" for h, t, s, ty, _ in CASES])
def test_reentry(arena, hook, target, sig, types, names):
    """Re-enter `target.sig` from the hook of `hook`: the outer call completes, the hook fired,
    and whatever the inner call did, the protocol's books hold and the attacker gained nothing."""
    A = arena.A
    before = arena.attacker_value()
    data = calldata(arena, target, sig, types, names)
    A.arm(HOOK_ID[hook], arena.target(target).address, data, sender=arena.attacker_eoa)
    gift = arena.trigger(hook)
    assert A.fired(), "the hook did not fire"
    ok = A.reentry_ok()
    reason = "ok" if ok else _reason(bytes(A.reentry_return()))
    print(f"{hook} -> {target}.{sig}: {reason}")
    if OUTER.get(hook) == target:
        assert not ok, f"re-entered {target} while its own call was in flight"
    arena.check_consistency()
    after = arena.attacker_value()
    assert after <= before + gift, f"attacker gained {(after - before - gift) / WAD} USD ({reason})"


# --- sequences inside one hook (the attacker's multicall) -------------------------------------

def _seq(arena, steps):
    targets, datas = [], []
    for target, method, args in steps:
        contract = arena.target(target) if isinstance(target, str) else target
        targets.append(contract.address)
        datas.append(getattr(contract, method).encode_input(*args))
    return arena.A.multicall.encode_input(targets, datas)


K = 100 * UNIT  # options
LOAN = 1_000_000 * USD
SEQUENCES = {
    # Flash-loan-funded: the loan as collateral, unwound before repayment.
    "flash_deposit_withdraw": ("flash", True, lambda a: [
        ("engine", "deposit", (5, LOAN, 0)), ("engine", "withdraw", (5, LOAN, 0))]),
    "flash_short_then_withdraw_all": ("flash", False, lambda a: [
        ("engine", "deposit", (5, LOAN, 0)), ("engine", "open_short", (5, a.ids["L"], K)),
        ("engine", "withdraw", (5, LOAN, 0))]),
    "flash_short_close_withdraw": ("flash", True, lambda a: [
        ("engine", "deposit", (5, LOAN, 0)), ("engine", "open_short", (5, a.ids["L"], K)),
        ("engine", "close_short", (5, a.ids["L"], K)), ("engine", "withdraw", (5, LOAN, 0))]),
    "flash_short_into_vault_close": ("flash", False, lambda a: [
        # longs minted by an engine short used to close vault writing, then the loan out
        ("engine", "deposit", (5, LOAN, 0)), ("engine", "open_short", (5, a.ids["L"], 5 * UNIT)),
        ("vault", "close", (a.ids["L"], 5 * UNIT)), ("engine", "withdraw", (5, LOAN, 0))]),
    "flash_write_close": ("flash", True, lambda a: [
        ("vault", "write", (a.ids["L"], K)), ("vault", "close", (a.ids["L"], K))]),
    # Double withdrawal of custody longs from the push of the first.
    "withdraw_long_twice": ("withdraw_long", False, lambda a: [
        ("engine", "withdraw_long", (1, a.ids["L"], UNIT))]),
    # The pushed long used at once elsewhere: close vault writing, redeem, withdraw collateral.
    "withdraw_long_then_vault_and_series": ("withdraw_long", True, lambda a: [
        ("vault", "close", (a.ids["L"], UNIT)), ("series", "redeem", (a.ids["E"], UNIT)),
        ("vault", "settle_writer", (a.ids["E"],))]),
    "withdraw_long_then_collateral": ("withdraw_long", False, lambda a: [
        ("engine", "withdraw", (1, 100_000 * USD, 0))]),
    # The vault mint's hook: the new longs into the engine and back out, collateral out.
    "vault_write_engine_roundtrip": ("vault_write", True, lambda a: [
        ("engine", "deposit_long", (1, a.ids["L"], UNIT)), ("engine", "withdraw", (0, 1_000 * USD, 0)),
        ("engine", "withdraw_long", (1, a.ids["L"], UNIT))]),
    "vault_write_then_close_same": ("vault_write", False, lambda a: [
        ("vault", "close", (a.ids["L"], UNIT))]),
    # The short's mint hook: the minted long straight back to close (needs the token's burn).
    "open_short_then_close_short": ("open_short", False, lambda a: [
        ("engine", "close_short", (0, a.ids["L"], UNIT))]),
    "open_short_then_vault_close": ("open_short", False, lambda a: [
        ("vault", "close", (a.ids["L"], UNIT))]),
}


@pytest.mark.parametrize("name", list(SEQUENCES))
def test_sequence_in_hook(arena, name):
    """A multi-step re-entry from one hook: it succeeds or reverts as expected (the lock, the
    margin check), and either way the books hold and the attacker gains nothing."""
    hook, expect_ok, steps = SEQUENCES[name]
    A = arena.A
    before = arena.attacker_value()
    A.arm(HOOK_ID[hook], A.address, _seq(arena, steps(arena)), sender=arena.attacker_eoa)
    gift = arena.trigger(hook)
    assert A.fired()
    ok = A.reentry_ok()
    reason = "ok" if ok else _reason(bytes(A.reentry_return()))
    print(f"{name}: {reason}")
    assert ok == expect_ok, reason
    arena.check_consistency()
    assert arena.attacker_value() <= before + gift
