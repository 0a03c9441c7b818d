"""The risk governor and the timelock (issue 15 §1): no key can move user funds.

The attacker of these tests holds the deployer key: the key that deployed every contract and
is the timelock's proposer. Before the governor that key took 118,571 USD in one block (the
fund re-pointed at itself and `pay_subsidy`, the reserves, `transfer_share` of every account);
now it owns nothing, and whatever it queues waits two days in public where the guardian cancels
it.
"""

from __future__ import annotations

import ape
import pytest

from dsi.governance import DELAY, FIXED, OWNED, UP, WINDOW, call_data, risk_setters

WAD = 10**18
USD = 10**6
DAY = 86_400
ZERO = "0x" + "00" * 20
NOT_OWNER = "ownable: caller is not the owner"
NOT_READY = "timelock_controller: operation is not ready"


# --- after deployment no key owns anything -------------------------------------------------------

def test_every_protocol_contract_is_owned_by_the_governor(governed):
    p = governed.p
    assert set(p.governed) == set(OWNED)
    for name in OWNED:
        assert getattr(p, name).owner() == p.governor.address, name
    assert p.governor.bootstrapper() == ZERO
    assert p.governor.timelock() == p.timelock.address
    assert p.governor.guardian() == p.guardian.address


def test_the_timelock_administers_itself_with_the_bounded_delay(governed):
    p = governed.p
    t = p.timelock
    admin = t.DEFAULT_ADMIN_ROLE()
    assert t.hasRole(admin, t.address)
    for role in ("deployer", "guardian", "attacker", "keeper"):
        assert not t.hasRole(admin, getattr(p, role)), role
    assert t.get_minimum_delay() == DELAY == 2 * DAY
    assert t.hasRole(t.PROPOSER_ROLE(), p.deployer)
    assert t.hasRole(t.CANCELLER_ROLE(), p.guardian)
    assert not t.hasRole(t.PROPOSER_ROLE(), p.guardian)
    assert t.hasRole(t.EXECUTOR_ROLE(), ZERO)  # anyone executes a ready operation


def test_every_registered_value_is_the_contracts_value(governed):
    p, g = governed.p, governed.p.governor
    for name, method, words, bounds in risk_setters(p):
        contract = getattr(p, name)
        key = g.key(contract.address, call_data(contract, method, words)[:4])
        assert g.setters(key)[2] == len(words), (name, method)
        for i, (w, b) in enumerate(zip(words, bounds)):
            assert g.approved(key, i) == g.current(key, i) == w, (name, method, i)
            assert tuple(g.bounds(key, i)) == b.as_tuple(), (name, method, i)


# --- the one-block rug -----------------------------------------------------------------------------

def test_the_one_block_rug_takes_nothing(governed):
    """What took 118,571 USD before, tried with the deployer key: every call reverts, the
    attacker's balances and every contract's holdings are unchanged."""
    p = governed.p
    d = p.deployer
    before, usd_before = governed.user_money(), p.usd.balanceOf(d)
    with ape.reverts(NOT_OWNER):
        p.insurance_fund.set_liquidator(d, sender=d)
    with ape.reverts(NOT_OWNER):
        p.insurance_fund.withdraw(d, 5_000 * USD, sender=d)
    with ape.reverts(NOT_OWNER):
        p.insurance_fund.set_limits(0, 5 * 10**17, sender=d)
    with ape.reverts(NOT_OWNER):
        p.engine.set_liquidation(d, d, sender=d)
    with ape.reverts(NOT_OWNER):
        p.model.set_haircuts(5 * 10**17, 5 * 10**17, sender=d)
    with ape.reverts(NOT_OWNER):
        p.lender.withdraw(p.usd.address, 1 * USD, d, sender=d)
    with ape.reverts(NOT_OWNER):
        p.series.set_payer(d, True, sender=d)
    with ape.reverts(NOT_OWNER):
        p.option_token.set_minter(d, True, sender=d)
    with ape.reverts(NOT_OWNER):
        p.feed.set_reporter(d, True, sender=d)
    with ape.reverts(NOT_OWNER):
        p.engine.transfer_ownership(d, sender=d)
    with ape.reverts("governor: not timelock"):
        p.governor.execute(p.insurance_fund.address, p.insurance_fund.set_liquidator.encode_input(d), sender=d)
    with ape.reverts("governor: not timelock"):
        p.governor.register(p.engine.address, b"\x00" * 36, [(0, 1, 1, 1, 1, 0, 0)], sender=d)
    # Executing what was never queued, in the same block.
    payload = p.governor.execute.encode_input(p.insurance_fund.address, p.insurance_fund.set_liquidator.encode_input(d))
    with ape.reverts(NOT_READY):
        p.timelock.execute(p.governor.address, 0, payload, b"\x00" * 32, b"\x00" * 32, sender=d)
    with ape.reverts("fund: not liquidator"):
        p.insurance_fund.pay_subsidy(d, 0, 1 * USD, sender=d)
    assert governed.user_money() == before
    assert p.usd.balanceOf(d) == usd_before


