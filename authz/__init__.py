"""Authorization: one Casbin policy decides what each role may do, on one object or a list.

- `authz/model.conf` and `authz/policy.csv`: the model and the policy (versioned files,
  loaded once). A policy line says: this role may do this action on this resource, reaching
  this far from its scope (`subtree` of its unit, the whole `county`, `bound` pupils of a
  guardian, the partner's `own` objects, its `region` for onboarding, or `all`).
- `authz.principal`: who is asking (`Principal`) and its role assignments (`Grant`), turned
  into scopes inside the county a request is routed to (`scopes_in`).
- `authz.enforcer`: `allowed(...)` for one decision, `list_scope(...)` for lists; the SQL
  predicate of a list scope is `authz.sql.scope_predicate`.
"""
