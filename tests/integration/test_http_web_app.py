"""The web app's routes over a real service: ``/`` and ``/static/…`` answer without
credentials in either auth mode, with the content type, ETag and security headers a browser
needs; an unchanged file is a 304; a file that is not the app's is the API's JSON 404 (a path
that climbs out of the folder included). And the app is whole: every file the page names and
every module a module imports is one the service serves, so no import can 404 in a browser."""

import re

import pytest

from tests.integration.http_api import running_api
from voxregen_adapters.settings import AuthMode
from voxregen_http.routes.web_app import CONTENT_SECURITY_POLICY, FILES

_IMPORT = re.compile(r"""^import\s[^;]*?from\s+"\./([\w./-]+)";""", re.MULTILINE | re.DOTALL)
_PAGE_FILE = re.compile(r"""(?:src|href)="/static/([\w./-]+)\"""")


@pytest.fixture(params=list(AuthMode), ids=lambda mode: mode.value)
def api(request, fresh_database_url, redis_url, tmp_path):
    with running_api(fresh_database_url, redis_url, tmp_path, auth_mode=request.param) as api:
        yield api


def test_the_page_is_served_to_anyone_with_its_security_headers(api):
    page = api.client.get("/")

    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in CONTENT_SECURITY_POLICY  # no inline script can run
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-cache"
    assert '<script type="module" src="/static/js/main.js">' in page.text


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("js/main.js", "text/javascript; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
        ("icon.svg", "image/svg+xml"),
    ],
)
def test_each_file_has_its_type_and_an_unchanged_one_is_a_304(api, path, content_type):
    first = api.client.get(f"/static/{path}")
    again = api.client.get(f"/static/{path}", headers={"If-None-Match": first.headers["etag"]})
    changed = api.client.get(f"/static/{path}", headers={"If-None-Match": '"another"'})
    weakened = f'"another", W/{first.headers["etag"]}'  # as a proxy may pass it on
    listed = api.client.get(f"/static/{path}", headers={"If-None-Match": weakened})

    assert (first.status_code, first.headers["content-type"]) == (200, content_type)
    assert first.content == FILES[path][0]
    assert (again.status_code, again.content) == (304, b"")
    assert changed.status_code == 200 and changed.content == first.content
    assert listed.status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "/static/js/nothing.js",
        "/static/%2e%2e/openapi.yaml",
        "/static/js/%2e%2e/app.css",
        "/static/",
    ],
)
def test_a_file_that_is_not_the_apps_is_a_json_404(api, path):
    answer = api.client.get(path)

    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_every_file_the_page_and_its_modules_name_is_served():
    named = set(_PAGE_FILE.findall(FILES["index.html"][0].decode()))
    for path, (body, _, _) in FILES.items():
        if path.endswith(".js"):
            folder = path.rsplit("/", 1)[0]
            named |= {f"{folder}/{module}" for module in _IMPORT.findall(body.decode())}

    assert {"js/main.js", "app.css", "icon.svg", "js/api.js", "js/job.js"} <= named
    assert named <= set(FILES), named - set(FILES)
    modules = {path for path in FILES if path.endswith(".js")}
    assert modules - named == set(), "a module no page or module imports is dead code"
