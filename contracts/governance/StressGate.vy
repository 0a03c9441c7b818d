# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title DSI stress gate: a risk parameter loosens only against an attested stress test
@custom:contract-name StressGate
@license GNU Affero General Public License v3.0 only
@notice Judges the proof the `RiskGovernor` is given for a loosening
        (`set_risk(target, data, proof)`): proof[0] is a stress
        attestation in the `AttestationRegistry` under STRESS_SCHEMA, made
        by an approved attester, not revoked or expired, at most `max_age`
        seconds old at execution, with verdict passed, and naming the
        parameter set the change produces (`params_digest`); proof[1..] are
        verifications under VERIFY_SCHEMA referencing it (`ref_uid`), each
        by a further approved attester (all distinct), not revoked, that
        re-ran the stress test and got the same report digest for the same
        parameter set. At least `verifiers` of them are needed.

        `ape run stress --attest` posts a stress attestation; `ape run
        stress --verify UID --attest` re-runs it and posts a verification.
        Anyone can re-run and compare digests; a mismatch is public
        evidence for the guardian, who can cancel the queued change in the
        timelock's delay. Tightening never waits for an attestation.

        The governor owns this contract: the attester set and the policy
        (max age, verifiers) change through the timelock, announced and
        cancellable like any wiring.
"""

from snekmate.auth import ownable
initializes: ownable

exports: (ownable.owner, ownable.transfer_ownership)


MAX_PROOF: constant(uint256) = 4
MAX_DATA: constant(uint256) = 1024
MIN_AGE: public(constant(uint256)) = 3_600
MAX_AGE: public(constant(uint256)) = 30 * 86_400
MAX_VERIFIERS: public(constant(uint256)) = MAX_PROOF - 1

STRESS_SCHEMA: public(constant(String[512])) = "bytes32 report_digest,bytes20 code_commit,bytes32 params_digest,bytes32 scenario_set_digest,uint64 paths,uint64 seed,bool passed,uint256 worst_bad_debt,uint256 p99_bad_debt,uint256 fund_drawdown"
VERIFY_SCHEMA: public(constant(String[512])) = "bytes32 report_digest,bytes32 params_digest,bool match"
STRESS_WORDS: constant(uint256) = 10
VERIFY_WORDS: constant(uint256) = 3


struct Attestation:
    uid: bytes32
    schema: bytes32
    time: uint64
    expiration: uint64
    revocation: uint64
    ref_uid: bytes32
    recipient: address
    attester: address
    revocable: bool
    data: Bytes[MAX_DATA]


struct Schema:
    uid: bytes32
    revocable: bool
    schema: String[512]


interface IRegistry:
    def register(schema: String[512], revocable: bool) -> bytes32: nonpayable
    def get_schema(uid: bytes32) -> Schema: view
    def get_attestation(uid: bytes32) -> Attestation: view
    def schema_uid(schema: String[512], revocable: bool) -> bytes32: view


registry: public(immutable(IRegistry))
stress_schema: public(immutable(bytes32))
verify_schema: public(immutable(bytes32))
attesters: public(HashMap[address, bool])
max_age: public(uint256)
verifiers: public(uint256)


event AttesterSet:
    attester: indexed(address)
    approved: bool

event PolicySet:
    max_age: uint256
    verifiers: uint256


@deploy
def __init__(registry_: address, max_age_: uint256, verifiers_: uint256):
    """
    @notice Registers the two schemas (revocable) where they are not yet.
    """
    assert registry_ != empty(address), "gate: zero registry"
    ownable.__init__()
    registry = IRegistry(registry_)
    stress_schema = self._schema(STRESS_SCHEMA)
    verify_schema = self._schema(VERIFY_SCHEMA)
    self._set_policy(max_age_, verifiers_)


@external
def set_attester(attester: address, approved: bool):
    """
    @notice The owner (the governor, through the timelock).
    """
    ownable._check_owner()
    assert attester != empty(address), "gate: zero attester"
    self.attesters[attester] = approved
    log AttesterSet(attester=attester, approved=approved)


@external
def set_policy(max_age_: uint256, verifiers_: uint256):
    """
    @notice The owner (the governor, through the timelock): the oldest
            attestation accepted, in [MIN_AGE, MAX_AGE] seconds, and the
            verifications needed, at most MAX_VERIFIERS.
    """
    ownable._check_owner()
    self._set_policy(max_age_, verifiers_)


@view
@external
def check(proof: DynArray[bytes32, MAX_PROOF], params_digest: bytes32) -> bool:
    """
    @notice Whether `proof` authorises a loosening to the parameter set
            `params_digest` now; reverts with the reason where it does not.
    """
    assert len(proof) != 0, "gate: loosening needs a stress attestation"
    a: Attestation = self._valid(proof[0])
    assert a.schema == stress_schema, "gate: not a stress attestation"
    assert convert(a.time, uint256) + self.max_age >= block.timestamp, "gate: attestation stale"
    assert len(a.data) == 32 * STRESS_WORDS, "gate: malformed attestation"
    report: bytes32 = extract32(a.data, 0)
    assert extract32(a.data, 64) == params_digest, "gate: attested with other parameters"
    assert extract32(a.data, 192, output_type=uint256) == 1, "gate: stress test failed"
    seen: DynArray[address, MAX_PROOF] = [a.attester]
    for i: uint256 in range(1, MAX_PROOF):
        if i >= len(proof):
            break
        v: Attestation = self._valid(proof[i])
        assert v.schema == verify_schema and v.ref_uid == proof[0], "gate: not a verification of the attestation"
        assert v.attester not in seen, "gate: verifier not independent"
        seen.append(v.attester)
        assert len(v.data) == 32 * VERIFY_WORDS, "gate: malformed verification"
        assert extract32(v.data, 0) == report and extract32(v.data, 32) == params_digest and extract32(
            v.data, 64, output_type=uint256) == 1, "gate: verification does not match"
    assert len(proof) > self.verifiers, "gate: too few verifications"
    return True


@view
@internal
def _valid(uid: bytes32) -> Attestation:
    a: Attestation = staticcall registry.get_attestation(uid)
    assert a.uid != empty(bytes32), "gate: no such attestation"
    assert a.revocation == 0, "gate: attestation revoked"
    assert a.expiration == 0 or convert(a.expiration, uint256) > block.timestamp, "gate: attestation expired"
    assert self.attesters[a.attester], "gate: attester not approved"
    return a


@internal
def _schema(schema: String[512]) -> bytes32:
    uid: bytes32 = staticcall registry.schema_uid(schema, True)
    if (staticcall registry.get_schema(uid)).uid == empty(bytes32):
        extcall registry.register(schema, True)
    return uid


@internal
def _set_policy(max_age_: uint256, verifiers_: uint256):
    assert max_age_ >= MIN_AGE and max_age_ <= MAX_AGE, "gate: max age out of bounds"
    assert verifiers_ <= MAX_VERIFIERS, "gate: too many verifiers"
    self.max_age = max_age_
    self.verifiers = verifiers_
    log PolicySet(max_age=max_age_, verifiers=verifiers_)
