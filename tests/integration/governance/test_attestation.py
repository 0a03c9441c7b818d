"""Stress tests attested on chain (issue 15 §3): the registry, the stress gate, the governor's
refusal to loosen without a fresh passing attestation for the resulting parameter set, and the
report digest (same code, parameters, data and seed -> same digest).

Roles: the risk team attests, the verifier re-runs and confirms (both approved by the gate, as
the governed fixture deploys it); the attacker is not approved."""

from __future__ import annotations

import ape
import pytest

from dsi import attest as A
from dsi.governance import call_data
from dsi.protocol import Params
from dsi.scenarios import run_in_process

DAY = 86_400
WAD = 10**18
TENOR = 400 * DAY  # the loosening the risk team wants: series up to 400 days (365 today)


def _tenor_words(p, tenor=TENOR):
    s = p.series
    return [tenor, s.min_strike_ratio(), s.max_strike_ratio(), s.min_size()]


def _tenor_data(p, tenor=TENOR):
    return call_data(p.series, "set_parameters", _tenor_words(p, tenor))


def _claim(p, digest=None, passed=True, rd=b"\x11" * 32):
    return A.StressClaim(report_digest=rd, code_commit=b"\x00" * 20,
                         params_digest=digest or bytes(p.governor.params_digest_after(p.series.address, _tenor_data(p))),
                         scenario_set_digest=b"\x00" * 32, paths=0, seed=1, passed=passed, worst_bad_debt=0,
                         p99_bad_debt=0, fund_drawdown=0)


def _verify(p, verifier, uid, rd=b"\x11" * 32, match=True):
    return A.post_verification(p.registry, verifier, uid, rd, bytes(p.governor.params_digest_after(
        p.series.address, _tenor_data(p))), match)


# --- the registry ------------------------------------------------------------------------------

def test_the_registry_keeps_schemas_attestations_and_revocations(governed):
    p = governed.p
    risk_team, verifier = governed.attesters
    r = p.registry
    uid_s = A.schema_uid(r, A.STRESS_SCHEMA)
    assert bytes(r.get_schema(uid_s)[0]) == uid_s  # the gate registered both schemas
    with ape.reverts("attest: schema already registered"):
        r.register(A.STRESS_SCHEMA, True, sender=p.attacker)
    with ape.reverts("attest: no such schema"):
        r.attest(b"\x01" * 32, A.ZERO_ADDRESS, 0, True, A.ZERO32, b"", sender=p.attacker)
    with ape.reverts("attest: no such reference"):
        r.attest(uid_s, A.ZERO_ADDRESS, 0, True, b"\x02" * 32, b"", sender=p.attacker)
    with ape.reverts("attest: expired"):
        r.attest(uid_s, A.ZERO_ADDRESS, 1, True, A.ZERO32, b"", sender=p.attacker)
    c = _claim(p)
    uid = A.post_claim(r, risk_team, c)
    posted = A.read_claim(r, uid)
    assert posted.claim == c and posted.attester == risk_team.address and not posted.revoked
    assert r.is_valid(uid)
    with ape.reverts("attest: not attester"):
        r.revoke(uid, sender=verifier)
    r.revoke(uid, sender=risk_team)
    assert not r.is_valid(uid) and A.read_claim(r, uid).revoked
    with ape.reverts("attest: already revoked"):
        r.revoke(uid, sender=risk_team)
    fixed = r.register("bytes32 x", False, sender=p.attacker)
    assert fixed is not None
    sid = r.schema_uid("bytes32 x", False)
    with ape.reverts("attest: schema is irrevocable"):
        r.attest(sid, A.ZERO_ADDRESS, 0, True, A.ZERO32, b"", sender=p.attacker)
    r.attest(sid, A.ZERO_ADDRESS, 0, False, A.ZERO32, b"\x00" * 32, sender=p.attacker)
    with ape.reverts("attest: irrevocable"):
        r.revoke(r.last_uid(p.attacker), sender=p.attacker)


