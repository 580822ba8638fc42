"""Authorization: the Casbin model and policy, role assignments, `require` and `scope_filter`.

Issue 3 fills this package. Until then the only privileged principal is the platform
operator (a bearer token from `REDSCARF_OPERATOR_TOKEN`), who may onboard counties.
"""
