"""The console and the checkout page in a real headless Chromium (Debian's, driven by Playwright) against
the local stack as `make dev` runs it: one stack for the module, one browser for the session, a fresh
browser context (its own sessionStorage) per test.

Every test also checks, as it ends, that no page broke the Content-Security-Policy, threw, or put one of
our tokens (a JWS) in a URL it loaded. Screenshots of the main pages go to BROWSER_TEST_OUTPUT (default
.local/test-output/browser); docs/images/ keeps a few of them.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright import sync_api as playwright_sync

from bench.common import rules_letting_payments_through
from infra.local.client import request
from infra.local.launcher import LaunchedStack
from infra.local.settings import ROOT
from infra.local.tokens import issue_token
from tests.e2e.frontend import Frontend, start_stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUTPUT = Path(os.environ.get("BROWSER_TEST_OUTPUT", ROOT / ".local" / "test-output" / "browser"))
JWS = re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.")  # a compact JWS: our access and order tokens
WAIT_MS = 60_000  # a function's first call starts its worker (seconds on a busy machine)
DISPUTE_WAIT_S = 90.0


@pytest.fixture(scope="module")
def site_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LaunchedStack]:
    launched = start_stack(tmp_path_factory.mktemp("browser-stack"))
    # Many payments from one address and customer in a minute: let the checks before Stripe pass them.
    stored = Frontend(launched).admin.call("PUT", "/risk/rules", rules_letting_payments_through())
    assert stored.status == 200, stored.json
    yield launched
    leftovers = launched.stop()
    assert leftovers == [], f"make dev left processes running: {leftovers}"


@pytest.fixture(scope="module")
def frontend(site_stack: LaunchedStack) -> Frontend:
    return Frontend(site_stack)


@pytest.fixture(scope="module")
def site(site_stack: LaunchedStack) -> str:
    return site_stack.state.api_url.removesuffix("/v1")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: `make test` installs it (apt-get install -y chromium)")
    with playwright_sync.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@dataclass
class Watch:
    """What the pages of one context did that they must not: CSP violations, errors, tokens in URLs."""

    violations: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)

    def console(self, message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.violations.append(text)
        elif message.type == "error" and "Failed to load resource" not in text:
            self.errors.append(text)

    def check(self) -> None:
        assert self.violations == [], self.violations
        assert self.errors == [], self.errors
        assert [url for url in self.urls if JWS.search(url)] == []
        assert self.urls, "no page was loaded"


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def page(browser: Any, watch: Watch) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT_MS)
    context.on("request", lambda r: watch.urls.append(r.url))

    def watched(new_page: Any) -> None:
        new_page.on("console", watch.console)
        new_page.on("pageerror", lambda error: watch.errors.append(str(error)))
        new_page.on("framenavigated", lambda frame: watch.urls.append(frame.url))

    context.on("page", watched)
    opened = context.new_page()
    yield opened
    context.close()
    watch.check()


def screenshot(page: Any, name: str) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(OUTPUT / f"{name}.png"))


def sign_in_console(page: Any, site: str, route: str = "#/payments") -> None:
    page.goto(f"{site}/console/{route}")
    page.get_by_label("Admin user", exact=True).fill("backoffice")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()


def sign_in_checkout(page: Any, site: str, customer: str = "alice") -> None:
    page.goto(f"{site}/checkout/")
    page.get_by_label("Customer", exact=True).fill(customer)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Pay").wait_for()


def pay_in_checkout(page: Any, item: str, card_label: str) -> None:
    page.get_by_label(item).check()
    page.get_by_label(card_label).check()
    page.get_by_role("button", name="Pay").click()


def wait_for(check: Any, what: str, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"never: {what}")


# --------------------------------------------------------------------------- checkout


def test_a_checkout_with_3d_secure(page: Any, site: str, frontend: Frontend) -> None:
    sign_in_checkout(page, site)
    pay_in_checkout(page, "Cast-iron teapot", "Visa •••• 3184 asks for 3-D Secure")
    challenge = page.get_by_role("link", name="Confirm with your bank (3-D Secure)")
    screenshot(page, "checkout-3ds")
    with page.expect_popup() as opened:
        challenge.click()
    bank = opened.value
    bank.get_by_role("link", name="Complete authentication").click()
    bank.wait_for_load_state()

    result = page.locator("#result")
    result.wait_for()
    assert result.text_content() == "Paid 89.00 USD. Thank you!"
    history = page.get_by_role("region", name="History").locator("li")
    history.filter(has_text="PaymentProcessed").wait_for()
    events = history.all_text_contents()
    assert any("PaymentRequiresAction" in e for e in events), events
    screenshot(page, "checkout-paid")
    paid = frontend.alice.get("/payments?status=succeeded&limit=100").json["data"]
    assert any(p["amount"] == 8900 and p["description"] == "Cast-iron teapot" for p in paid)


def test_a_decline_is_shown_to_the_customer(page: Any, site: str) -> None:
    sign_in_checkout(page, site)
    pay_in_checkout(page, "Coffee beans, 1 kg", "Visa •••• 0002 declined")

    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "declined" in alert.text_content().lower()
    assert "HTTP 402" in alert.text_content()
    assert page.get_by_role("button", name="Pay").is_enabled()  # another card may be tried
    screenshot(page, "checkout-declined")


def test_a_saved_card_is_offered_and_reused(page: Any, site: str) -> None:
    sign_in_checkout(page, site, customer="carol")
    page.get_by_label("Mastercard •••• 4444 succeeds").check()
    page.get_by_label("Save this card for my next purchase").check()
    page.get_by_label("Monthly tasting box").check()
    page.get_by_role("button", name="Pay").click()
    page.locator("#result").wait_for()

    page.reload()
    page.get_by_label("Saved: mastercard •••• 4444 saved before").check()
    page.get_by_label("Monthly tasting box").check()
    page.get_by_role("button", name="Pay").click()

    page.locator("#result").wait_for()
    assert page.locator("#result").text_content() == "Paid 15.00 USD. Thank you!"


# --------------------------------------------------------------------------- console


def test_an_admin_refunds_part_of_a_payment_with_the_keyboard_only(
    page: Any, site: str, frontend: Frontend
) -> None:
    payment = frontend.pay("pm_card_visa", 4200, description="Refund me in part").json
    sign_in_console(page, site, f"#/payments/{payment['id']}")
    page.get_by_role("heading", name=f"Payment {payment['id']}").wait_for()
    assert_every_control_is_labelled(page)

    page.locator("#main").focus()
    amount = tab_to(page, "input", "refund_amount")
    page.keyboard.type("12.50")
    tab_to(page, "button", "Refund")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Refund this payment?")
    dialog.wait_for()
    assert "Refund 12.50 USD" in dialog.text_content()
    page.keyboard.press("Tab")  # from Cancel (focused first) to the confirmation
    page.keyboard.press("Enter")

    page.get_by_role("status").filter(has_text="Refund of 12.50 USD requested.").wait_for()
    assert amount is not None
    wait_for(
        lambda: frontend.admin.get(f"/payments/{payment['id']}").json["amount_refunded"] == 1250,
        "the refund on the payment",
    )
    page.reload()  # the refund's record may follow the answer by a moment (its webhook)
    refunds = page.get_by_role("table", name="Refunds")
    refunds.get_by_text("12.50 USD").wait_for()
    assert "partially_refunded" in page.get_by_role("region", name="Payment").text_content()
    risk = page.get_by_role("region", name="Risk decision")
    assert risk.locator("dt").first.text_content() == "Decision"
    assert risk.locator("dd").first.text_content() == "allow"
    assert "Radar" in risk.text_content()  # the emulator's outcome for the card, in its own list
    screenshot(page, "console-payment")


def test_an_api_problem_is_shown_from_its_details(page: Any, site: str, frontend: Frontend) -> None:
    payment = frontend.pay("pm_card_visa", 1000).json
    sign_in_console(page, site, f"#/payments/{payment['id']}")
    page.get_by_label(re.compile("Refund amount")).fill("20.00")  # more than was paid
    page.get_by_role("button", name="Refund", exact=True).click()
    page.get_by_role("dialog").get_by_role("button", name="Refund").click()

    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "HTTP 4" in alert.text_content()
    assert "code " in alert.text_content()


def disputed(frontend: Frontend) -> dict[str, Any]:
    """A payment its cardholder disputes at once; its dispute once the admins' list has it."""
    payment = frontend.pay("pm_card_createDispute").json

    def listed() -> dict[str, Any] | None:
        page = frontend.admin.get("/disputes?status=needs_response&limit=100").json["data"]
        return next((d for d in page if d["payment_id"] == payment["id"]), None)

    found: dict[str, Any] = wait_for(listed, "the dispute in the admins' list", DISPUTE_WAIT_S)
    return found


