"""The background loops everything else runs on: a step repeated until stopped (`Repeating`, the
workers), and a sender of claimed work that keeps many items under way at once (`Claiming`, the
outbox's sender)."""
