"""The audit log: every mutation and every read of unmasked personal data, append-only."""
