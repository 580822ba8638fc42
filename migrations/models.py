"""Every table the migrations must create: the models the drift test compares them with."""

from __future__ import annotations

import domain.accounts.tables
import domain.activities.tables
import domain.allow_list.tables
import domain.archive
import domain.audit.tables
import domain.badges.tables
import domain.care.tables
import domain.exchange.tables
import domain.imports.tables
import domain.ledger.tables
import domain.org.tables
import domain.pairing.tables
import domain.people.tables
import domain.people.transfers
import domain.stats.tables
import domain.tasks.tables
import tenants.origins
import tenants.registry
import tenants.steps
import workers.jobs
from tenants.metadata import shared_metadata, tenant_metadata

MODULES = (
    domain.accounts.tables,
    domain.activities.tables,
    domain.allow_list.tables,
    domain.archive,
    domain.audit.tables,
    domain.badges.tables,
    domain.care.tables,
    domain.exchange.tables,
    domain.imports.tables,
    domain.ledger.tables,
    domain.org.tables,
    domain.pairing.tables,
    domain.people.tables,
    domain.people.transfers,
    domain.stats.tables,
    domain.tasks.tables,
    tenants.origins,
    tenants.registry,
    tenants.steps,
    workers.jobs,
)

__all__ = ["MODULES", "shared_metadata", "tenant_metadata"]
