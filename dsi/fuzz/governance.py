"""Governor rules and invariants of the protocol state machine (issue 15 §1, §5).

The fuzz world is governed (`dsi.governance.govern` at the end of `dsi.fuzz.world.build_world`):
the timelock and the risk governor own every contract. These rules drive them between the users'
and the market's actions:

- the council queues a risk update (one word of a registered setter moved by a fraction or a
  multiple of its step, up or down), the timelock's delay passes, and anyone executes what is
  ready: the outcome (pass, or the governor's reason) must equal the reference twin's verdict
  (`dsi.reference.governor.WordBound`) at execution time;
- the guardian tightens or tries to loosen a random word: accepted exactly when the word moves
  in its safer direction within limits and step;
- anyone lapses an expired tightening;
- the deployer key, the attacker and the guardian call privileged functions directly: every
  such call reverts;
- the keeper pokes the stress monitor: its level follows the machine's market, oracle faults and
  book (up at once, down one level at a time), and every stressed word must then be the
  reference composition (`dsi.reference.stress.stressed_value`) of the approved value, the
  guardian's pending one and the level.

Invariants: the governor's record equals every contract's getters; each word's approved value
lies in its hard limits and its changes never sum past the cap over any window; the applied
value is the approved one or on its safer side (the guardian and the monitor only tighten).
"""

from __future__ import annotations

from hypothesis import note as _hypothesis_note
from hypothesis.errors import InvalidArgument
from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule

from dsi.attest import params_digest_reference, post_for_change
from dsi.governance import ATTESTATION_MAX_AGE, DELAY, DOWN, FIXED, UP, Council, call_data, risk_setters
from dsi.reference.governor import WordBound, max_window_drift
from dsi.reference.stress import stressed_value

MAX_UINT = 2**256 - 1
NOT_OWNER = "ownable: caller is not the owner"


def note(message: str) -> None:
    """hypothesis' `note` in a run; nothing when a directed test drives a rule outside one."""
    try:
        _hypothesis_note(message)
    except InvalidArgument:
        pass


