"""The console's frame: signing in and out, the menu a role is given, an ended session."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .conftest import ConsoleServer, sign_in_staff


def test_a_county_admin_signs_in_with_a_second_factor_and_out_again(
    page: Page, console_server: ConsoleServer
) -> None:
    county = console_server.rural
    sign_in_staff(page, console_server, f"demo-admin-{county}")
    expect(page.locator("header.top .who")).to_contain_text("县级管理员")

    page.locator("[data-action=sign-out]").click()
    expect(page.get_by_role("button", name="登录")).to_be_visible()
    # The session is over on the server too: the address of a page leads back to the login
    page.goto(console_server.url("county/roster"))
    expect(page.get_by_label("用户名")).to_be_visible()


def test_a_wrong_password_is_refused_in_chinese(page: Page, console_server: ConsoleServer) -> None:
    page.goto(console_server.url("login"))
    page.get_by_label("用户名").fill("demo-province")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    refusal = page.locator("form:visible p.error")
    expect(refusal).to_have_attribute("data-code", "INVALID_CREDENTIALS")
    expect(refusal).to_contain_text("用户名或密码")


def _stored_session(page: Page) -> dict:
    return page.evaluate("JSON.parse(sessionStorage.getItem('redscarf.session'))")


def test_an_access_token_about_to_expire_is_refreshed_without_a_word(
    page: Page, console_server: ConsoleServer
) -> None:
    counselor = f"demo-counselor-{console_server.rural}"
    sign_in_staff(page, console_server, counselor)  # a counselor: no second factor
    expect(page.locator(".roster .summary")).to_be_visible()  # the roster, loaded: at rest
    first = _stored_session(page)
    # When the access token is a moment from its end (as after 15 minutes at work)
    page.evaluate("""() => { const s = JSON.parse(sessionStorage.getItem('redscarf.session'));
        s.expiresAt = Date.now(); sessionStorage.setItem('redscarf.session', JSON.stringify(s)); }""")
    page.locator("nav.side").get_by_role("link", name="组织架构").click()
    expect(page.locator("main#page .tree")).to_be_visible()
    # Then the console used the refresh token: new tokens, the page shown, nobody asked anything
    second = _stored_session(page)
    assert second["refreshToken"] != first["refreshToken"]  # rotated: the old one is spent
    assert second["expiresAt"] > page.evaluate("Date.now()") + 10 * 60_000
    expect(page.locator("[data-action=sign-out]")).to_be_visible()
    expect(page.locator("main#page p.error")).to_have_count(0)


def test_a_session_ended_elsewhere_sends_the_console_back_to_the_login(
    page: Page, console_server: ConsoleServer
) -> None:
    counselor = f"demo-counselor-{console_server.rural}"
    sign_in_staff(page, console_server, counselor)
    expect(page.locator(".roster .summary")).to_be_visible()  # the roster, loaded: at rest
    # The same session signs out in another tab (or the server ended it: idle, revoked)
    page.evaluate("""async () => {
        const s = JSON.parse(sessionStorage.getItem('redscarf.session'));
        await fetch('/graphql', {method: 'POST', headers: {'Content-Type': 'application/json',
            Authorization: 'Bearer ' + s.accessToken}, body: JSON.stringify({query: 'mutation { signOut { ok } }'})});
    }""")
    # When the counselor goes on working, the console says the session is over, in Chinese
    page.locator("nav.side").get_by_role("link", name="组织架构").click()
    expect(page.locator(".toast.error")).to_contain_text("登录已过期，请重新登录")
    expect(page.get_by_label("用户名")).to_be_visible()
    assert _stored_session(page) is None
