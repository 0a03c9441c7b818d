"""DSI: Derivative Systemic Integrity, the protocol's Python side (lab, reference models)."""