def test_the_gate_is_governed(governed):
    p = governed.p
    gate = p.gate
    assert gate.owner() == p.governor.address
    assert p.governor.gate() == gate.address
    assert gate.max_age() == 7 * DAY and gate.verifiers() == 1
    assert gate.STRESS_SCHEMA() == A.STRESS_SCHEMA and gate.VERIFY_SCHEMA() == A.VERIFY_SCHEMA
    for fn, args in (("set_attester", (p.attacker, True)), ("set_policy", (DAY, 0))):
        with ape.reverts("ownable: caller is not the owner"):
            getattr(gate, fn)(*args, sender=p.deployer)
    with ape.reverts("governor: not timelock"):
        p.governor.set_gate(p.attacker, sender=p.deployer)
    with ape.reverts("gate: max age out of bounds"):
        governed.council.wire(gate, "set_policy", 60, 1)
    with ape.reverts("gate: too many verifiers"):
        governed.council.wire(gate, "set_policy", DAY, 4)
    governed.council.wire(gate, "set_policy", DAY, 2)
    assert gate.max_age() == DAY and gate.verifiers() == 2


# --- the governor: loosening needs the attestation, tightening does not ------------------------

def test_the_parameter_digest_matches_its_reference_and_the_lab(governed):
    p, g = governed.p, governed.p.governor
    assert bytes(g.params_digest()) == A.params_digest_reference(A.governed_entries(p))
    assert g.setter_count() == len(A.governed_entries(p))
    same = call_data(p.series, "set_parameters", _tenor_words(p, p.series.max_tenor()))
    assert bytes(g.params_digest_after(p.series.address, same)) == bytes(g.params_digest())
    # The fixture is deployed as `ape run deploy` deploys the default parameter file, so the lab's
    # digest of a parameter file is the one the live governor computes for the same change.
    assert A.params_digest(Params()) == bytes(g.params_digest())
    assert A.params_digest(Params(max_tenor=TENOR)) == bytes(g.params_digest_after(p.series.address, _tenor_data(p)))
    assert g.loosens(p.series.address, _tenor_data(p))
    assert not g.loosens(p.series.address, _tenor_data(p, 300 * DAY))


def test_a_loosening_without_a_proof_is_refused_and_tightening_needs_none(governed):
    p, g, council = governed.p, governed.p.governor, governed.council
    with ape.reverts("gate: loosening needs a stress attestation"):
        g.check_risk(p.series.address, _tenor_data(p), [])
    council.set_risk(p.series, "set_parameters", *_tenor_words(p, 300 * DAY))  # shorter: tighter
    assert p.series.max_tenor() == 300 * DAY
    # a word without a solvency direction (the TWAP window) needs one either way
    o = p.oracle
    words = [o.max_age(), o.max_deviation(), o.max_spot_deviation(), o.twap_window() - 60]
    with ape.reverts("gate: loosening needs a stress attestation"):
        g.check_risk(o.address, call_data(o, "set_parameters", words), [])


@pytest.mark.parametrize("case", ["unapproved", "other params", "failed", "revoked", "stale", "no verification",
                                  "same verifier", "mismatch", "wrong reference"])
def test_the_gate_refuses_a_bad_proof(governed, case):
    p, g = governed.p, governed.p.governor
    risk_team, verifier = governed.attesters
    data = _tenor_data(p)
    attester = p.attacker if case == "unapproved" else risk_team
    c = _claim(p, digest=bytes(g.params_digest()) if case == "other params" else None, passed=case != "failed")
    uid = A.post_claim(p.registry, attester, c)
    if case == "revoked":
        p.registry.revoke(uid, sender=risk_team)
    ref = uid
    if case == "wrong reference":
        ref = A.post_claim(p.registry, risk_team, c)
    v = {"same verifier": risk_team}.get(case, verifier)
    proof = [uid]
    if case != "no verification":
        proof.append(_verify(p, v, ref, rd=b"\x22" * 32 if case == "mismatch" else b"\x11" * 32))
    if case == "stale":
        governed.chain.mine(deltatime=7 * DAY + 1)
    reason = {"unapproved": "gate: attester not approved", "other params": "gate: attested with other parameters",
              "failed": "gate: stress test failed", "revoked": "gate: attestation revoked",
              "stale": "gate: attestation stale", "no verification": "gate: too few verifications",
              "same verifier": "gate: verifier not independent", "mismatch": "gate: verification does not match",
              "wrong reference": "gate: not a verification of the attestation"}[case]
    with ape.reverts(reason):
        g.check_risk(p.series.address, data, proof)


