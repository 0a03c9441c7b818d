"""Named stress scenarios with explicit pass criteria (the lab's catalog; growing)."""
