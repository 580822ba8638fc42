"""End-to-end tests of the console in a real headless Chromium (Debian's `chromium`, driven by
Playwright) against a real `redscarf serve --demo`: the README's run command, on a database of
its own, with the demo province it builds.

All these tests share one server and one browser, so they run on one xdist worker (the
`console` group; `scripts/test` distributes by group). Each test gets a fresh browser context:
nobody is signed in, nothing is remembered between tests.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from domain.demo.accounts import PASSWORD
from tests.conftest import _drop_database, _prepare_database
from tests.test_cli import REDSCARF
from tests.test_serve import TOKEN_AFTER, _free_port, wait_until_ready

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync",
                  "--disable-dev-shm-usage"]  # fmt: skip
COUNTY_LINE = re.compile(r"X-County: (\d{6})\s+(\S+)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.xdist_group("console"))
            item.add_marker(pytest.mark.slow)


def chromium_path() -> str:
    found = os.environ.get("REDSCARF_CHROMIUM") or next(
        (p for name in CHROMIUM_NAMES if (p := shutil.which(name))), None
    )
    if not found:
        pytest.fail(
            "the console's end-to-end tests need Chromium: `apt-get install chromium` "
            "(or set REDSCARF_CHROMIUM to a Chromium or Chrome binary)"
        )
    return found


@dataclass
class ConsoleServer:
    """The running service, what its start printed, and the one-time codes it logged."""

    base: str
    log: Path
    tokens: dict[str, str]
    counties: dict[str, str]  # code → name, as printed
    secrets: dict[str, str] = field(default_factory=dict)  # username → TOTP secret
    last_step: dict[str, int] = field(default_factory=dict)

    def url(self, path: str = "") -> str:
        return f"{self.base}/console/#/{path}"

    @property
    def rural(self) -> str:
        """The demo's rural county (惠水县, 522731), the one with the most pupils."""
        return next(code for code, name in self.counties.items() if name == "惠水县")

    @property
    def urban(self) -> str:
        """The demo's urban county (南明区)."""
        return next(code for code in self.counties if code != self.rural)

    def login_code(self, phone: str, after: int = 0) -> str:
        """The last login code the service sent to `phone` (its log is the demo's SMS)."""
        pattern = re.compile(rf"login code for \*\*\*{phone[-4:]}: (\d{{6}})")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            codes = pattern.findall(self.log.read_text()[after:])
            if codes:
                return codes[-1]
            time.sleep(0.2)
        raise AssertionError(f"no login code was logged for {phone}")

    def totp(self, username: str) -> str:
        """A current one-time password of the account, never the same step twice (a used
        code is refused)."""
        otp = pyotp.TOTP(self.secrets[username])
        step = int(time.time()) // 30
        if self.last_step.get(username) == step:
            time.sleep(30 - time.time() % 30 + 0.2)
            step = int(time.time()) // 30
        self.last_step[username] = step
        return otp.now()

    def api(self, query: str, variables: dict | None = None, *, token: str,
            county: str | None = None) -> dict:  # fmt: skip
        """Setup through the API itself, as another frontend would (never the database)."""
        headers = {"Authorization": f"Bearer {token}"}
        if county:
            headers["X-County"] = county
        body = httpx.post(f"{self.base}/graphql", json={"query": query, "variables": variables or {}},
                          headers=headers, timeout=60).json()  # fmt: skip
        assert not body.get("errors"), body
        return body["data"]


@pytest.fixture(scope="session")
def console_server(
    server_url: str,
    worker_id: str,
    db_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ConsoleServer]:
    name = f"{os.environ.get('REDSCARF_TEST_DB_PREFIX', 'rs_test')}_{worker_id}console"
    url = _prepare_database(server_url, name)
    data_dir = tmp_path_factory.mktemp("console")
    port = _free_port()
    env = {**db_env, "DATABASE_URL": url.set(drivername="postgresql").render_as_string(
        hide_password=False), "REDSCARF_DATA_DIR": str(data_dir), "COLUMNS": "80",
        "NO_COLOR": "1",
        # Statistics summarised within seconds of a change, not a minute: a page shows them
        "REDSCARF_JOB_SUMMARY_INTERVAL": "2"}  # fmt: skip
    log = data_dir / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen([REDSCARF, "serve", "--demo", "--port", str(port)],
                                  env=env, stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(server, base, log, 300)
        printed = log.read_text()
        yield ConsoleServer(base, log, dict(TOKEN_AFTER.findall(printed)),
                            dict(COUNTY_LINE.findall(printed)))  # fmt: skip
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
        with psycopg.connect(server_url, autocommit=True) as conn:
            _drop_database(conn, name)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    # Package scope, not session: Playwright's sync API keeps an event loop running on this
    # thread while it is open, and the async tests the same worker runs afterwards need it
    # closed (pytest-asyncio: "Runner.run() cannot be called from a running event loop").
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


def _fresh_page(browser: Browser, **options: object) -> Iterator[Page]:
    """A page in a browser context of its own; the test fails if the console threw in it."""
    context = browser.new_context(locale="zh-CN", **options)  # type: ignore[arg-type]
    context.set_default_timeout(20_000)
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    yield p
    context.close()
    assert not errors, f"the console threw in the browser: {errors}"


@pytest.fixture
def page(browser: Browser, console_server: ConsoleServer) -> Iterator[Page]:
    yield from _fresh_page(browser, viewport={"width": 1280, "height": 860}, accept_downloads=True)


@pytest.fixture
def phone_page(browser: Browser, console_server: ConsoleServer) -> Iterator[Page]:
    """A guardian's phone: a small touch screen."""
    yield from _fresh_page(browser, viewport={"width": 390, "height": 844},
                           device_scale_factor=2, is_mobile=True, has_touch=True)  # fmt: skip


def sign_in_staff(page: Page, server: ConsoleServer, username: str,
                  password: str = PASSWORD) -> None:  # fmt: skip
    """Sign in through the login page: password, then the one-time password (set up the
    first time, its secret read off the page as a person would type it into an app)."""
    page.goto(server.url("login"))
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    code_box = page.get_by_label("动态口令")
    signed_in = page.locator("[data-action=sign-out]")
    expect(code_box.or_(signed_in)).to_be_visible()
    if code_box.is_visible():
        secret = page.locator(".secret")
        if secret.count():
            server.secrets[username] = secret.get_attribute("data-secret") or ""
        code_box.fill(server.totp(username))
        page.get_by_role("button", name="验证并登录").click()
    expect(signed_in).to_be_visible()


SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"


def screenshot(page: Page, name: str) -> None:
    """Keep a picture of a main page for docs/console/ (see docs/console.md), when asked to:
    `REDSCARF_SCREENSHOTS=1 ./scripts/test tests/console`."""
    if os.environ.get("REDSCARF_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.wait_for_timeout(300)
        page.evaluate("document.getElementById('toasts')?.remove()")  # passing messages
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def signed_in(page: Page, server: ConsoleServer, username: str, path: str = "") -> None:
    """Open the console as a demo account already signed in, with the token `serve --demo`
    printed for it (the login page itself is tested in test_shell.py; signing in through it
    in every test would wait for a fresh one-time password each time)."""
    token = server.tokens[username]
    page.goto(server.url("login"))
    page.evaluate(
        """token => sessionStorage.setItem("redscarf.session", JSON.stringify(
            {accessToken: token, refreshToken: null, expiresAt: Date.now() + 3600e3, county: null}))""",
        token,
    )
    page.goto(server.url(path))
    expect(
        page.locator("[data-action=sign-out]").or_(page.locator("main#page.mobile"))
    ).to_be_visible()
