"""One error type for every failure a user or operator can cause.

Each error carries a stable English `code` for programs and a Chinese `message` for people.
The CLI prints the message and exits non-zero; the API returns both in `extensions`.
"""

from __future__ import annotations


class RedscarfError(Exception):
    code: str = "INTERNAL_ERROR"
    message: str = "服务内部错误"
    keeps_changes: bool = False
    """True when the transaction that raised it must still commit (a failed login counts)."""

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        keeps_changes: bool | None = None,
        **details: object,
    ):
        self.message = message or type(self).message
        self.code = code or type(self).code
        if keeps_changes is not None:
            self.keeps_changes = keeps_changes
        self.details = details
        super().__init__(f"{self.code}: {self.message}")


class InvalidInput(RedscarfError):
    code = "INVALID_INPUT"
    message = "输入有误"


class NotFound(RedscarfError):
    code = "NOT_FOUND"
    message = "未找到"


class Conflict(RedscarfError):
    code = "CONFLICT"
    message = "与现有数据冲突"


class DatabaseUnavailable(RedscarfError):
    code = "DATABASE_UNAVAILABLE"
    message = "数据库无法连接，请检查 DATABASE_URL 或数据库服务是否已启动"


class Forbidden(RedscarfError):
    code = "FORBIDDEN"
    message = "没有权限执行此操作"


class Unauthenticated(RedscarfError):
    code = "UNAUTHENTICATED"
    message = "请先登录"
