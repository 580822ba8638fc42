"""The points ledger (积分 / 道德银行): double-entry, append-only, never negative, idempotent."""
