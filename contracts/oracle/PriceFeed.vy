# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title DSI pushed price feed (Chainlink-like)
@custom:contract-name PriceFeed
@license GNU Affero General Public License v3.0 only
@notice Rounds of (answer, updated_at) pushed by reporters, read as
        `latest_round_data() -> (round_id, answer, started_at, updated_at,
        answered_in_round)` like Chainlink's AggregatorV3. Answers are WAD
        USD per WETH (18 decimals). The feed checks nothing about the
        answer but that it is positive: judging it (staleness, deviation,
        fallback) is the consumer's job (`ProtocolOracle`), as with any
        external feed.
"""

from . import IPriceFeed
implements: IPriceFeed

from snekmate.auth import ownable
initializes: ownable
# @dev The owner adds and removes reporters.

exports: (ownable.owner, ownable.transfer_ownership)


struct Round:
    answer: int256
    updated_at: uint256


description: public(String[64])
latest_round: public(uint256)
rounds: public(HashMap[uint256, Round])
is_reporter: public(HashMap[address, bool])


event AnswerUpdated:
    current: indexed(int256)
    round_id: indexed(uint256)
    updated_at: uint256


event ReporterSet:
    reporter: indexed(address)
    allowed: bool


@deploy
def __init__(description_: String[64]):
    ownable.__init__()
    self.description = description_


@view
@external
def decimals() -> uint8:
    return 18


@external
def set_reporter(reporter: address, allowed: bool):
    """
    @notice Owner only: allow or revoke a reporter.
    """
    ownable._check_owner()
    assert reporter != empty(address), "feed: zero reporter"
    self.is_reporter[reporter] = allowed
    log ReporterSet(reporter=reporter, allowed=allowed)


@external
def submit(answer: int256) -> uint256:
    """
    @notice Reporter only: push a new answer (WAD USD) as of this block.
    @return uint256 The new round id.
    """
    assert self.is_reporter[msg.sender], "feed: not reporter"
    assert answer > 0, "feed: answer not positive"
    round_id: uint256 = self.latest_round + 1
    self.latest_round = round_id
    self.rounds[round_id] = Round(answer=answer, updated_at=block.timestamp)
    log AnswerUpdated(current=answer, round_id=round_id, updated_at=block.timestamp)
    return round_id


@view
@external
def latest_round_data() -> (uint256, int256, uint256, uint256, uint256):
    """
    @notice (round_id, answer, started_at, updated_at, answered_in_round);
            all zero before the first round.
    """
    round_id: uint256 = self.latest_round
    r: Round = self.rounds[round_id]
    return round_id, r.answer, r.updated_at, r.updated_at, round_id


@view
@external
def get_round_data(round_id: uint256) -> (uint256, int256, uint256, uint256, uint256):
    """
    @notice A past round; reverts for a round that does not exist.
    """
    assert round_id != 0 and round_id <= self.latest_round, "feed: no such round"
    r: Round = self.rounds[round_id]
    return round_id, r.answer, r.updated_at, r.updated_at, round_id