def test_an_admin_answers_a_dispute(page: Any, site: str, frontend: Frontend) -> None:
    dispute = disputed(frontend)
    sign_in_console(page, site, "#/disputes")
    page.get_by_role("link", name=dispute["id"]).click()
    page.get_by_label("Product description").fill("A 1 kg bag of coffee beans, delivered")
    page.get_by_label("Customer name").fill("Alice <b>Example</b>")
    page.get_by_role("button", name="Save evidence (not submitted)").click()
    page.get_by_role("status").filter(has_text="Evidence saved at Stripe, not submitted.").wait_for()
    screenshot(page, "console-dispute")

    page.get_by_role("button", name="Submit evidence").click()
    page.get_by_role("dialog").get_by_role("button", name="Submit evidence").click()

    page.get_by_role("status").filter(has_text="Evidence submitted.").wait_for()
    detail = frontend.admin.get(f"/disputes/{dispute['id']}").json
    assert detail["evidence_submitted"] is True
    assert detail["evidence"]["customer_name"] == "Alice <b>Example</b>"


def test_an_admin_accepts_a_dispute(page: Any, site: str, frontend: Frontend) -> None:
    dispute = disputed(frontend)
    sign_in_console(page, site, f"#/disputes/{dispute['id']}")
    page.get_by_role("button", name="Accept the dispute").click()
    page.get_by_role("dialog").get_by_role("button", name="Accept the dispute").click()

    page.get_by_role("status").filter(has_text="Dispute accepted (lost).").wait_for()
    assert "This dispute takes no more evidence." in page.locator("main").text_content()
    wait_for(
        lambda: frontend.admin.get(f"/disputes/{dispute['id']}").json["status"] == "lost",
        "the dispute lost",
    )


