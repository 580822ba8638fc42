"""Tenants: the registry of counties, provisioning, request routing and tenant-bound sessions."""