class GovernanceRules:
    """Mixin of `ProtocolMachine` (which provides `p`, `chain`, `_documented_reasons`, STATS)."""

    def _governance_init(self, stats, target_reasons: set[str]):
        p = self.p
        self._gstats = stats
        self._target_reasons = target_reasons
        self.council = Council(p, self.chain)
        self.setters = []
        for name, method, words, _ in risk_setters(p):
            contract = getattr(p, name)
            selector = call_data(contract, method, words)[:4]
            key = p.governor.key(contract.address, selector)
            bounds = [tuple(p.governor.bounds(key, i)) for i in range(len(words))]
            refs = [WordBound(value=w, lo=b[0], hi=b[1], step=b[2], cap=b[3], window=b[4]) for w, b in zip(words, bounds)]
            shifts = [tuple(p.governor.shifts(key, i)) for i in range(len(words))]
            self.setters.append({"name": name, "method": method, "contract": contract, "key": key,
                                 "selector": selector, "bounds": bounds,
                                 "refs": refs, "current": list(words), "expires": 0, "guard": None,
                                 "shifts": shifts})
        self.queued = []  # (setter, words, payload, salt, ready)
        self.stress_level = p.governor.stress_level()

    def _recompute(self, s):
        """The applied words the governor must hold (`dsi.reference.stress.stressed_value`): the
        guardian's words while pending, else the approved ones, tightened by the stress level."""
        approved = [r.value for r in s["refs"]]
        base = s["guard"] if s["guard"] is not None else approved
        s["current"] = [stressed_value(a, b, self.stress_level, per, tighter, bound[0], bound[1], first)
                        for a, b, (per, tighter, first), bound in zip(approved, base, s["shifts"], s["bounds"])]

    def _gcount(self, rule_name: str):
        self._gstats.rules[rule_name] += 1
        self._gstats.steps += 1

    @staticmethod
    def _move(value: int, step: int, factor: float) -> int:
        unit = step if step < MAX_UINT // 4 else max(value // 4, 1)
        return min(MAX_UINT, max(0, value + int(factor * unit)))

    # --- the council and the timelock ---------------------------------------------------------

    def _loosens(self, s, words) -> bool:
        """The governor's `_loosens` against the approved words now (the bounds' solvency
        direction, index 6; FIXED: any move)."""
        for ref, v, b in zip(s["refs"], words, s["bounds"]):
            if v != ref.value and (b[6] == FIXED or (b[6] == UP and v < ref.value) or (b[6] == DOWN and v > ref.value)):
                return True
        return False

    def _digest_after(self, s, words) -> bytes:
        """`dsi.attest.params_digest_reference` of the approved set with `s` at `words`."""
        entries = [(x["selector"], list(words) if x is s else [r.value for r in x["refs"]]) for x in self.setters]
        return params_digest_reference(entries)

    @rule(pick=st.integers(0, 63), word=st.integers(0, 15), factor=st.sampled_from([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0]),
          attested=st.booleans())
    def council_queues_risk_update(self, pick, word, factor, attested=False):
        """A loosening queued with `attested` carries the risk team's claim and a verification for
        the parameter set it produces as of now (the gate asks for one verification)."""
        self._gcount("governance.queue")
        s = self.setters[pick % len(self.setters)]
        i = word % len(s["refs"])
        words = [r.value for r in s["refs"]]
        words[i] = self._move(words[i], s["bounds"][i][2], factor)
        data = call_data(s["contract"], s["method"], words)
        proof, attestation = [], None
        if attested and self._loosens(s, words):
            risk_team, verifier = self.w.attesters
            proof = post_for_change(self.p, s["contract"], data, risk_team, [verifier])
            attestation = (self._digest_after(s, words), self.chain.timestamp)
        payload, salt = self.council.schedule(s["contract"], data, risk=True, proof=proof)
        self.queued.append((s, words, payload, salt, self.chain.timestamp + DELAY, attestation))
        note(f"council queues {s['name']}.{s['method']} word {i} -> {words[i]}"
             + (" with an attestation" if attestation else ""))

    @precondition(lambda self: bool(self.queued))
    @rule()
    def timelock_delay_passes(self):
        """Two days pass in one jump (keepers observe the pool once at the end); then anyone
        executes what became ready."""
        self._gcount("governance.delay")
        self.chain.mine(deltatime=DELAY + 1)
        self.p.twap.update(sender=self.p.keeper)
        self.anyone_executes_ready_updates()

    @precondition(lambda self: bool(self.queued))
    @rule()
    def anyone_executes_ready_updates(self):
        now = self.chain.pending_timestamp
        for op in [q for q in self.queued if q[4] < now]:
            self._gcount("governance.execute")
            s, words, payload, salt, _, attestation = op
            self.queued.remove(op)
            expected = None
            for ref, v in zip(s["refs"], words):
                expected = ref.verdict(now, v)
                if expected is not None:
                    break
            if expected is None and self._loosens(s, words):  # the gate, in StressGate.check's order
                if attestation is None:
                    expected = "gate: loosening needs a stress attestation"
                elif attestation[1] + ATTESTATION_MAX_AGE < now:
                    expected = "gate: attestation stale"
                elif attestation[0] != self._digest_after(s, words):
                    expected = "gate: attested with other parameters"
            ok, why = self.chain.attempt(self.council.execute, payload, salt, sender=self.p.keeper)
            note(f"execute {s['name']}.{s['method']} {words}: {'ok' if ok else why} (reference: {expected})")
            if expected is not None:
                assert not ok and why == expected, f"governor said {why if not ok else 'ok'}, reference {expected}"
                continue
            if not ok:  # the governor passed it; the contract's own validation refused it
                assert why in self._target_reasons, f"undocumented revert {why!r}"
                continue
            t = self.chain.timestamp
            for ref, v in zip(s["refs"], words):
                ref.apply(t, v)
            s["guard"], s["expires"] = None, 0
            self._recompute(s)

    # --- the guardian -------------------------------------------------------------------------

    @rule(pick=st.integers(0, 63), word=st.integers(0, 15), factor=st.sampled_from([-1.5, -1.0, -0.5, 0.5, 1.0, 1.5]))
    def guardian_tightens(self, pick, word, factor):
        self._gcount("governance.tighten")
        s = self.setters[pick % len(self.setters)]
        i = word % len(s["refs"])
        approved = [r.value for r in s["refs"]]
        base = list(s["guard"] if s["guard"] is not None else approved)  # the guardian's own (not stressed)
        words = list(base)
        words[i] = self._move(words[i], s["bounds"][i][2], factor)
        expected = _guardian_verdict(s["bounds"], base, approved, words)
        ok, why = self.chain.attempt(self.p.governor.tighten, s["contract"].address,
                                     call_data(s["contract"], s["method"], words), sender=self.p.guardian)
        note(f"guardian {s['name']}.{s['method']} word {i} -> {words[i]}: {'ok' if ok else why} (reference {expected})")
        if expected is not None:
            assert not ok and why == expected, f"governor said {why if not ok else 'ok'}, reference {expected}"
            return
        if not ok:
            assert why in self._target_reasons, f"undocumented revert {why!r}"
            return
        s["guard"] = words
        s["expires"] = self.chain.timestamp + self.p.governor.GUARDIAN_TTL()
        self._recompute(s)

    @rule(pick=st.integers(0, 63))
    def anyone_lapses(self, pick):
        self._gcount("governance.lapse")
        s = self.setters[pick % len(self.setters)]
        now = self.chain.pending_timestamp
        selector = call_data(s["contract"], s["method"], s["current"])[:4]
        ok, why = self.chain.attempt(self.p.governor.lapse, s["contract"].address, selector, sender=self.p.attacker)
        if s["expires"] == 0:
            assert not ok and why == "governor: nothing to lapse", why
        elif now < s["expires"]:
            assert not ok and why == "governor: not expired", why
        else:
            assert ok, why
            s["guard"], s["expires"] = None, 0
            self._recompute(s)

    # --- the stress monitor -------------------------------------------------------------------

    @rule()
    def keeper_pokes_the_monitor(self):
        """Anyone pokes the stress monitor: its level moves by its indicators (the machine's
        market, oracle faults and book), and every stressed setter must then hold exactly the
        reference composition (checked by `governor_record_matches_the_contracts`)."""
        self._gcount("governance.poke")
        p = self.p
        if "monitor" not in p.extra:
            return
        before = self.stress_level
        p.monitor.poke(sender=p.keeper)
        self.stress_level = p.monitor.level()
        assert p.governor.stress_level() == self.stress_level
        assert self.stress_level <= 3
        if self.stress_level < before:
            assert self.stress_level == before - 1, "the monitor relaxes one level at a time"
        note(f"monitor poked: level {before} -> {self.stress_level}")
        if self.stress_level != before:
            self._gstats.rules[f"governance.level_{self.stress_level}"] += 1
            for s in self.setters:
                self._recompute(s)

    # --- keys that own nothing ----------------------------------------------------------------

    @rule(who=st.sampled_from(["deployer", "attacker", "guardian"]), pick=st.integers(0, 63))
    def keys_call_privileged_functions(self, who, pick):
        self._gcount("governance.privileged_call")
        p = self.p
        key = getattr(p, who)
        calls = [(p.insurance_fund.set_liquidator, (key,)), (p.insurance_fund.withdraw, (key, 1)),
                 (p.engine.set_liquidation, (key, key)), (p.model.set_haircuts, (0, 5 * 10**16)),
                 (p.lender.withdraw, (p.usd.address, 1, key)), (p.option_token.set_minter, (key, True)),
                 (p.series.set_payer, (key, True)), (p.feed.set_reporter, (key, True)),
                 (p.oracle.set_frozen, (True,)), (p.engine.transfer_ownership, (key,)),
                 (p.governor.execute, (p.insurance_fund.address, p.insurance_fund.withdraw.encode_input(key, 1))),
                 (p.governor.set_guardian, (key,))]
        fn, args = calls[pick % len(calls)]
        ok, why = self.chain.attempt(fn, *args, sender=key)
        assert not ok and why in (NOT_OWNER, "governor: not timelock"), f"{who} called a privileged function: {why}"

    # --- invariants -----------------------------------------------------------------------------

    @invariant()
    def governor_record_matches_the_contracts(self):
        self._gstats.invariants["governor_record_matches_the_contracts"] += 1
        g = self.p.governor
        on_chain = {(name, method): words for name, method, words, _ in risk_setters(self.p)}
        for s in self.setters:
            assert on_chain[(s["name"], s["method"])] == s["current"], (s["name"], s["method"])
            for i, ref in enumerate(s["refs"]):
                assert g.current(s["key"], i) == s["current"][i]
                assert g.approved(s["key"], i) == ref.value

    @invariant()
    def risk_drift_within_window_caps(self):
        self._gstats.invariants["risk_drift_within_window_caps"] += 1
        for s in self.setters:
            for ref in s["refs"]:
                assert ref.lo <= ref.value <= ref.hi
                assert max_window_drift(ref.history, ref.window) <= ref.cap

    @invariant()
    def guardian_only_tightened(self):
        self._gstats.invariants["guardian_only_tightened"] += 1
        for s in self.setters:
            for ref, cur, b, (per, stress_dir, _) in zip(s["refs"], s["current"], s["bounds"], s["shifts"]):
                tighter = b[5] if b[5] != FIXED or per == 0 else stress_dir  # the monitor's own direction
                assert (cur == ref.value if tighter == FIXED else cur >= ref.value if tighter == UP
                        else cur <= ref.value), (s["name"], s["method"], cur, ref.value)


def _guardian_verdict(bounds, current, approved, words) -> str | None:
    """`RiskGovernor.tighten`'s verdict, word by word in order (the step from the approved value)."""
    stricter = False
    for (lo, hi, step, _cap, _window, tighter, _safer), cur, a, v in zip(bounds, current, approved, words):
        if v == cur:
            continue
        if tighter == FIXED:
            return "governor: guardian cannot change this"
        if not ((tighter == UP and v > cur) or (tighter == DOWN and v < cur)):
            return "governor: guardian only tightens"
        if not lo <= v <= hi:
            return "governor: value out of bounds"
        if abs(v - a) > step:
            return "governor: step too large"
        stricter = True
    return None if stricter else "governor: nothing tightened"