def test_the_trial_balance_page_shows_zero(page: Any, site: str, frontend: Frontend) -> None:
    paid_on = datetime.now(UTC).date()
    frontend.pay("pm_card_visa", 3100)
    # The day it was paid and the next: booked just before midnight UTC is still found after it.
    period = f"currency=usd&from={paid_on}&to={paid_on + timedelta(days=1)}"
    wait_for(
        lambda: any(
            a["account"] == "sales" and a["balance"] != 0
            for a in frontend.admin.get(f"/ledger/balances?{period}").json["accounts"]
        ),
        "a sale in the books",
    )
    sign_in_console(page, site, "#/ledger")

    trial = page.locator("#trial-balance")
    trial.wait_for()
    assert trial.text_content() == "0.00 USD (balanced)"
    assert "sales" in page.get_by_role("table", name=re.compile("Balances")).text_content()
    screenshot(page, "console-ledger")


def usd(minor: int) -> str:
    """As the console shows an amount: the major unit, two decimals, the code."""
    return f"{'-' if minor < 0 else ''}{abs(minor) // 100}.{abs(minor) % 100:02d} USD"


def booked_days(frontend: Frontend, payment_ids: set[str], first: date, last: date) -> set[str]:
    """The UTC days the journal booked the payments' sales on (every page of the period), once all are."""
    booked: dict[str, str] = {}
    cursor = None
    while True:
        query = f"currency=usd&from={first}&to={last}&limit=100" + (f"&cursor={cursor}" if cursor else "")
        page = frontend.admin.get(f"/ledger/entries?{query}").json
        for entry in page["data"]:
            if entry["payment_id"] in payment_ids and any(
                line["account"] == "sales" for line in entry["lines"]
            ):
                booked[entry["payment_id"]] = entry["occurred_at"][:10]
        cursor = page["next_cursor"]
        if not cursor:
            return set(booked.values()) if booked.keys() == payment_ids else set()


