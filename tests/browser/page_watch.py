"""What a page must not do unnoticed: log a console error, throw an uncaught exception, fail a
request, or get an HTTP error the test did not expect. The ``page_watch`` fixture
(:mod:`tests.browser.conftest`) checks after the test and fails it on any of them."""

import attrs
import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Request, Response, WebError

# Chromium's console line for a load that failed repeats, without the URL, what the ``response``
# and ``requestfailed`` listeners record with it (and says it of /favicon.ico, which is the
# browser's request, not the page's).
_FAILED_LOAD = "Failed to load resource: "


@attrs.define(slots=False)  # Playwright keeps a listener of a method on the method's object
class PageWatch:
    """The problems of every browser context it watches, in order: one line each, an uncaught
    exception's followed by its stack."""

    problems: list[str] = attrs.field(factory=list)
    expected_statuses: set[int] = attrs.field(factory=set)

    def expect_status(self, *statuses: int) -> None:
        """Responses with these statuses are what the test checks (a 401 without a key, say),
        not problems."""
        self.expected_statuses.update(statuses)

    def clear(self) -> list[str]:
        """The problems so far, forgotten: for a test that provokes them on purpose."""
        problems, self.problems = self.problems, []
        return problems

    def check(self) -> None:
        """Fails the test, listing the problems, if there are any."""
        if self.problems:
            listed = "\n".join(f"  {problem}" for problem in self.problems)
            pytest.fail(f"the page had {len(self.problems)} problem(s):\n{listed}", pytrace=False)

    def watch(self, context: BrowserContext) -> None:
        context.on("console", self._console)
        context.on("weberror", self._web_error)
        context.on("requestfailed", self._request_failed)
        context.on("response", self._response)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith(_FAILED_LOAD):
            where = message.location  # no url for a script the test ran with page.evaluate
            at = f" (at {where['url']}:{where['lineNumber']})" if where["url"] else ""
            self.problems.append(f"console error: {message.text}{at}")

    def _web_error(self, error: WebError) -> None:
        # the stack starts with the name and message; a thrown non-Error (a string) has none
        self.problems.append(f"uncaught exception: {error.error.stack or error.error.message}")

    def _request_failed(self, request: Request) -> None:
        if request.resource_type == "media" and request.failure == "net::ERR_ABORTED":
            return  # a player drops its own range request when it seeks or is let go
        self.problems.append(f"request failed: {request.method} {request.url}: {request.failure}")

    def _response(self, response: Response) -> None:
        if response.status >= 400 and response.status not in self.expected_statuses:
            self.problems.append(
                f"HTTP {response.status}: {response.request.method} {response.url}"
            )