def test_a_queued_rug_is_announced_and_the_guardian_cancels_it(governed):
    p, council = governed.p, governed.council
    d = p.deployer
    data = p.insurance_fund.set_liquidator.encode_input(d)
    payload, salt = council.schedule(p.insurance_fund, data)
    op = council.op_id(payload, salt)
    assert p.timelock.is_operation_pending(op)
    ready_at = p.timelock.get_timestamp(op)
    assert ready_at >= governed.chain.blocks.head.timestamp + DELAY
    with ape.reverts(NOT_READY):
        council.execute(payload, salt)
    with ape.reverts("access_control: account is missing role"):
        p.timelock.cancel(op, sender=p.attacker)
    p.timelock.cancel(op, sender=p.guardian)
    governed.chain.mine(deltatime=DELAY + 1)
    with ape.reverts(NOT_READY):
        council.execute(payload, salt)
    assert p.insurance_fund.liquidator() == p.liquidator.address


def test_wiring_runs_after_the_delay_and_not_before(governed):
    p, council = governed.p, governed.council
    newcomer = p.keeper
    data = p.series.set_payer.encode_input(newcomer, True)
    payload, salt = council.schedule(p.series, data)
    governed.chain.mine(deltatime=DELAY - 60)
    with ape.reverts(NOT_READY):
        council.execute(payload, salt)
    governed.chain.mine(deltatime=61)
    council.execute(payload, salt, sender=p.attacker)  # anyone executes a ready operation
    assert p.series.is_payer(newcomer)


def test_the_timelock_refuses_a_delay_below_two_days(governed, project, deployer, guardian):
    with ape.reverts("timelock: delay out of bounds"):
        project.Timelock.deploy(DAY, [deployer], [ZERO], guardian, sender=deployer)
    with ape.reverts("timelock: delay out of bounds"):
        project.Timelock.deploy(31 * DAY, [deployer], [ZERO], guardian, sender=deployer)
    t = governed.p.timelock
    with ape.reverts("timelock: caller must be timelock"):
        t.update_delay(3 * DAY, sender=deployer)
    # Through its own queue: a shorter delay reverts inside the operation (the reason bubbles up).
    payload = t.update_delay.encode_input(DAY)
    t.schedule(t.address, 0, payload, b"\x00" * 32, b"\x01" * 32, DELAY, sender=deployer)
    governed.chain.mine(deltatime=DELAY + 1)
    with ape.reverts("timelock: delay out of bounds"):
        t.execute(t.address, 0, payload, b"\x00" * 32, b"\x01" * 32, sender=deployer)
    assert t.get_minimum_delay() == DELAY


# --- risk parameters: bounds, step, rolling drift ---------------------------------------------------

def test_a_risk_setter_goes_through_set_risk_not_execute(governed):
    p, council = governed.p, governed.council
    data = p.model.set_haircuts.encode_input(2 * 10**16, 15 * 10**16)
    payload, salt = council.schedule(p.model, data, risk=False)
    governed.chain.mine(deltatime=DELAY + 1)
    with ape.reverts("governor: risk setter: use set_risk"):
        council.execute(payload, salt)
    with ape.reverts("governor: not timelock"):
        p.governor.set_risk(p.model.address, data, [], sender=p.deployer)
    council.set_risk(p.model, "set_haircuts", 2 * 10**16, 15 * 10**16)
    assert p.model.usd_haircut() == 2 * 10**16


def test_risk_updates_are_bounded_per_step_and_in_bounds(governed):
    p, g = governed.p, governed.p.governor
    model = p.model.address
    # weth haircut 15%: step 5%, hard limits [5%, 50%]
    with ape.reverts("governor: step too large"):
        g.check_risk(model, call_data(p.model, "set_haircuts", [10**16, 21 * 10**16]), [])
    with ape.reverts("governor: value out of bounds"):
        g.check_risk(model, call_data(p.model, "set_haircuts", [6 * 10**17, 15 * 10**16]), [])
    with ape.reverts("governor: data is not the setter's words"):
        g.check_risk(model, call_data(p.model, "set_haircuts", [10**16, 15 * 10**16]) + b"\x00" * 32, [])
    with ape.reverts("governor: not a risk setter"):
        g.check_risk(p.engine.address, p.engine.set_liquidation.encode_input(p.deployer, p.deployer), [])
    assert g.check_risk(model, call_data(p.model, "set_haircuts", [10**16, 20 * 10**16]), [])