def test_balances_over_time_are_drawn_and_tabled(page: Any, site: str, frontend: Frontend) -> None:
    paid = {frontend.pay("pm_card_visa", amount).json["id"] for amount in (4200, 1750)}
    paid_on = datetime.now(UTC).date()
    # Booked on the day paid or, just before midnight UTC, the next: the chart ends on the last one.
    days = wait_for(lambda: booked_days(frontend, paid, paid_on, paid_on + timedelta(days=1)), "the books")
    last = date.fromisoformat(max(days))
    first = last - timedelta(days=2)
    sign_in_console(page, site, "#/ledger")
    page.get_by_label("From (UTC day)").fill(first.isoformat())
    page.get_by_label("To (UTC day)").fill(last.isoformat())
    period = f"/ledger/balances?currency=usd&from={first}&to={last}"

    def drawn_as_the_books_stand() -> list[str] | None:
        before = frontend.admin.get(period).json["accounts"]
        page.get_by_role("button", name=re.compile("Balances over time")).click()
        table = page.get_by_role("table", name=re.compile("Closing balances per day"))
        table.wait_for()
        headings: list[str] = table.locator("thead th").all_text_contents()
        closing = table.locator("tbody tr").last.locator("td").all_text_contents()
        after = frontend.admin.get(period).json["accounts"]
        # Bookings of earlier tests may still land: compare with books that stood still meanwhile.
        if before != after:
            return None
        books = {a["account"]: a["balance"] for a in after}
        assert closing == [last.isoformat(), *(usd(books[account]) for account in headings[1:])]
        assert {account for account, balance in books.items() if balance} <= set(headings[1:])
        return headings

    accounts = wait_for(drawn_as_the_books_stand, "books standing still")[1:]
    assert {"sales", "stripe_balance"} <= set(accounts)
    rows = page.get_by_role("table", name=re.compile("Closing balances")).locator("tbody tr")
    assert [rows.nth(i).locator("td").first.text_content() for i in range(rows.count())] == [
        (first + timedelta(days=n)).isoformat() for n in range(3)
    ]
    chart = page.locator("#over-time svg[role=img]")
    lines = chart.locator("polyline.series")
    assert [lines.nth(i).get_attribute("data-series") for i in range(lines.count())] == accounts
    for i in range(lines.count()):
        assert len(lines.nth(i).get_attribute("points").split()) == 3
    assert chart.locator("title").first.text_content() == "Closing balances per day, USD"
    assert page.locator("[style]").count() == 0
    screenshot(page, "console-ledger-over-time")


RUNNING_SUMS = """async () => {
  const { closings } = await import("./views/ledger.js");
  const day = (sales, fees) => ({ accounts: [
    { account: "stripe_balance", balance: -sales - fees }, { account: "sales", balance: sales },
    { account: "stripe_fees", balance: fees }, { account: "bank", balance: 0 }] });
  const found = closings(["d1", "d2", "d3"], [day(-1000, 59), day(0, 0), day(-2550, 104)]);
  let beyond = null;
  const huge = day(-(2 ** 52), 0);
  try { closings(["d1", "d2"], [huge, huge]); } catch (error) { beyond = error.message; }
  return { accounts: found.accounts, beyond,
           rows: found.rows.map((row) => [row.day, ...found.accounts.map((a) => row.closing.get(a))]) };
}"""


