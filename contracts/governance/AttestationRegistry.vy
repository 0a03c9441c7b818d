# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title DSI attestation registry: schemas and attestations anyone can read
@custom:contract-name AttestationRegistry
@license GNU Affero General Public License v3.0 only
@notice A permissionless registry in the shape of the Ethereum Attestation
        Service (EAS): a schema is a type string registered once (its uid is
        keccak256(schema, revocable)); an attestation is an attester's signed
        statement under a schema: ABI-encoded `data`, an optional recipient,
        expiration and reference to an earlier attestation (`ref_uid`, e.g. a
        verification referencing the run it re-ran), and a revocation time
        once its attester revokes it. Anyone may attest; a reader decides
        whose attestations it trusts (the `StressGate` keeps an attester
        set). Attestations are never deleted: a revoked one stays readable
        with its revocation time.

        The uid of an attestation is keccak256(schema, recipient, attester,
        time, expiration, revocable, ref_uid, data, nonce), with a global
        nonce, so two identical statements in one block get distinct uids.
"""

MAX_SCHEMA: constant(uint256) = 512
MAX_DATA: public(constant(uint256)) = 1024


struct Schema:
    uid: bytes32
    revocable: bool
    schema: String[MAX_SCHEMA]


struct Attestation:
    uid: bytes32
    schema: bytes32
    time: uint64
    expiration: uint64  # 0: never
    revocation: uint64  # 0: not revoked
    ref_uid: bytes32
    recipient: address
    attester: address
    revocable: bool
    data: Bytes[MAX_DATA]


schemas: HashMap[bytes32, Schema]
attestations: HashMap[bytes32, Attestation]
nonce: public(uint256)
last_uid: public(HashMap[address, bytes32])  # each attester's latest attestation


event Registered:
    uid: indexed(bytes32)
    registerer: indexed(address)
    schema: String[MAX_SCHEMA]

event Attested:
    recipient: indexed(address)
    attester: indexed(address)
    uid: bytes32
    schema: indexed(bytes32)

event Revoked:
    recipient: indexed(address)
    attester: indexed(address)
    uid: bytes32
    schema: indexed(bytes32)


@external
def register(schema: String[MAX_SCHEMA], revocable: bool) -> bytes32:
    """
    @notice Register a schema (a type string such as "bytes32 digest,bool
            passed"); anyone, once per (schema, revocable).
    @return The schema's uid, keccak256(schema, revocable).
    """
    assert len(schema) != 0, "attest: empty schema"
    uid: bytes32 = self._schema_uid(schema, revocable)
    assert self.schemas[uid].uid == empty(bytes32), "attest: schema already registered"
    self.schemas[uid] = Schema(uid=uid, revocable=revocable, schema=schema)
    log Registered(uid=uid, registerer=msg.sender, schema=schema)
    return uid


@external
def attest(schema: bytes32, recipient: address, expiration: uint64, revocable: bool, ref_uid: bytes32,
           data: Bytes[MAX_DATA]) -> bytes32:
    """
    @notice Attest `data` under `schema` as `msg.sender`. A referenced
            attestation must exist; a schema that is not revocable takes
            only irrevocable attestations.
    @return The attestation's uid.
    """
    s: Schema = self.schemas[schema]
    assert s.uid != empty(bytes32), "attest: no such schema"
    assert s.revocable or not revocable, "attest: schema is irrevocable"
    assert expiration == 0 or convert(expiration, uint256) > block.timestamp, "attest: expired"
    assert ref_uid == empty(bytes32) or self.attestations[ref_uid].uid != empty(bytes32), "attest: no such reference"
    n: uint256 = self.nonce
    self.nonce = n + 1
    t: uint64 = convert(block.timestamp, uint64)
    uid: bytes32 = keccak256(concat(schema, convert(recipient, bytes20), convert(msg.sender, bytes20),
                                    convert(t, bytes8), convert(expiration, bytes8),
                                    convert(revocable, bytes1), ref_uid, data, convert(n, bytes32)))
    self.attestations[uid] = Attestation(uid=uid, schema=schema, time=t, expiration=expiration, revocation=0,
                                         ref_uid=ref_uid, recipient=recipient, attester=msg.sender,
                                         revocable=revocable, data=data)
    self.last_uid[msg.sender] = uid
    log Attested(recipient=recipient, attester=msg.sender, uid=uid, schema=schema)
    return uid


@external
def revoke(uid: bytes32):
    """
    @notice The attester only: revoke a revocable attestation (once).
    """
    a: Attestation = self.attestations[uid]
    assert a.uid != empty(bytes32), "attest: no such attestation"
    assert a.attester == msg.sender, "attest: not attester"
    assert a.revocable, "attest: irrevocable"
    assert a.revocation == 0, "attest: already revoked"
    self.attestations[uid].revocation = convert(block.timestamp, uint64)
    log Revoked(recipient=a.recipient, attester=msg.sender, uid=uid, schema=a.schema)


@view
@external
def get_schema(uid: bytes32) -> Schema:
    return self.schemas[uid]


@view
@external
def get_attestation(uid: bytes32) -> Attestation:
    """
    @notice The attestation `uid` (all fields zero when there is none).
    """
    return self.attestations[uid]


@view
@external
def is_valid(uid: bytes32) -> bool:
    """
    @notice It exists, is not revoked and has not expired.
    """
    a: Attestation = self.attestations[uid]
    return a.uid != empty(bytes32) and a.revocation == 0 and (
        a.expiration == 0 or convert(a.expiration, uint256) > block.timestamp)


@view
@external
def schema_uid(schema: String[MAX_SCHEMA], revocable: bool) -> bytes32:
    return self._schema_uid(schema, revocable)


@pure
@internal
def _schema_uid(schema: String[MAX_SCHEMA], revocable: bool) -> bytes32:
    return keccak256(concat(convert(schema, Bytes[MAX_SCHEMA]), convert(revocable, bytes1)))
