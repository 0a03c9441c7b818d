"""Stress tests attested on chain: the report digest, the parameter-set digest and the claims
posted to the `AttestationRegistry` (issue 15 §3).

- **Report digest** (`report_digest`): SHA-256 of a canonical JSON of the header (code digest,
  parameter file, parameter-set digest, data digest, seed, scenario set, quick, which mechanisms
  ran on the node) and every run's outcome (scenario, mechanism, backend, skip reason, checks,
  metrics, steps, chart series, notes) with floats written by `repr` (exact round trip) and the
  wall-clock fields (seconds, report time, machine) left out. The same code, parameters, data and
  seed give the same digest, bit for bit (tests/integration/governance/test_attestation.py).
- **Parameter-set digest** (`params_digest`): the governor's `params_digest()` of a governed
  deployment of the parameter file, h_k = keccak256(h_{k-1} || selector_k || words_k) over the
  registered risk setters in registration order (no addresses: the lab's deployment and a live
  one agree). `params_digest_reference` recomputes it from the setters' values.
- **Claims**: `StressClaim` is the STRESS_SCHEMA attestation (report digest, code commit,
  parameter-set digest, scenario-set digest, Monte Carlo paths, seed, verdict, worst bad debt,
  p99 bad debt, fund drawdown; USD amounts in WAD, rounded up); a verification (VERIFY_SCHEMA)
  references the claim it re-ran and says whether it got the same report digest.

The `StressGate` accepts a loosening only against a fresh passing claim by an approved attester,
naming the parameter set the change produces, plus `verifiers` verifications by other approved
attesters (`ape run stress --attest`, then `ape run stress --verify UID --attest`).
"""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WAD = 10**18
ZERO32 = b"\x00" * 32
ZERO_ADDRESS = "0x" + "00" * 20

STRESS_SCHEMA = ("bytes32 report_digest,bytes20 code_commit,bytes32 params_digest,bytes32 scenario_set_digest,"
                 "uint64 paths,uint64 seed,bool passed,uint256 worst_bad_debt,uint256 p99_bad_debt,"
                 "uint256 fund_drawdown")
VERIFY_SCHEMA = "bytes32 report_digest,bytes32 params_digest,bool match"
STRESS_TYPES = [f.split(" ")[0] for f in STRESS_SCHEMA.split(",")]
VERIFY_TYPES = [f.split(" ")[0] for f in VERIFY_SCHEMA.split(",")]
CODE_FOLDERS = ("contracts", "dsi", "scripts")
CODE_SUFFIXES = (".vy", ".vyi", ".py")
DEFAULT_SEED = 20_200_312


def _b32(x) -> bytes:
    if isinstance(x, str):
        x = bytes.fromhex(x.removeprefix("0x"))
    x = bytes(x)
    if len(x) != 32:
        raise ValueError(f"attest: expected 32 bytes, got {len(x)}")
    return x


@dataclass(frozen=True)
class StressClaim:
    """A STRESS_SCHEMA attestation's data."""

    report_digest: bytes
    code_commit: bytes  # 20 bytes: the git commit the run was made at (zero when unknown)
    params_digest: bytes
    scenario_set_digest: bytes
    paths: int  # Monte Carlo paths run in total
    seed: int
    passed: bool
    worst_bad_debt: int  # USD, WAD, rounded up: the largest bad debt of any run with a mechanism
    p99_bad_debt: int  # USD, WAD: the largest 99th percentile of a Monte Carlo run's per-path bad debt
    fund_drawdown: int  # USD, WAD: the largest insurance-fund drawdown of any run

    def encode(self) -> bytes:
        from eth_abi import encode

        return encode(STRESS_TYPES, [self.report_digest, self.code_commit, self.params_digest,
                                     self.scenario_set_digest, self.paths, self.seed, self.passed,
                                     self.worst_bad_debt, self.p99_bad_debt, self.fund_drawdown])

    @classmethod
    def decode(cls, data: bytes) -> "StressClaim":
        from eth_abi import decode

        v = decode(STRESS_TYPES, bytes(data))
        return cls(bytes(v[0]), bytes(v[1]), bytes(v[2]), bytes(v[3]), *v[4:])


