# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title DSI account ledger: the margin accounts' storage and packing
@custom:contract-name account_ledger
@license GNU Affero General Public License v3.0 only
@notice The storage of the margin engine's accounts and the only code that
        reads or writes it: an account (owner, sub) in memory is
        `MarginModel.Account` (mode, USD, WETH, positions); in storage one
        header word (mode | count << 8 | USD << 16 | WETH << 136, each
        balance < 2^120, else "margin: balance out of range") and two
        positions per word (`_pack`: series id < 2^32, |amount| < 2^95,
        else "margin: position out of range"). A liquidation into a fresh
        taker account creates ceil(n / 2) slots (22,100 gas each) for n
        positions, and no length or collateral slot. At most 32 positions
        per account ("margin: too many positions"), one in an isolated
        account ("margin: isolated holds one position"). A module of
        `MarginEngine` (`initializes: ledger`), which exports `account` and
        `positions`.
"""

from . import MarginModel
# @dev The Account and Position structs shared with the model.

MODE_ISOLATED: constant(uint256) = 0
MAX_POSITIONS: constant(uint256) = 32
U120: constant(uint256) = 2 ** 120 - 1
HALF: constant(uint256) = 2 ** 128 - 1


struct Stored:
    head: uint256  # mode | count << 8 | usd (6 decimals) << 16 | weth (18 decimals) << 136
    words: uint256[MAX_POSITIONS // 2]  # position 2j in the low half of word j, 2j + 1 in the high half (`_pack`)


accounts: HashMap[address, HashMap[uint256, Stored]]


@view
@external
def account(owner: address, sub: uint256) -> (uint256, uint256, uint256, uint256):
    """
    @notice (mode, usd, weth, number of positions).
    """
    acct: MarginModel.Account = self._load(owner, sub)
    return acct.mode, acct.usd, acct.weth, len(acct.positions)


@view
@external
def positions(owner: address, sub: uint256) -> DynArray[MarginModel.Position, MAX_POSITIONS]:
    return self._load(owner, sub).positions


@internal
def _credit(owner: address, sub: uint256, usd_amount: uint256, weth_amount: uint256):
    """
    @dev Add collateral to the header alone (no position word is read).
    """
    h: uint256 = self.accounts[owner][sub].head
    self._store_head(owner, sub, h & 65535, ((h >> 16) & U120) + usd_amount, (h >> 136) + weth_amount)


@view
@internal
def _load(owner: address, sub: uint256) -> MarginModel.Account:
    """
    @dev The account in memory, positions unpacked (`_pack`).
    """
    h: uint256 = self.accounts[owner][sub].head
    n: uint256 = (h >> 8) & 255
    out: MarginModel.Account = MarginModel.Account(mode=h & 255, usd=(h >> 16) & U120, weth=h >> 136, positions=[])
    for j: uint256 in range((n + 1) // 2, bound=MAX_POSITIONS // 2):
        w: uint256 = self.accounts[owner][sub].words[j]
        out.positions.append(self._unpack(w & HALF))
        if 2 * j + 1 < n:
            out.positions.append(self._unpack(w >> 128))
    return out


@pure
@internal
def _pack(p: MarginModel.Position) -> uint256:
    """
    @dev id << 96 | amount as a 96-bit two's complement, in 128 bits (ids
         are the series registry's sequential counts; |amount| < 2^95 WAD
         units, 3.9e10 options).
    """
    assert p.id >> 32 == 0 and (p.amount >> 95 == 0 or p.amount >> 95 == -1), "margin: position out of range"
    return (p.id << 96) | (convert(convert(p.amount, bytes32), uint256) & (2 ** 96 - 1))


@pure
@internal
def _unpack(h: uint256) -> MarginModel.Position:
    # the low 96 bits, sign-extended (an arithmetic shift on int256)
    return MarginModel.Position(id=h >> 96, amount=convert(convert(h << 160, bytes32), int256) >> 160)


@internal
def _store_head(owner: address, sub: uint256, mode_count: uint256, usd_: uint256, weth_: uint256):
    assert usd_ >> 120 == 0 and weth_ >> 120 == 0, "margin: balance out of range"
    self.accounts[owner][sub].head = mode_count | usd_ << 16 | weth_ << 136


@internal
def _store(owner: address, sub: uint256, acct: MarginModel.Account):
    """
    @dev The header (mode, count, collateral) and the position words; words
         past the count keep stale values that `_load` never reads.
    """
    n: uint256 = len(acct.positions)
    self._store_head(owner, sub, acct.mode | n << 8, acct.usd, acct.weth)
    for j: uint256 in range((n + 1) // 2, bound=MAX_POSITIONS // 2):
        w: uint256 = self._pack(acct.positions[2 * j])
        if 2 * j + 1 < n:
            w = w | self._pack(acct.positions[2 * j + 1]) << 128
        self.accounts[owner][sub].words[j] = w


@pure
@internal
def _find(acct: MarginModel.Account, id: uint256) -> uint256:
    return self._find_in(acct, id, len(acct.positions))


@pure
@internal
def _find_in(acct: MarginModel.Account, id: uint256, n: uint256) -> uint256:
    """
    @dev The index of `id` among the first `n` positions, MAX_POSITIONS if
         absent.
    """
    for i: uint256 in range(n, bound=MAX_POSITIONS):
        if acct.positions[i].id == id:
            return i
    return MAX_POSITIONS


@view
@internal
def _add(acct: MarginModel.Account, id: uint256, delta: int256) -> MarginModel.Account:
    """
    @dev The account with `delta` added to its position in `id` (created
         or removed as needed, respecting the 32-position cap and the
         isolated mode's single position).
    """
    i: uint256 = self._find(acct, id)
    out: MarginModel.Account = acct
    if i == MAX_POSITIONS:
        self._room(len(acct.positions), acct.mode)
        out.positions.append(MarginModel.Position(id=id, amount=delta))
        return out
    new_amount: int256 = acct.positions[i].amount + delta
    if new_amount == 0:
        last: uint256 = len(out.positions) - 1
        out.positions[i] = out.positions[last]
        out.positions.pop()
    else:
        out.positions[i].amount = new_amount
    return out


@pure
@internal
def _room(n: uint256, mode: uint256):
    """
    @dev A new position fits beside `n`: at most 32, and none beside
         another in an isolated account.
    """
    assert n < MAX_POSITIONS, "margin: too many positions"
    assert mode != MODE_ISOLATED or n == 0, "margin: isolated holds one position"
