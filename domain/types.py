"""Column types PostgreSQL has and SQLAlchemy does not ship."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.types import UserDefinedType


class LTree(UserDefinedType[str]):
    """PostgreSQL `ltree`: a materialised path such as `c.t12.b345.s6789`."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "public.ltree"

    def bind_processor(self, dialect: Any) -> None:
        return None

    def result_processor(self, dialect: Any, coltype: Any) -> None:
        return None


# Let reflection (Alembic's drift check, inspectors) recognise the type too.
ischema_names["ltree"] = LTree
