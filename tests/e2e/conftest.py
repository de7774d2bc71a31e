"""Real-browser journeys: Playwright for Python driving Debian's Chromium against live_server.

(a) staff: log in, enter a residential area, import its households from an XLSX workbook,
    register them, enter evidence (test_staff_journeys.py);
(b) official: review, override a criterion with a reason, approve the batch, issue a decision,
    print a certificate (test_review_journey.py);
(c) viewer: city dashboard → ward → residential area → its households → one household
    (test_dashboard_journey.py);
(d) every journey starts in a browser that asks for English, switches to Vietnamese with the
    header's switch and reads every page it loads for untranslated English (`vietnamese`).

`make test` runs them when Chromium is installed and skips them otherwise; REQUIRE_BROWSER=1
(.ci/run sets it) turns a missing Chromium into a failure. A failing test leaves a full-page
screenshot of each page still open in tests/e2e/artifacts/<test id>.png (ignored by git).
"""

import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from tests.e2e.language import READ_PAGE_JS, find_english

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
PHONE = {"width": 390, "height": 844}

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make there
# (fixtures, assertions) are ordinary synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium not found at {CHROMIUM} but REQUIRE_BROWSER=1")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A phone-sized page in a browser that asks for English, so that the journeys switch to
    Vietnamese with the header's switch, as a user would."""
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def other_page(browser):
    """A page in a browser of its own, sharing no cookies with `page`: someone else's phone."""
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def vietnamese(page, request):
    """Reads every page `page` loads for untranslated English (see `tests.e2e.language`).

    Each journey switches to Vietnamese with the header's switch, calls `vietnamese.check()`
    after what it does on a page (a script may have added text), and adds what it put on the
    pages itself to `vietnamese.data`. Whatever loaded after the last check is checked when the
    test ends.
    """
    reader = VietnameseReader(page)
    yield reader
    call = getattr(request.node, "rep_call", None)
    if call is not None and call.passed:
        reader.check()


class VietnameseReader:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.data: set[str] = set()
        self.read_paths: list[str] = []
        self.switched = False
        self._loaded: list[dict] = []
        # Every document the page loads reports its text once its scripts have run, so that no
        # page of a journey goes unread, including those a redirect lands on.
        page.expose_binding("__readLoadedPage", lambda _source, read: self._loaded.append(read))
        page.add_init_script(
            "window.addEventListener('load', () => "
            f"window.__readLoadedPage(({READ_PAGE_JS})()));"
        )

    def check(self) -> None:
        """Fail with every untranslated English word of the pages loaded since the last check
        and of the current page as it is now. Pages loaded before the first one in Vietnamese
        (those before the switch) are not read; the current page always is."""
        self.page.wait_for_load_state("load")  # a navigation a click started has finished
        reads = [*self._loaded, self.page.evaluate(READ_PAGE_JS)]
        self._loaded = []
        problems: dict[str, None] = {}
        for position, read in enumerate(reads):
            current = position == len(reads) - 1
            self.switched = self.switched or read["lang"] == "vi"
            if not (self.switched or current):
                continue
            path = urlsplit(read["url"]).path
            if path not in self.read_paths:
                self.read_paths.append(path)
            if read["lang"] != "vi":
                problems[f"{read['url']} is in {read['lang']!r}, not Vietnamese"] = None
            for finding in find_english(read["texts"], data=tuple(self.data)):
                problems[f"{read['url']}: untranslated {finding}"] = None
        assert not problems, "\n".join(problems)


def switch_language(page: Page, code: str) -> None:
    """Press the header's language button for `code` and wait for the page to come back in it."""
    page.locator(f"header form.lang button[value='{code}']").click()
    expect(page.locator("html")).to_have_attribute("lang", code)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """On a failure, a full-page screenshot of every page still open, in tests/e2e/artifacts/:
    <test id>.png, then <test id>-2.png, … for a second browser context's pages."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
    test_id = re.sub(r"[^\w.-]+", "-", item.nodeid.removeprefix("tests/e2e/")).strip("-")
    if report.when == "setup":  # a screenshot of an earlier run must not pass for this one's
        for old in [ARTIFACTS / f"{test_id}.png", *ARTIFACTS.glob(f"{test_id}-[0-9]*.png")]:
            old.unlink(missing_ok=True)
    browser = getattr(item, "funcargs", {}).get("browser")
    if not report.failed or browser is None:
        return
    pages = [page for context in browser.contexts for page in context.pages if not page.is_closed()]
    if not pages:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    for number, page in enumerate(pages, start=1):
        name = test_id if number == 1 else f"{test_id}-{number}"
        try:
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        except PlaywrightError as exc:  # a crashed page must not hide the test's own failure
            report.sections.append(("screenshot", f"{name}.png not saved: {exc}"))
    report.sections.append(("screenshots", f"saved in {ARTIFACTS} as {test_id}*.png"))


def login(
    page: Page, live_server, username: str, password: str = "secret-pass-123", *, language="vi"
) -> None:
    """Log in through the login form, after switching the page to `language` with the header's
    switch if it is not in it yet (the browser asks for English)."""
    page.goto(f"{live_server.url}/accounts/login/")
    if page.get_attribute("html", "lang") != language:
        switch_language(page, language)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.locator("form[action='/accounts/login/'] [type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def go_to_menu_item(page: Page, href: str) -> None:
    """Follow the main menu's link to `href`, opening the menu first as on a phone, where it is
    folded behind its button."""
    toggle = page.locator("nav.site-nav .menu-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    page.locator(f"nav.site-nav a[href='{href}']").click()
    # The click returns once the navigation has started; the new document may not have a root
    # element yet, so wait for it to load before anyone reads it.
    page.wait_for_url(lambda url: urlsplit(url).path == href)
    page.wait_for_load_state("load")