def test_balances_over_time_add_the_days_up_and_refuse_more_than_a_month(page: Any, site: str) -> None:
    sign_in_console(page, site, "#/ledger")
    # The days the stack can book on are today's only: the running sums are checked on answers made up here.
    summed = page.evaluate(RUNNING_SUMS)
    assert summed["accounts"] == ["stripe_balance", "sales", "stripe_fees"]
    assert summed["rows"] == [["d1", 941, -1000, 59], ["d2", 941, -1000, 59], ["d3", 3387, -3550, 163]]
    assert "beyond exact integers" in summed["beyond"]
    page.get_by_label("From (UTC day)").fill("2026-01-01")
    page.get_by_label("To (UTC day)").fill("2026-02-01")
    page.get_by_role("button", name=re.compile("Balances over time")).click()
    alert = page.locator("#over-time, [role=alert]").filter(has_text="at most 31 days")
    alert.wait_for()
    assert page.locator("#over-time svg").count() == 0


def test_a_description_with_a_script_is_shown_as_text(page: Any, site: str, frontend: Frontend) -> None:
    hostile = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
    payment = frontend.pay("pm_card_visa", 1200, description=hostile).json
    sign_in_console(page, site, f"#/payments/{payment['id']}")
    page.get_by_role("heading", name=f"Payment {payment['id']}").wait_for()

    assert page.get_by_text(hostile, exact=True).count() == 1
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("main img, main script").count() == 0


def test_held_payments_reconciliation_and_the_dlq_page(page: Any, site: str) -> None:
    sign_in_console(page, site, "#/reviews")
    page.get_by_role("table", name=re.compile("Payments held")).wait_for()
    page.get_by_role("link", name="Reconciliation").click()
    page.get_by_role("button", name="Run reconciliation").click()
    page.get_by_role("heading", name=re.compile(r"^Run rec_")).wait_for()
    assert "Differences (" in page.get_by_role("table").text_content()
    page.get_by_role("link", name="Dead-letter queues").click()

    note = page.get_by_role("note")
    assert "Queue depth is not available in the console." in note.text_content()
    assert "dlq redrive" in page.locator("main").text_content()


def test_the_cognito_sign_in_uses_pkce_and_leaves_no_code_in_the_address(
    page: Any, site: str, site_stack: LaunchedStack
) -> None:
    """The hosted UI's two endpoints stand in on the page's own origin (the local CSP allows no other)."""
    auth = {
        "kind": "cognito",
        "domain": site,
        "client_id": "console-client",
        "redirect_uri": f"{site}/console/",
        "scopes": ["openid", "aws.cognito.signin.user.admin"],
    }
    config = {"api_base": f"{site}/v1", "auth": auth}
    asked: dict[str, dict[str, str]] = {}

    def authorize(route: Any) -> None:
        query = dict(parse_qsl(urlsplit(route.request.url).query))
        asked["authorize"] = query
        back = f"{auth['redirect_uri']}?code=the-code&state={query['state']}"
        route.fulfill(status=302, headers={"Location": back})

    def token(route: Any) -> None:
        asked["token"] = dict(parse_qsl(route.request.post_data))
        access = issue_token(site_stack.state.jwt_secret, "backoffice", admin=True)
        route.fulfill(json={"access_token": access, "token_type": "Bearer", "expires_in": 3600})

    page.route(f"{site}/console/config.json", lambda route: route.fulfill(json=config))
    page.route(f"{site}/oauth2/authorize?*", authorize)
    page.route(f"{site}/oauth2/token", token)
    page.goto(f"{site}/console/")
    sign_in = page.get_by_role("button", name="Sign in")
    sign_in.wait_for()
    assert not page.get_by_role("navigation", name="Sections").is_visible()  # nothing before sign-in
    sign_in.click()

    page.get_by_role("button", name="Sign out").wait_for()
    assert page.evaluate("() => location.href") == f"{site}/console/"  # no code or state left in it
    sent, exchanged = asked["authorize"], asked["token"]
    assert sent["code_challenge_method"] == "S256"
    assert (sent["response_type"], sent["client_id"]) == ("code", "console-client")
    assert sent["scope"] == "openid aws.cognito.signin.user.admin"
    verifier = exchanged["code_verifier"]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert sent["code_challenge"] == challenge.decode()
    assert exchanged["grant_type"] == "authorization_code"
    assert (exchanged["code"], exchanged["redirect_uri"]) == ("the-code", auth["redirect_uri"])
    assert page.evaluate("() => sessionStorage.getItem('payments.pkce_verifier')") is None


