# pragma version ~=0.4.3
"""
@title Stress levels from indicator readings (stateless)
@custom:contract-name stress
@license GNU Affero General Public License v3.0 only
@notice The pure part of `StressMonitor`: the level an indicator reading
        supports against its three thresholds, on the way up (enter) and on
        the way down (the thresholds relaxed by the hysteresis band), and a
        time-weighted exponential moving average. `dsi.reference.stress` is
        the Python twin.
"""

from . import constants as c

LEVELS: constant(uint256) = 3


@pure
@internal
def _level(reading: uint256, t: uint256[LEVELS], higher_worse: bool, hysteresis: uint256, entering: bool) -> uint256:
    """
    @dev The number of thresholds `reading` is at or past: for a higher-worse
         indicator reading >= t_i, for a lower-worse one reading <= t_i. On the
         way down (`entering` false) a threshold counts while the reading is
         within the hysteresis band of it (t_i x (1 - h), or t_i x (1 + h)
         for lower-worse), so a level holds until the reading is clearly
         back. A threshold of max_value (higher-worse) or 0 (lower-worse) is
         never reached. Rounding: the relaxed thresholds are rounded towards
         holding the level (the protocol's side).
    """
    n: uint256 = 0
    for i: uint256 in range(LEVELS):
        x: uint256 = t[i]
        if higher_worse:
            if x == max_value(uint256):
                continue
            if not entering:
                x = max(x * (c.WAD - hysteresis) // c.WAD, 1)  # down: easier to hold; a reading of 0 never holds
            if reading >= x:
                n = i + 1
        else:
            if x == 0:
                continue
            if not entering:
                x = (x * (c.WAD + hysteresis) + c.WAD - 1) // c.WAD  # up: easier to hold
            if reading <= x:
                n = i + 1
    return n


@pure
@internal
def _ema(ema: uint256, reading: uint256, dt: uint256, tau: uint256) -> uint256:
    """
    @dev ema + (reading - ema) x min(dt, tau) / tau: the trailing level moves
         towards the reading by the elapsed share of `tau` (all the way
         after `tau` seconds). 0 (no history) starts at the reading.
         Rounded down either way (a spike measured against a trailing level
         that lags it reads as a spike).
    """
    if ema == 0:
        return reading
    w: uint256 = min(dt, tau)
    if reading >= ema:
        return ema + (reading - ema) * w // tau
    return ema - ((ema - reading) * w + tau - 1) // tau


@pure
@internal
def _ratio_up(x: uint256, y: uint256) -> uint256:
    """
    @dev x / y in WAD, rounded up (towards stress); max_value for y = 0.
    """
    if y == 0:
        return max_value(uint256)
    return (x * c.WAD + y - 1) // y