def test_the_drift_cap_holds_over_a_rolling_window(governed):
    """weth haircut: step 5%, cap 10% per 30 days. Lowering it 15% -> 10% -> 5% in two steps
    uses the cap; a third change inside 30 days of the first is refused, also back up; after the
    first leaves the window, one more 5% step fits."""
    p, council, g = governed.p, governed.council, governed.p.governor
    council.set_risk(p.model, "set_haircuts", 10**16, 10 * 10**16,
                     proof=governed.proof(p.model, "set_haircuts", 10**16, 10 * 10**16))
    first = governed.chain.blocks.head.timestamp
    council.set_risk(p.model, "set_haircuts", 10**16, 5 * 10**16,
                     proof=governed.proof(p.model, "set_haircuts", 10**16, 5 * 10**16))
    assert g.drift(p.model.address, call_data(p.model, "set_haircuts", [0, 0])[:4], 1) == 10 * 10**16
    with ape.reverts("governor: drift cap exceeded"):
        g.check_risk(p.model.address, call_data(p.model, "set_haircuts", [10**16, 6 * 10**16]), [])
    governed.chain.mine(deltatime=first + WINDOW - governed.chain.blocks.head.timestamp + 1)
    council.set_risk(p.model, "set_haircuts", 10**16, 10 * 10**16)
    assert p.model.weth_haircut() == 10 * 10**16


# --- the guardian only tightens, and only for a while ------------------------------------------------

def test_the_guardian_tightens_initial_margin_and_it_lapses(governed):
    p, g = governed.p, governed.p.governor
    im, mm = p.model.im_params(), p.model.mm_params()
    tighter = call_data(p.model, "set_standard_params", [im[0] + 5 * 10**16, im[1], mm[0], mm[1]])
    with ape.reverts("governor: not guardian"):
        g.tighten(p.model.address, tighter, sender=p.deployer)
    g.tighten(p.model.address, tighter, sender=p.guardian)
    assert p.model.im_params()[0] == im[0] + 5 * 10**16
    selector = tighter[:4]
    with ape.reverts("governor: not expired"):
        g.lapse(p.model.address, selector, sender=p.attacker)
    governed.chain.mine(deltatime=g.GUARDIAN_TTL() + 1)
    g.lapse(p.model.address, selector, sender=p.attacker)  # anyone
    assert tuple(p.model.im_params()) == tuple(im)
    with ape.reverts("governor: nothing to lapse"):
        g.lapse(p.model.address, selector, sender=p.attacker)