# --------------------------------------------------------------------------- the site's headers


def test_the_pages_run_under_the_content_security_policy(page: Any, site: str, watch: Watch) -> None:
    for path in (
        "/console/",
        "/console/app.js",
        "/console/config.json",
        "/checkout/",
        "/checkout/checkout.js",
    ):
        answer = request("GET", site + path)
        assert answer.status == 200, path
        policy = answer.header("Content-Security-Policy") or ""
        assert "script-src 'self'" in policy, (path, policy)
        assert "default-src 'none'" in policy, (path, policy)
        assert answer.header("X-Content-Type-Options") == "nosniff"
    config = request("GET", f"{site}/console/config.json").json
    assert config == {"api_base": f"{site}/v1", "auth": {"kind": "local"}}

    sign_in_console(page, site, "#/risk")
    page.get_by_role("heading", name="Blocklist", exact=True).wait_for()
    page.get_by_label("Kind").select_option("customer")
    page.get_by_label("Value").fill("mallory")
    page.get_by_label("Reason", exact=True).fill("chargebacks")
    page.get_by_role("button", name="Add to blocklist").click()
    remove = page.get_by_role("button", name="Remove customer mallory")
    remove.click()
    page.get_by_role("dialog").get_by_role("button", name="Remove").click()
    remove.wait_for(state="detached")
    screenshot(page, "console-risk")
    blocked = page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.__inline = 1";
            document.head.append(script);
            return window.__inline === undefined;
        }"""
    )

    assert blocked
    assert len(watch.violations) == 1
    assert "inline" in watch.violations[0]
    watch.violations.clear()  # the one this test caused on purpose


def tab_to(page: Any, tag: str, name: str, presses: int = 80) -> Any:
    """Press Tab until the focus is on the control named `name` (a name attribute, or a button's text)."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement;"
            " return [e.tagName.toLowerCase(), e.getAttribute('name') || e.textContent.trim()]; }"
        )
        if focused == [tag, name]:
            return focused
    raise AssertionError(f"{tag} {name!r} cannot be reached with Tab")


def assert_every_control_is_labelled(page: Any) -> None:
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll("input, select, textarea, button")]
            .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute("aria-label")
                && !(e.tagName === "BUTTON" && e.textContent.trim()))
            .map((e) => e.outerHTML)"""
    )
    assert unlabelled == []


def test_an_admin_finds_a_paid_payment_by_its_order(page: Any, site: str, frontend: Frontend) -> None:
    paid = frontend.pay("pm_card_visa", 1800).json
    other = frontend.pay("pm_card_visa", 1900).json
    assert paid["status"] == other["status"] == "succeeded"
    sign_in_console(page, site, "#/payments")
    page.get_by_role("table", name=re.compile(r"^Payments \(")).wait_for()  # the first listing, by status

    page.get_by_label(re.compile("^Order id")).fill(paid["order_id"])
    page.get_by_role("button", name="Find payments").click()

    found = page.get_by_role("table", name=f"Payment of order {paid['order_id']} (1)")
    found.wait_for()
    assert found.get_by_role("link").all_text_contents() == [paid["id"]]
    assert "succeeded" in found.text_content()
    assert other["id"] not in found.text_content()
