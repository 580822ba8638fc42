// Who may do what where, as the console sees it: a person's grants in the county it works in,
// and whether a role reaches a unit. These only keep the console from offering what the API
// would refuse (authz/policy.csv decides, on the server).

// Staff roles of a county: every one may read the tree and the pupils under its own unit.
export const STAFF = ["COUNTY_ADMIN", "TOWNSHIP_ADMIN", "BRIGADE_COUNSELOR", "SQUADRON_COUNSELOR", "TEAM_COUNSELOR"];

// A unit's path is inside a scope (a role's unit) when it is the scope or starts with it and a
// dot (`path` is a materialised path: everything under a unit starts with it).
export function within(path, scope) {
  return path === scope || path.startsWith(`${scope}.`);
}

// The person's grants in the county the console is working in (among `roles`, if given).
export function grantsHere(ctx, roles = null) {
  return ctx.grants.filter((g) => g.countyCode === ctx.county && (!roles || roles.includes(g.role)));
}

// Does one of `roles` reach `path` (held there or above it), or anywhere without a path?
export function may(ctx, roles, path = null) {
  return grantsHere(ctx, roles).some((g) => path === null || within(path, g.scope));
}

// Does the person hold one of `roles` in this county at all?
export function has(ctx, ...roles) {
  return roles.some((r) => ctx.roles.has(r));
}
