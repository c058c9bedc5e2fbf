"""The producer's web app in a real browser (Debian's Chromium, tests/browser/conftest.py)
against the real ``voxregen serve`` processes, in development mode, with real speech (espeak-ng,
its digital silence kept: tests/realistic_stems.py) as the references and the stem.

One producer's session, screen by screen: a profile from two reference clips uploaded through
the page, a stem rendered with its progress watched to done, the output played and A/B
switched at the same position, downloaded (the bytes the API's download gives), cloned with
other settings; a second job canceled mid-run; the jobs list. Then the render form by keyboard
alone. No console error, uncaught exception, failed request or HTTP error on the way
(``page_watch``). Each screen is photographed at desktop and phone widths (``screenshot``)."""

import io
import json
import re
import time
import uuid
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
import soundfile as sf
from playwright.sync_api import Page, expect

from tests.browser.served_app import ServedApp, serving_app
from tests.e2e.stack import stem_s_for
from tests.realistic_stems import BY_NAME, StemCorpus

pytestmark = pytest.mark.slow

SECONDS_PER_CHUNK = "1.5"
"""The stub's time per chunk: a 1 s poll sees at least two chunk counts before the last (an
ETA), and a cancel lands mid-run."""
REFERENCES = (BY_NAME["espeak_22k_mono_16"], BY_NAME["speech_48k_mono_24"])
VERSE = BY_NAME["speech_44k1_stereo_16"]
TIMEOUT_MS = 60_000
expect.set_options(timeout=TIMEOUT_MS)  # a render takes seconds: expect() waits as long
LABELLED = """() => [...document.querySelectorAll("input, select, button, a[href], audio, textarea")]
  .filter((element) => element.offsetParent !== null || element.tagName === "AUDIO")
  .filter((element) => !(element.labels && element.labels.length)
    && !element.getAttribute("aria-label") && !element.textContent.trim())
  .map((element) => element.outerHTML.slice(0, 120))"""
"""The visible controls that have no name a screen reader could say."""


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Iterator[ServedApp]:
    settings = {"VOXREGEN_STUB_SECONDS_PER_CHUNK": SECONDS_PER_CHUNK}
    with serving_app(tmp_path_factory.mktemp("web-app"), settings) as served:
        yield served