# --- digests -----------------------------------------------------------------------------------

def canonical(x):
    """A JSON-able copy of `x` with one spelling per value: floats by `repr` (exact), numpy
    scalars as Python numbers, bytes as hex, tuples as lists, dataclasses as dicts."""
    import dataclasses

    if isinstance(x, bool) or x is None or isinstance(x, str):
        return x
    if isinstance(x, int):
        return int(x)
    if isinstance(x, float):
        return {"f": repr(x)}
    if isinstance(x, (bytes, bytearray)):
        return "0x" + bytes(x).hex()
    if isinstance(x, dict):
        return {str(k): canonical(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [canonical(v) for v in x]
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: canonical(getattr(x, f.name)) for f in dataclasses.fields(x)}
    try:  # numpy scalars and arrays
        import numpy as np

        if isinstance(x, np.generic):
            return canonical(x.item())
        if isinstance(x, np.ndarray):
            return canonical(x.tolist())
    except ImportError:  # pragma: no cover
        pass
    return str(x)


def _relative_times(steps, series):
    """Block times from the run's first measured block: a node starts its clock at the wall
    clock, so absolute times differ between two runs of the same thing; the intervals do not."""
    t0 = next((s["t"] for s in steps if isinstance(s.get("t"), int)), None)
    if t0 is None and isinstance(series.get("t"), list) and series["t"]:
        t0 = series["t"][0]
    if t0 is None:
        return steps, series
    steps = [{**s, "t": s["t"] - t0} if isinstance(s.get("t"), int) else s for s in steps]
    if isinstance(series.get("t"), list):
        series = {**series, "t": [t - t0 if isinstance(t, int) else t for t in series["t"]]}
    return steps, series


def run_record(r) -> dict:
    """What a run contributes to the report digest: everything but its wall-clock seconds, block
    times relative to its first step."""
    steps, series = _relative_times(list(r.steps), dict(r.series))
    return {"scenario": r.scenario, "mechanism": r.mechanism, "backend": r.backend, "skipped": r.skipped,
            "checks": [[c.name, c.passed, canonical(c.value), c.detail] for c in r.checks],
            "metrics": canonical(r.metrics), "steps": canonical(steps), "series": canonical(series),
            "notes": list(r.notes)}


def canonical_bytes(doc) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def sha256_json(doc) -> bytes:
    return hashlib.sha256(canonical_bytes(doc)).digest()


def digest_document(results, header: dict) -> dict:
    """What the report digest hashes (the report folder's digest.json: diff two of them to see
    why two digests differ)."""
    return {"header": canonical(header), "runs": [run_record(r) for r in results]}


def report_digest(results, header: dict) -> bytes:
    return sha256_json(digest_document(results, header))


def code_digest(root: Path = ROOT) -> bytes:
    """SHA-256 over every source file (path and content) of contracts/, dsi/ and scripts/."""
    h = hashlib.sha256()
    for folder in CODE_FOLDERS:
        for f in sorted((root / folder).rglob("*")):
            if f.is_file() and f.suffix in CODE_SUFFIXES and "__pycache__" not in f.parts:
                rel = f.relative_to(root).as_posix().encode()
                h.update(len(rel).to_bytes(4, "big") + rel)
                body = f.read_bytes()
                h.update(len(body).to_bytes(8, "big") + body)
    return h.digest()


def code_commit(root: Path = ROOT) -> tuple[bytes, bool]:
    """(the git HEAD commit as 20 bytes, whether the sources differ from it); zero and True
    without git."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", *CODE_FOLDERS, "params"], cwd=root,
                               capture_output=True, text=True, check=True)
        return bytes.fromhex(head.stdout.strip()), bool(dirty.stdout.strip())
    except (OSError, subprocess.CalledProcessError, ValueError):
        return b"\x00" * 20, True


def data_digest(folder) -> bytes:
    """SHA-256 over the market data files (name and content)."""
    h = hashlib.sha256()
    for f in sorted(Path(folder).iterdir()):
        if f.is_file() and f.suffix == ".csv":
            h.update(f.name.encode() + b"\x00")
            body = f.read_bytes()
            h.update(len(body).to_bytes(8, "big") + body)
    return h.digest()


def scenario_set_digest(runs: list[tuple[str, str]], quick: bool, real_node) -> bytes:
    """The (scenario, mechanism) runs in order, the quick flag and the node's mechanisms."""
    return sha256_json({"runs": [list(r) for r in runs], "quick": bool(quick), "real_node": sorted(real_node)})


def params_digest_reference(entries) -> bytes:
    """`RiskGovernor.params_digest` in Python: entries = [(selector: 4 bytes, words)] in
    registration order."""
    from eth_utils import keccak

    h = ZERO32
    for selector, words in entries:
        h = keccak(h + bytes(selector) + b"".join(int(w).to_bytes(32, "big") for w in words))
    return h


def governed_entries(protocol) -> list[tuple[bytes, list[int]]]:
    """(selector, approved words) of every registered setter of a governed deployment, in
    registration order, read back from the governor."""
    g = protocol.governor
    out = []
    for i in range(g.setter_count()):
        key = g.keys(i)
        _target, selector, words, _expires = g.setters(key)
        out.append((bytes(selector), [g.approved(key, j) for j in range(words)]))
    return out


def params_digest(params, backend=None) -> bytes:
    """The parameter-set digest of `params`: deploy the protocol as `ape run deploy` does
    (`params.mechanism`, the fund, the governor) in process, read the governor's digest and check
    it against the Python reference."""
    from dsi.chain import revm_backend
    from dsi.governance import govern
    from dsi.protocol import deploy, deploy_liquidation, deploy_margin

    b = backend or revm_backend()
    p = deploy_margin(b.project, deploy(b.project, b.accounts, params))
    deploy_liquidation(b.project, p, params.mechanism, fund_capital=params.fund_capital)
    govern(b.project, p)
    on_chain = _b32(p.governor.params_digest())
    ref = params_digest_reference(governed_entries(p))
    if on_chain != ref:
        raise AssertionError(f"attest: governor digest {on_chain.hex()} != reference {ref.hex()}")
    return on_chain


# --- the claim of a run ------------------------------------------------------------------------

def usd_wad(x) -> int:
    """USD as WAD, rounded up (a claim never understates a loss)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return 0
    return max(0, math.ceil(Fraction(x) * WAD))


def header(params, params_file, data_folder, seed: int, runs, quick: bool, real_node, params_digest_: bytes) -> dict:
    from dsi import data as market_data

    folder = market_data.data_dir(data_folder)
    return {"code": "0x" + code_digest().hex(), "params": params.to_dict(),
            "params_digest": "0x" + params_digest_.hex(), "data": "0x" + data_digest(folder).hex(),
            "seed": int(seed), "scenario_set": "0x" + scenario_set_digest(runs, quick, real_node).hex(),
            "quick": bool(quick), "real_node": sorted(real_node)}


def claim(results, head: dict, commit: bytes = b"\x00" * 20) -> StressClaim:
    """The STRESS_SCHEMA claim of a finished run (see `StressClaim`)."""
    live = [r for r in results if not r.skipped]
    graded = [r for r in live if r.mechanism != "none"]  # under none nobody liquidates: nothing is lost

    def worst(key):
        vals = [r.metrics.get(key) for r in graded]
        vals = [v for v in vals if isinstance(v, (int, float)) and not isinstance(v, bool)]
        return max(vals, default=0.0)

    return StressClaim(report_digest=report_digest(results, head), code_commit=bytes(commit),
                       params_digest=_b32(head["params_digest"]), scenario_set_digest=_b32(head["scenario_set"]),
                       paths=sum(int(r.metrics.get("paths", 0) or 0) for r in live), seed=int(head["seed"]),
                       passed=bool(live) and all(r.passed for r in live),
                       worst_bad_debt=usd_wad(worst("bad_debt_usd")), p99_bad_debt=usd_wad(worst("bad_debt_p99")),
                       fund_drawdown=usd_wad(worst("fund_drawdown_usd")))


# --- the registry ------------------------------------------------------------------------------

def schema_uid(registry, schema: str) -> bytes:
    return _b32(registry.schema_uid(schema, True))


def ensure_schemas(registry, sender) -> None:
    """Register both schemas where they are not yet (the gate does it when deployed)."""
    for s in (STRESS_SCHEMA, VERIFY_SCHEMA):
        if _b32(registry.get_schema(schema_uid(registry, s))[0]) == ZERO32:
            registry.register(s, True, sender=sender)


def post_claim(registry, sender, c: StressClaim) -> bytes:
    """Attest `c` as `sender`; the new attestation's uid."""
    ensure_schemas(registry, sender)
    registry.attest(schema_uid(registry, STRESS_SCHEMA), ZERO_ADDRESS, 0, True, ZERO32, c.encode(), sender=sender)
    return _b32(registry.last_uid(_address(sender)))


def post_verification(registry, sender, ref_uid, report_digest_: bytes, params_digest_: bytes, match: bool) -> bytes:
    from eth_abi import encode

    ensure_schemas(registry, sender)
    data = encode(VERIFY_TYPES, [report_digest_, params_digest_, bool(match)])
    registry.attest(schema_uid(registry, VERIFY_SCHEMA), ZERO_ADDRESS, 0, True, _b32(ref_uid), data, sender=sender)
    return _b32(registry.last_uid(_address(sender)))


@dataclass(frozen=True)
class Posted:
    uid: bytes
    attester: str
    time: int
    revoked: bool
    claim: StressClaim


def read_claim(registry, uid) -> Posted:
    """The stress attestation `uid` (raises ValueError when it is none)."""
    a = registry.get_attestation(_b32(uid))
    if _b32(a[0]) == ZERO32:
        raise ValueError(f"attest: no attestation 0x{_b32(uid).hex()}")
    if _b32(a[1]) != schema_uid(registry, STRESS_SCHEMA):
        raise ValueError(f"attest: 0x{_b32(uid).hex()} is not a stress attestation")
    return Posted(_b32(a[0]), str(a[7]), int(a[2]), int(a[4]) != 0, StressClaim.decode(a[9]))


def _address(x) -> str:
    return getattr(x, "address", x)


def post_for_change(protocol, target, data: bytes, attester, verifiers=(), report_digest_: bytes | None = None,
                    passed: bool = True, seed: int = DEFAULT_SEED) -> list[bytes]:
    """The proof for `set_risk(target, data, proof)`: a claim by `attester` naming the parameter
    set the change produces (`RiskGovernor.params_digest_after`) and one matching verification
    per account in `verifiers`. The claim's report digest is `report_digest_` (default: a digest
    of the change itself): for the gate's tests and the gas benchmarks, where no lab run is
    behind it; after a real run, `claim` + `post_claim` make the claim."""
    p = protocol
    after = _b32(p.governor.params_digest_after(_address(target), data))
    rd = report_digest_ if report_digest_ is not None else hashlib.sha256(b"change:" + bytes(data)).digest()
    c = StressClaim(report_digest=rd, code_commit=b"\x00" * 20, params_digest=after, scenario_set_digest=ZERO32,
                    paths=0, seed=seed, passed=passed, worst_bad_debt=0, p99_bad_debt=0, fund_drawdown=0)
    uid = post_claim(p.registry, attester, c)
    return [uid] + [post_verification(p.registry, v, uid, rd, after, True) for v in verifiers]
