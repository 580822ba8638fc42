"""Alembic: one environment that migrates the shared schema and every county schema."""
