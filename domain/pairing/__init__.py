"""Pairing across counties (结对共建): pairings, their events, and each side's partner view."""
