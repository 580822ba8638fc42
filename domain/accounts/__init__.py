"""Accounts: users, role assignments, sessions, API keys, invitations, one-time login codes."""
