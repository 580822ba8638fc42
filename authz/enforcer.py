"""Decisions from the one policy: `allowed` for one object, `list_scope` for a list.

The Casbin enforcer is built once per process from `model.conf` and `policy.csv`. It is a
`FastEnforcer` indexed by (role, resource), so a decision looks at the few lines of that
role and resource, not the whole policy; decisions are pure functions of their arguments and
are memoised, so a request pays microseconds for them and never waits on I/O.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import casbin

from authz.principal import Scope
from authz.roles import Role

HERE = Path(__file__).resolve().parent
MODEL = HERE / "model.conf"
POLICY = HERE / "policy.csv"


class Reach:
    SUBTREE = "subtree"
    COUNTY = "county"
    REGION = "region"
    BOUND = "bound"
    OWN = "own"
    ALL = "all"


def within(path: str, scope: str) -> bool:
    """`path` is the unit `scope` or under it (ltree's `<@`, on text)."""
    return path == scope or path.startswith(scope + ".")


def reaches(reach: str, scope: str, target: str, rels: str) -> bool:
    """The `reaches(...)` of the model's matcher."""
    if reach in (Reach.ALL, Reach.COUNTY):
        # COUNTY: the request is already routed to a county the role reaches.
        return True
    if reach == Reach.SUBTREE:
        return bool(target) and within(target, scope)
    if reach == Reach.REGION:
        return bool(target) and target.startswith(scope)
    if reach in (Reach.BOUND, Reach.OWN):
        return reach in rels.split(",")
    return False


@dataclass(frozen=True)
class ListScope:
    """What of a list a principal may see: everything, some subtrees, bound or own objects."""

    everything: bool = False
    paths: tuple[str, ...] = ()
    bound: bool = False
    own: bool = False

    @property
    def nothing(self) -> bool:
        return not (self.everything or self.paths or self.bound or self.own)


NOTHING = ListScope()


class Authorizer:
    def __init__(self, model: Path = MODEL, policy: Path = POLICY) -> None:
        self._enforcer = casbin.FastEnforcer(str(model), str(policy), cache_key_order=[0, 1])
        self._enforcer.add_function("reaches", reaches)
        self._decide = lru_cache(maxsize=65_536)(self._enforce)
        # Casbin compiles its matcher with `ast.parse` on every decision it computes, and
        # CPython 3.11 can fail ("AST constructor recursion depth mismatch", cpython#106905)
        # when two threads parse at once, as the event loop and a worker thread do here (found
        # by CI). Decisions are cached, so serialising the uncached ones costs little.
        self._casbin_lock = threading.Lock()

    def _enforce(self, role: str, res: str, act: str, scope: str, target: str, rels: str) -> bool:
        with self._casbin_lock:
            return bool(self._enforcer.enforce(role, res, act, scope, target, rels))

    def allowed(
        self, scopes: Iterable[Scope], res: str, act: str, target: str = "", rels: str = ""
    ) -> bool:
        """May any of these scopes do `act` on the `res` at `target` (with relations `rels`)?"""
        return any(self._decide(s.role.value, res, act, s.path, target, rels) for s in scopes)

    def reach(self, role: Role, res: str, act: str) -> frozenset[str]:
        """The reaches the policy gives `role` for `act` on `res` (read from the same lines)."""
        return self._reach(role.value, res, act)

    @cache  # noqa: B019 - one Authorizer per process, never collected
    def _reach(self, role: str, res: str, act: str) -> frozenset[str]:
        lines = self._enforcer.get_filtered_policy(0, role, res, act)
        return frozenset(line[3] for line in lines)

    def list_scope(self, scopes: Iterable[Scope], res: str, act: str) -> ListScope:
        """The part of a list of `res` these scopes may `act` on (a list's WHERE clause)."""
        everything = bound = own = False
        paths: set[str] = set()
        for scope in scopes:
            for reach in self.reach(scope.role, res, act):
                if reach in (Reach.ALL, Reach.COUNTY, Reach.REGION):
                    everything = True
                elif reach == Reach.SUBTREE:
                    paths.add(scope.path)
                elif reach == Reach.BOUND:
                    bound = True
                elif reach == Reach.OWN:
                    own = True
        if everything:
            return ListScope(everything=True)
        # A subtree inside another adds nothing to the predicate.
        roots = tuple(sorted(p for p in paths if not any(q != p and within(p, q) for q in paths)))
        return ListScope(paths=roots, bound=bound, own=own)

    def resources(self) -> set[tuple[str, str]]:
        """Every (resource, action) the policy names (for the authorization table test)."""
        return {(line[1], line[2]) for line in self._enforcer.get_policy()}


@cache
def authorizer() -> Authorizer:
    """The process's one Authorizer (the policy files are read once)."""
    return Authorizer()
