"""The domain: tables and rules, one package per part of DESIGN.md. No GraphQL, no HTTP."""
