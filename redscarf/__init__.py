"""Composition root of redscarf: settings, the database server, the ASGI app and the CLI."""
