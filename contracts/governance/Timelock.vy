# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title DSI timelock: every wiring change and every fund movement waits here
@custom:contract-name Timelock
@license GNU Affero General Public License v3.0 only
@notice snekmate's `timelock_controller` (OpenZeppelin's TimelockController
        in Vyper), with a bounded minimum delay: at least MIN_DELAY (2 days),
        at most MAX_DELAY (30 days), also when the timelock changes it
        through its own queue. Roles:
        - proposers (the risk council): schedule operations, each announced
          by `CallScheduled` when queued;
        - executors: run a ready operation (the zero address: anyone);
        - cancellers: the proposers and the guardian, who can cancel any
          queued operation but schedule none.
        The timelock administers itself (role changes are operations too);
        no admin account is kept. It is the only caller the `RiskGovernor`
        accepts for wiring, fund movements and risk-parameter updates.
"""

from snekmate.auth import access_control
initializes: access_control

from snekmate.governance import timelock_controller
initializes: timelock_controller[access_control := access_control]

exports: (
    access_control.DEFAULT_ADMIN_ROLE,
    access_control.hasRole,
    access_control.getRoleAdmin,
    access_control.grantRole,
    access_control.revokeRole,
    access_control.renounceRole,
    access_control.set_role_admin,
    timelock_controller.PROPOSER_ROLE,
    timelock_controller.EXECUTOR_ROLE,
    timelock_controller.CANCELLER_ROLE,
    timelock_controller.get_timestamp,
    timelock_controller.get_minimum_delay,
    timelock_controller.supportsInterface,
    timelock_controller.is_operation,
    timelock_controller.is_operation_pending,
    timelock_controller.is_operation_ready,
    timelock_controller.is_operation_done,
    timelock_controller.get_operation_state,
    timelock_controller.hash_operation,
    timelock_controller.hash_operation_batch,
    timelock_controller.schedule,
    timelock_controller.schedule_batch,
    timelock_controller.cancel,
    timelock_controller.execute,
    timelock_controller.execute_batch,
)

MIN_DELAY: public(constant(uint256)) = 2 * 86_400
MAX_DELAY: public(constant(uint256)) = 30 * 86_400


@deploy
def __init__(delay: uint256, proposers: DynArray[address, 8], executors: DynArray[address, 8], guardian: address):
    """
    @param delay The minimum delay in seconds, within [MIN_DELAY, MAX_DELAY].
    @param proposers Granted the proposer and canceller roles.
    @param executors Granted the executor role (the zero address: anyone).
    @param guardian Granted the canceller role only.
    """
    assert delay >= MIN_DELAY and delay <= MAX_DELAY, "timelock: delay out of bounds"
    assert len(proposers) != 0, "timelock: no proposer"
    assert guardian != empty(address), "timelock: zero guardian"
    access_control.__init__()
    timelock_controller.__init__(delay, proposers, executors, empty(address))
    access_control._grant_role(timelock_controller.CANCELLER_ROLE, guardian)


@external
def update_delay(new_delay: uint256):
    """
    @notice The timelock itself only (an operation it ran through its own
            delay): the new minimum delay, within [MIN_DELAY, MAX_DELAY].
    """
    assert msg.sender == self, "timelock: caller must be timelock"
    assert new_delay >= MIN_DELAY and new_delay <= MAX_DELAY, "timelock: delay out of bounds"
    log timelock_controller.MinimumDelayChange(old_duration=timelock_controller.get_minimum_delay, new_duration=new_delay)
    timelock_controller.get_minimum_delay = new_delay