def test_the_guardian_cannot_loosen_or_touch_maintenance(governed):
    p, g = governed.p, governed.p.governor
    im, mm = p.model.im_params(), p.model.mm_params()
    with ape.reverts("governor: guardian only tightens"):
        g.tighten(p.model.address, call_data(p.model, "set_standard_params", [im[0] - 10**16, im[1], mm[0], mm[1]]),
                  sender=p.guardian)
    with ape.reverts("governor: guardian cannot change this"):
        g.tighten(p.model.address, call_data(p.model, "set_standard_params", [im[0], im[1], mm[0] + 10**16, mm[1]]),
                  sender=p.guardian)
    with ape.reverts("governor: guardian cannot change this"):
        g.tighten(p.model.address, call_data(p.model, "set_haircuts", [2 * 10**16, 15 * 10**16]), sender=p.guardian)
    with ape.reverts("governor: nothing tightened"):
        g.tighten(p.model.address, call_data(p.model, "set_standard_params", list(im) + list(mm)), sender=p.guardian)
    with ape.reverts("governor: step too large"):
        g.tighten(p.model.address, call_data(p.model, "set_standard_params", [im[0] + 6 * 10**16, im[1], mm[0], mm[1]]),
                  sender=p.guardian)
    # Tightening again cannot ratchet past one step of the approved value.
    g.tighten(p.model.address, call_data(p.model, "set_standard_params", [im[0] + 5 * 10**16, im[1], mm[0], mm[1]]),
              sender=p.guardian)
    with ape.reverts("governor: step too large"):
        g.tighten(p.model.address, call_data(p.model, "set_standard_params",
                                             [im[0] + 5 * 10**16 + 1, im[1], mm[0], mm[1]]), sender=p.guardian)
    # OI cap: smaller is safer
    cap = p.engine.open_interest_cap()
    with ape.reverts("governor: guardian only tightens"):
        g.tighten(p.engine.address, call_data(p.engine, "set_open_interest_cap", [cap + 1]), sender=p.guardian)
    g.tighten(p.engine.address, call_data(p.engine, "set_open_interest_cap", [cap * 3 // 4]), sender=p.guardian)
    assert p.engine.open_interest_cap() == cap * 3 // 4
    for fn, args in (("execute", (p.insurance_fund.address, p.insurance_fund.withdraw.encode_input(p.guardian, 1))),
                     ("set_risk", (p.model.address, call_data(p.model, "set_haircuts", [0, 10**17]), [])),
                     ("set_guardian", (p.attacker,))):
        with ape.reverts("governor: not timelock"):
            getattr(g, fn)(*args, sender=p.guardian)


def test_the_timelock_confirms_a_tightening(governed):
    p, g, council = governed.p, governed.p.governor, governed.council
    cap = p.engine.open_interest_cap()
    g.tighten(p.engine.address, call_data(p.engine, "set_open_interest_cap", [cap * 3 // 4]), sender=p.guardian)
    council.set_risk(p.engine, "set_open_interest_cap", cap * 3 // 4)
    governed.chain.mine(deltatime=g.GUARDIAN_TTL() + 1)
    with ape.reverts("governor: nothing to lapse"):
        g.lapse(p.engine.address, call_data(p.engine, "set_open_interest_cap", [0])[:4], sender=p.attacker)
    assert p.engine.open_interest_cap() == cap * 3 // 4


def test_the_guardian_freezes_listing_until_it_lapses(governed):
    p, g = governed.p, governed.p.governor
    sw = p.switches["freeze_listing"]
    with ape.reverts("governor: not guardian"):
        g.switch_on(sw, sender=p.attacker)
    g.switch_on(sw, sender=p.guardian)
    assert not p.series.is_lister(p.deployer)
    with ape.reverts("series: not lister"):
        p.series.list_series(3000 * WAD, governed.expiry, True, False, sender=p.deployer)
    with ape.reverts("governor: switch already on"):
        g.switch_on(sw, sender=p.guardian)
    with ape.reverts("governor: not expired"):
        g.switch_off(sw, sender=p.attacker)
    governed.chain.mine(deltatime=g.GUARDIAN_TTL() + 1)
    g.switch_off(sw, sender=p.attacker)
    assert p.series.is_lister(p.deployer)


def test_the_timelock_keeps_a_confirmed_switch_on(governed):
    p, g, council = governed.p, governed.p.governor, governed.council
    sw = p.switches["freeze_listing"]
    g.switch_on(sw, sender=p.guardian)
    t = p.timelock
    payload = g.confirm_switch.encode_input(sw)
    t.schedule(g.address, 0, payload, b"\x00" * 32, b"\x03" * 32, DELAY, sender=p.deployer)
    governed.chain.mine(deltatime=DELAY + 1)
    t.execute(g.address, 0, payload, b"\x00" * 32, b"\x03" * 32, sender=p.deployer)
    governed.chain.mine(deltatime=g.GUARDIAN_TTL() + 1)
    with ape.reverts("governor: not expired"):
        g.switch_off(sw, sender=p.attacker)
    assert not p.series.is_lister(p.deployer)


def test_registration_is_once_and_only_through_the_timelock_after_seal(governed):
    p, g = governed.p, governed.p.governor
    data = call_data(p.model, "set_haircuts", [10**16, 15 * 10**16])
    with ape.reverts("governor: not timelock"):
        g.register(p.model.address, data, [(0, WAD, WAD, WAD, WINDOW, FIXED, FIXED)] * 2, sender=p.deployer)
    with ape.reverts("governor: not bootstrapper"):
        g.seal(sender=p.deployer)
    payload = g.register.encode_input(p.model.address, data, [(0, WAD, WAD, WAD, WINDOW, UP, UP)] * 2)
    t = p.timelock
    t.schedule(g.address, 0, payload, b"\x00" * 32, b"\x02" * 32, DELAY, sender=p.deployer)
    governed.chain.mine(deltatime=DELAY + 1)
    with ape.reverts("governor: setter already registered"):
        t.execute(g.address, 0, payload, b"\x00" * 32, b"\x02" * 32, sender=p.deployer)
