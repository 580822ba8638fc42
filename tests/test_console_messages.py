"""The console has a Chinese message for every error code of the API, and only for those.

The console (`redscarf/console/static/`) shows the server's own Chinese message when an answer
carries one, and otherwise the message `messages.js` keeps for the code: an HTTP refusal from a
proxy, a network failure or an English message from graphql-core carries none, and a county
officer, a counselor or a parent on a phone must still read what went wrong in Chinese. So
`MESSAGES` has one entry for each code of `docs/api/errors.md` (the list `tests/test_api_docs.py`
keeps equal to the code), in Chinese, and the file stays plain enough to check without a
JavaScript engine: one `CODE: "message",` line per entry, balanced brackets.

No database: these tests read two files. The regex is `tests/test_api_docs.py`'s `DOCUMENTED`,
repeated rather than imported, as importing that module loads the domain and the test clients.
"""

from __future__ import annotations

import collections
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ERRORS = ROOT / "docs" / "api" / "errors.md"
MESSAGES_JS = ROOT / "redscarf" / "console" / "static" / "messages.js"

DOCUMENTED = re.compile(r"^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|", re.MULTILINE)  # as test_api_docs.py
ENTRY = re.compile(r'^\s+([A-Z][A-Z0-9_]+): "([^"\n]+)",$')
BLOCK_START = "export const MESSAGES = Object.freeze({"
BLOCK_END = "});"
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# The only Latin text a message may hold: names a user meets as they are.
ALLOWED_LATIN = ("X-County", ".xlsx", "Excel", "HTTP", "JSON", "API", "CSV", "WPS", "https", "ID")
ALLOWED = re.compile("|".join(re.escape(t) for t in sorted(ALLOWED_LATIN, key=len, reverse=True)))
LATIN = re.compile(r"[A-Za-z]+")
# What brackets inside do not count: a string, a line comment, a regular expression literal.
NOT_CODE = re.compile(
    r'"(?:[^"\\\n]|\\.)*"'
    r"|//[^\n]*"
    r"|/(?:[^/\\\n\[]|\\.|\[(?:[^\]\\\n]|\\.)*\])+/"
)


def documented_codes() -> list[str]:
    return DOCUMENTED.findall(ERRORS.read_text(encoding="utf-8"))


def source() -> str:
    return MESSAGES_JS.read_text(encoding="utf-8")


def block_lines() -> list[str]:
    """The lines between `export const MESSAGES = Object.freeze({` and its `});`."""
    lines = source().splitlines()
    assert lines.count(BLOCK_START) == 1, f"messages.js must have one line `{BLOCK_START}`"
    start = lines.index(BLOCK_START) + 1
    end = lines.index(BLOCK_END, start)
    return lines[start:end]


def entries() -> list[tuple[str, str]]:
    return [m.groups() for line in block_lines() if (m := ENTRY.match(line))]


def test_every_documented_code_has_a_message_and_no_other() -> None:
    documented = documented_codes()
    assert len(documented) == len(set(documented)), "docs/api/errors.md lists a code twice"
    keys = [code for code, _ in entries()]
    missing = [code for code in documented if code not in set(keys)]
    extra = sorted(set(keys) - set(documented))
    assert not missing, f"codes of docs/api/errors.md without a message in messages.js: {missing}"
    assert not extra, f"messages.js has codes docs/api/errors.md does not list: {extra}"
    assert keys == documented, "messages.js should list the codes in the order of errors.md"


def test_no_code_appears_twice() -> None:
    counts = collections.Counter(
        m.group(1) for line in source().splitlines() if (m := ENTRY.match(line))
    )
    twice = sorted(code for code, n in counts.items() if n > 1)
    assert not twice, f"codes with more than one entry in messages.js: {twice}"


def test_every_message_is_chinese() -> None:
    problems = {}
    for code, message in entries():
        latin = LATIN.findall(ALLOWED.sub("", message))
        if not CJK.search(message):
            problems[code] = f"no Chinese: {message!r}"
        elif latin:
            problems[code] = f"Latin letters {latin} outside {ALLOWED_LATIN}: {message!r}"
        elif "\\" in message or message != message.strip():
            problems[code] = f"an escape or surrounding space: {message!r}"
    assert not problems, problems


def test_the_file_is_plain_enough_to_read_without_a_javascript_engine() -> None:
    for number, line in enumerate(block_lines(), 1):
        stripped = line.strip()
        if stripped and not stripped.startswith("//"):
            assert ENTRY.match(line), (
                f'line {number} of MESSAGES is not `  CODE: "message",`: {line!r}'
            )
    text = source()
    assert not re.search(r"^\s*import\b", text, re.MULTILINE), "messages.js imports nothing"
    assert "export function messageFor(code, serverMessage)" in text
    # Brackets balance and nest, outside strings, regular expressions and comments.
    code = NOT_CODE.sub(" ", text)
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    for char in code:
        if char in "([{":
            stack.append(char)
        elif char in pairs:
            opened = stack.pop() if stack else None
            assert opened == pairs[char], f"unbalanced {char!r} in messages.js"
    assert not stack, f"unclosed {stack} in messages.js"