@pytest.fixture(scope="module")
def long_verse(realistic_stems: StemCorpus, tmp_path_factory):
    """The verse, again and again with exact digital silence between, as three chunks' worth
    of a 44.1 kHz stereo stem."""
    verse, rate_hz = sf.read(realistic_stems.path(VERSE))
    gap = np.zeros((rate_hz // 2, verse.shape[1]))
    frames = int(stem_s_for(3) * rate_hz)
    tiled = np.concatenate([np.concatenate([verse, gap])] * (1 + frames // len(verse)))[:frames]
    path = tmp_path_factory.mktemp("stems") / "lead-vocal.wav"
    sf.write(path, tiled, rate_hz, subtype="PCM_16")
    return path


def _unlabelled(page: Page) -> list[str]:
    return page.evaluate(LABELLED)


def _user_id(page: Page) -> str:
    kept = page.evaluate("() => JSON.parse(localStorage.getItem('voxregen.credentials'))")
    assert kept["kind"] == "user_id"
    return kept["value"]


@pytest.fixture
def api_as() -> Iterator:
    """``api_as(app, page)``: the API as the page's user, for what the test checks behind the
    page's back; closed after the test."""
    opened = []

    def client(app: ServedApp, page: Page) -> httpx.Client:
        headers = {"X-User-Id": _user_id(page)}
        opened.append(httpx.Client(base_url=app.base_url, headers=headers, timeout=30))
        return opened[-1]

    yield client
    for each in opened:
        each.close()


def _both_widths(
    page: Page, phone_page: Page, screenshot, name: str, *, shown: str = "main h1"
) -> None:
    """``page``'s screen photographed, and the same address on the phone, as the same user,
    once the phone shows the ``shown`` element(s) as many times as the page does."""
    screenshot(page, name, full_page=True)
    kept = page.evaluate("() => localStorage.getItem('voxregen.credentials')")
    phone_page.context.add_init_script(
        f"localStorage.setItem('voxregen.credentials', {json.dumps(kept)});"
    )
    phone_page.goto(page.url)
    expect(phone_page.locator(shown)).to_have_count(page.locator(shown).count())
    phone_page.wait_for_load_state("networkidle")
    width = phone_page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 360, f"{name}: {width} px wide on a 360 px phone"
    screenshot(phone_page, name, full_page=True)


def test_a_producer_goes_from_clips_to_a_downloaded_render_in_the_page(
    app: ServedApp, page: Page, phone_page: Page, realistic_stems, long_verse, screenshot, api_as
):
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(app.base_url + "/")

    # development mode: the page made itself a user; no profile yet, so nothing to render with
    expect(page.get_by_text("No ready profile yet")).to_be_visible()
    expect(page.locator("#account-link")).to_have_text(re.compile(r"^User [0-9a-f]{8}$"))
    api = api_as(app, page)
    _both_widths(page, phone_page, screenshot, "render-empty")

    # a profile from two reference clips, each with its own progress bar, built to ready
    page.get_by_role("link", name="Profiles").click()
    page.get_by_label("Name").fill("Ada")
    page.get_by_label("Reference clips").set_input_files(
        [realistic_stems.path(case) for case in REFERENCES]
    )
    assert _unlabelled(page) == []
    page.get_by_role("button", name="Create profile").click()
    expect(page.locator("h1 .badge")).to_have_text("ready")
    expect(page.get_by_text("analysing…")).to_have_count(0)  # both clips' builds are in
    (profile,) = api.get("/v1/singer-profiles").json()["items"]
    assert page.url.endswith(f"#/profiles/{profile['id']}")
    rows = page.locator(".reference")
    expect(rows).to_have_count(2)
    durations = sorted(f"{reference['duration_sec']:.1f} s" for reference in profile["references"])
    shown = sorted(re.search(r"\d+\.\d s", text)[0] for text in rows.all_text_contents())
    assert shown == durations
    expect(rows.first).to_contain_text("RMS")
    _both_widths(page, phone_page, screenshot, "profile", shown=".reference")

    # the render form, the profile chosen; the stem's upload, then the job's progress to done
    page.get_by_role("link", name="Render with this profile").click()
    expect(page.get_by_label("Singer profile")).to_have_value(profile["id"])
    page.get_by_label("Vocal stem").set_input_files(long_verse)
    page.get_by_label("Style").select_option("warm")
    expect(page.get_by_text("Fuller low mids")).to_be_visible()
    assert _unlabelled(page) == []
    _both_widths(page, phone_page, screenshot, "render")
    page.get_by_role("button", name="Upload and render").click()
    page.wait_for_url(re.compile(r"#/jobs/[0-9a-f-]{36}$"))
    job_id = page.url.rsplit("/", 1)[1]
    seen = set()
    deadline_s = time.monotonic() + TIMEOUT_MS / 1000
    while page.locator("h1 .badge").text_content() != "done":
        assert time.monotonic() < deadline_s, seen
        stage = page.locator(".stage")
        if stage.is_visible():
            seen.add(stage.text_content())
            if "left" in (stage.text_content() or "") and "job-running" not in str(seen):
                seen.add("job-running")
                screenshot(page, "job-running", full_page=True)
        time.sleep(0.1)
    assert any(re.fullmatch(r"Regenerating chunk [23] of 3 · about .* left", s) for s in seen)
    job = api.get(f"/v1/render-jobs/{job_id}").json()
    assert (job["status"], job["params"]["style"]) == ("done", "warm")

    # the result: both players hold the stem's duration; the metrics as the API has them
    input_player = page.locator("section[aria-label=Input] audio")
    output_player = page.locator("section[aria-label=Output] audio")
    stem_s = sf.info(long_verse).duration
    for player in (input_player, output_player):
        player.evaluate("a => a.readyState >= 1 || new Promise(r => a.onloadedmetadata = r)")
        assert player.evaluate("a => a.duration") == pytest.approx(stem_s, abs=0.01)
    metrics = page.locator("table.metrics")
    expect(metrics).to_contain_text(f"{job['metrics']['loudness_lufs']:.2f} LUFS")
    expect(metrics).to_contain_text(f"{job['metrics']['true_peak_db']:.2f} dBTP")
    expect(page.locator("canvas.waveform")).to_have_count(2)
    assert _unlabelled(page) == []
    _both_widths(page, phone_page, screenshot, "job-done", shown="canvas.waveform")

    # play the output, then A/B to the input: it goes on from the same position
    output_player.click()  # the user's gesture, which lets the page play
    output_player.evaluate("a => a.play()")
    page.wait_for_function(
        "() => document.querySelector('section[aria-label=Output] audio').currentTime > 0.5"
    )
    page.get_by_label("A: Input").check()
    at_s = input_player.evaluate("a => a.currentTime")
    assert output_player.evaluate("a => a.paused") and not input_player.evaluate("a => a.paused")
    assert at_s == pytest.approx(output_player.evaluate("a => a.currentTime"), abs=0.3)
    assert at_s > 0.5
    input_player.evaluate("a => a.pause()")

    # the download is the API's download, byte for byte
    with page.expect_download() as downloading:
        page.get_by_role("link", name=re.compile(r"^Download ")).click()
    grant = api.post(f"/v1/render-jobs/{job_id}:download").json()
    delivered = httpx.get(grant["download_url"]).content
    assert downloading.value.path().read_bytes() == delivered
    assert sf.info(io.BytesIO(delivered)).samplerate == 48_000

    # a clone with other settings: a new job, done, with the new style
    page.get_by_label("Style").select_option("bright")
    page.get_by_role("button", name="Render again").click()
    page.wait_for_url(re.compile(r"#/jobs/(?!" + job_id + r")[0-9a-f-]{36}$"))
    expect(page.locator("h1 .badge")).to_have_text("done")
    clone = api.get(f"/v1/render-jobs/{page.url.rsplit('/', 1)[1]}").json()
    assert (clone["params"]["style"], clone["metrics"]["feature_cache_hit"]) == ("bright", True)

    # a second stem, canceled while its chunks render
    page.get_by_role("link", name="Render", exact=True).click()
    page.get_by_label("Vocal stem").set_input_files(long_verse)
    page.get_by_role("button", name="Upload and render").click()
    page.wait_for_url(re.compile(r"#/jobs/[0-9a-f-]{36}$"))
    expect(page.locator(".stage")).to_contain_text("Regenerating chunk")
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("h1 .badge")).to_have_text("canceled")
    canceled = api.get(f"/v1/render-jobs/{page.url.rsplit('/', 1)[1]}").json()
    assert canceled["status"] == "canceled"

    # the jobs list, newest first, each with its status
    page.get_by_role("link", name="Jobs", exact=True).click()
    expect(page.locator(".rows .badge")).to_have_text(["canceled", "done", "done"])
    _both_widths(page, phone_page, screenshot, "jobs", shown=".rows .badge")
    page.goto(app.base_url + "/#/account")
    expect(page.get_by_text(f"Signed in as user {_user_id(page)}")).to_be_visible()
    _both_widths(page, phone_page, screenshot, "account")


def test_the_render_form_works_by_keyboard_alone_with_a_visible_focus(
    app: ServedApp, page: Page, realistic_stems, api_as
):
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(app.base_url + "/")
    expect(page.get_by_text("No ready profile yet")).to_be_visible()  # signed in by itself
    api = api_as(app, page)
    created = api.post("/v1/singer-profiles", json={"name": "Keys"}).json()
    upload = api.post(f"/v1/singer-profiles/{created['id']}/references:prepare-upload").json()
    httpx.put(upload["upload_url"], content=realistic_stems.path(REFERENCES[1]).read_bytes())
    commit = {"ref_id": upload["ref_id"], "object_key": upload["object_key"]}
    api.post(f"/v1/singer-profiles/{created['id']}/references:commit", json=commit)
    deadline_s = time.monotonic() + TIMEOUT_MS / 1000
    while api.get(f"/v1/singer-profiles/{created['id']}").json()["status"] != "ready":
        assert time.monotonic() < deadline_s
        time.sleep(0.2)
    page.reload()
    expect(page.get_by_label("Singer profile")).to_have_value(created["id"])

    focused = []  # (name, outline style, outline width) of each element Tab reaches
    while not focused or focused[-1][0] != "Upload and render":
        assert len(focused) < 15, focused
        page.keyboard.press("Tab")
        focused.append(tuple(page.evaluate(
            "() => { const e = document.activeElement; const s = getComputedStyle(e);"
            " return [e.name || e.textContent.trim(), s.outlineStyle, s.outlineWidth]; }"
        )))  # fmt: skip
    form = ["file", "profile", "style", "intensity", "quality", "Upload and render"]
    assert [name for name, _, _ in focused[-len(form) :]] == form, focused
    for name, style, width in focused:
        assert style != "none" and width != "0px", f"no visible focus on {name!r}"

    # the same fields, by keys (the file as the system's file dialog would give it)
    page.get_by_label("Vocal stem").set_input_files(realistic_stems.path(VERSE))
    page.get_by_label("Style").focus()
    page.keyboard.press("ArrowDown")  # natural → warm
    page.get_by_label(re.compile("^Intensity")).focus()
    page.keyboard.press("ArrowRight")  # 0.50 → 0.55
    page.get_by_role("button", name="Upload and render").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"#/jobs/[0-9a-f-]{36}$"))
    job = api.get(f"/v1/render-jobs/{page.url.rsplit('/', 1)[1]}").json()
    assert (job["params"]["style"], job["params"]["intensity"]) == ("warm", 0.55)
    expect(page.locator("h1 .badge")).to_have_text("done")


def test_with_api_keys_the_page_asks_for_a_key_and_sends_it(
    served_app_with_keys: ServedApp, page: Page, page_watch, screenshot
):
    page.set_default_timeout(TIMEOUT_MS)
    page_watch.expect_status(401)  # the first visit's try as a user id, and the wrong key
    page.goto(served_app_with_keys.base_url + "/")

    expect(page).to_have_url(re.compile("#/account$"))
    expect(page.get_by_text("Sign in to use this service.")).to_be_visible()
    page.get_by_label("API key").fill("vxr_" + "A" * 43)
    page.get_by_role("button", name="Use this key").click()
    expect(page.get_by_role("alert")).to_contain_text("invalid_api_key")
    expect(page.get_by_text("did not take this key")).to_be_visible()
    screenshot(page, "account-key-refused", full_page=True)

    key = served_app_with_keys.api_key(uuid.uuid4())
    page.get_by_label("API key").fill(key)
    with page.expect_request(re.compile(r"/v1/singer-profiles\?")) as listing:
        page.get_by_role("button", name="Use this key").click()
        page.wait_for_url(re.compile("#/render$"))
    assert listing.value.headers["authorization"] == f"Bearer {key}"
    expect(page.get_by_text("No ready profile yet")).to_be_visible()
    expect(page.locator("#account-link")).to_have_text(f"Key …{key[-4:]}")


def test_clips_dropped_on_the_page_a_failed_job_and_every_delete(
    app: ServedApp, page: Page, realistic_stems, api_as, tmp_path
):
    page.set_default_timeout(TIMEOUT_MS)
    page.on("dialog", lambda dialog: dialog.accept())  # "Delete this …?"
    page.goto(app.base_url + "/#/profiles")
    expect(page.get_by_text("No profiles yet")).to_be_visible()
    api = api_as(app, page)

    # two clips dropped on the drop area, as a file manager drops them
    clips = [realistic_stems.path(case) for case in REFERENCES]
    dropped = page.evaluate_handle(
        """files => { const transfer = new DataTransfer();
          for (const [name, bytes] of files) transfer.items.add(new File([new Uint8Array(bytes)], name, {type: "audio/wav"}));
          return transfer; }""",
        [[clip.name, list(clip.read_bytes())] for clip in clips],
    )  # fmt: skip
    page.get_by_label("Name").fill("Dropped")
    page.locator(".dropzone").dispatch_event("drop", {"dataTransfer": dropped})
    expect(page.locator(".chosen")).to_have_text(f"Chosen: {clips[0].name}, {clips[1].name}")
    page.get_by_role("button", name="Create profile").click()
    expect(page.locator("h1 .badge")).to_have_text("ready")
    expect(page.locator(".reference")).to_have_count(2)
    profile_id = page.url.rsplit("/", 1)[1]

    # a reference deleted: the profile rebuilds from the other
    page.locator(".reference").first.get_by_role("button", name=re.compile("^Delete")).click()
    expect(page.locator(".reference")).to_have_count(1)
    expect(page.locator("h1 .badge")).to_have_text("ready")
    assert len(api.get(f"/v1/singer-profiles/{profile_id}").json()["references"]) == 1

    # a stem that is no WAV: the job fails, its code and message on its page and in the list
    notes = tmp_path / "notes.wav"
    notes.write_text("lyrics, second verse")
    page.get_by_role("link", name="Render with this profile").click()
    page.get_by_label("Vocal stem").set_input_files(notes)
    page.get_by_role("button", name="Upload and render").click()
    page.wait_for_url(re.compile(r"#/jobs/[0-9a-f-]{36}$"))
    job_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("h1 .badge")).to_have_text("failed")
    error = api.get(f"/v1/render-jobs/{job_id}").json()["error"]
    expect(page.get_by_role("alert")).to_have_text(
        f"The render failed: {error['message']} {error['code']}"
    )
    page.get_by_role("link", name="Jobs", exact=True).click()
    expect(page.locator(".rows .error-text")).to_have_text(f"{error['message']} ({error['code']})")

    # a job made elsewhere (a script, another tab) while the list is open appears in it
    upload = api.post("/v1/render-jobs:prepare-upload").json()
    httpx.put(upload["upload_url"], content=realistic_stems.path(VERSE).read_bytes())
    made = {"singer_profile_id": profile_id, "input_object_key": upload["object_key"]}
    elsewhere = api.post("/v1/render-jobs", json=made).json()
    expect(page.locator(f"a[href='#/jobs/{elsewhere['id']}'] .badge")).to_have_text("done")
    api.delete(f"/v1/render-jobs/{elsewhere['id']}")
    page.reload()

    # the job deleted, then the profile
    page.locator(".row-link").first.click()
    page.get_by_role("button", name="Delete job").click()
    page.wait_for_url(re.compile("#/jobs$"))
    expect(page.get_by_text("No jobs here yet.")).to_be_visible()
    assert api.get(f"/v1/render-jobs/{job_id}").status_code == 404
    page.goto(f"{app.base_url}/#/profiles/{profile_id}")
    page.get_by_role("button", name="Delete profile").click()
    page.wait_for_url(re.compile("#/profiles$"))
    expect(page.get_by_text("No profiles yet")).to_be_visible()
    assert api.get(f"/v1/singer-profiles/{profile_id}").status_code == 404
