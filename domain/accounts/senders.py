"""How one-time login codes reach a guardian's phone: pluggable by `REDSCARF_LOGIN_CODE_SENDER`.

Only the development sender ships (`log`: the code goes to the service log). An SMS gateway
is a class with `send(phone, code)` registered in `SENDERS` under its own name.
"""

from __future__ import annotations

import logging
from typing import Protocol

from redscarf.errors import RedscarfError

log = logging.getLogger("redscarf.login_codes")


class CodeSender(Protocol):
    def send(self, phone: str, code: str) -> None: ...


class LogSender:
    """Development: writes the code to the log (never use where real guardians sign in)."""

    def send(self, phone: str, code: str) -> None:
        log.warning("login code for %s: %s", f"***{phone[-4:]}", code)


SENDERS: dict[str, type[CodeSender]] = {"log": LogSender}


class UnknownSender(RedscarfError):
    code = "INVALID_CONFIGURATION"
    message = "REDSCARF_LOGIN_CODE_SENDER 不是已知的短信发送方式"


def sender_for(name: str) -> CodeSender:
    try:
        return SENDERS[name]()
    except KeyError:
        raise UnknownSender(f"未知的验证码发送方式：{name}（可选：{', '.join(SENDERS)}）") from None
