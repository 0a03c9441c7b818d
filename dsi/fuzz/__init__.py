"""Stateful invariant fuzzing of the whole protocol (hypothesis, in process)."""