def test_a_fresh_verified_attestation_loosens_through_the_timelock(governed):
    p, g, council = governed.p, governed.p.governor, governed.council
    risk_team, verifier = governed.attesters
    proof = A.post_for_change(p, p.series, _tenor_data(p), risk_team, [verifier])
    assert g.check_risk(p.series.address, _tenor_data(p), proof)
    council.set_risk(p.series, "set_parameters", *_tenor_words(p), proof=proof)
    assert p.series.max_tenor() == TENOR
    # the same proof cannot loosen further: the parameter set is another one
    with ape.reverts("gate: attested with other parameters"):
        g.check_risk(p.series.address, _tenor_data(p, TENOR + 30 * DAY), proof)


def test_an_attestation_expires_in_the_timelock_queue(governed):
    """Queued with a fresh proof, executed after max age: refused at execution."""
    p, council = governed.p, governed.council
    risk_team, verifier = governed.attesters
    proof = A.post_for_change(p, p.series, _tenor_data(p), risk_team, [verifier])
    payload, salt = council.schedule(p.series, _tenor_data(p), risk=True, proof=proof)
    governed.chain.mine(deltatime=7 * DAY + 1)
    with ape.reverts("gate: attestation stale"):
        council.execute(payload, salt)
    assert p.series.max_tenor() == 365 * DAY


# --- the report digest: the lab's run, attested and verified ------------------------------------

RUNS = (("flash_pump", "fixed"), ("monte_carlo", "fixed"))


def _lab(params_file, seed, data="../shared/data"):
    params = Params.from_file(params_file)
    results = [run_in_process(n, m, str(params_file), data, True, (), seed) for n, m in RUNS]
    head = A.header(params, params_file, data, seed, list(RUNS), True, (), A.params_digest(params))
    return A.claim(results, head), results, head


@pytest.fixture(scope="module")
def tenor_file(tmp_path_factory):
    f = tmp_path_factory.mktemp("params") / "tenor.toml"
    f.write_text(f"[options]\nmax_tenor = {TENOR}\n")
    return f


def test_the_report_digest_is_reproducible_and_names_its_inputs(tenor_file):
    first, results, head = _lab(tenor_file, 7)
    again, _, _ = _lab(tenor_file, 7)
    assert first == again  # same code, parameters, data and seed: the same claim, bit for bit
    assert first.passed and first.paths == 4  # the quick Monte Carlo: 4 paths
    assert first.params_digest == A.params_digest(Params(max_tenor=TENOR))
    other_seed, _, _ = _lab(tenor_file, 8)
    assert other_seed.report_digest != first.report_digest
    changed = dict(head, data="0x" + "00" * 32)
    assert A.report_digest(results, changed) != first.report_digest
    results[1].metrics["bad_debt_usd"] = results[1].metrics["bad_debt_usd"] + 1e-9
    assert A.report_digest(results, head) != first.report_digest


def test_the_lab_attests_a_verifier_confirms_and_the_governor_loosens(governed, tenor_file):
    """The whole path: the risk team runs the lab with the new parameter file and attests; the
    verifier re-runs it (same seed) and confirms; the council queues the change with both."""
    p, g = governed.p, governed.p.governor
    risk_team, verifier = governed.attesters
    c, _, _ = _lab(tenor_file, 11)
    uid = A.post_claim(p.registry, risk_team, c)
    posted = A.read_claim(p.registry, uid)
    rerun, _, _ = _lab(tenor_file, posted.claim.seed)
    assert rerun.report_digest == posted.claim.report_digest
    v = A.post_verification(p.registry, verifier, uid, rerun.report_digest, rerun.params_digest, True)
    governed.council.set_risk(p.series, "set_parameters", *_tenor_words(p), proof=[uid, v])
    assert p.series.max_tenor() == TENOR
    assert bytes(g.params_digest()) == c.params_digest
