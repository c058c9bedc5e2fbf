// #/render: a stem, a usable profile and the render settings; the stem goes straight to its
// presigned URL (with its progress), the job is created, and the job's view takes over.

import { call, upload } from "./api.js";
import { errorBox, fill, h, megabytes, progressBar, uid } from "./dom.js";
import { dropZone } from "./dropzone.js";
import { usable } from "./profile.js";
import { paramsFields } from "./render_params.js";

const PROFILES_PAGE = 100;

async function usableProfiles(signal) {
  const found = [];
  let cursor = null;
  do {
    const answer = await call("GET", "/v1/singer-profiles", { query: { limit: PROFILES_PAGE, cursor }, signal });
    found.push(...answer.items.filter(usable));
    cursor = answer.next_cursor;
  } while (cursor);
  return found;
}

export function show(main, _, life) {
  const wanted = new URLSearchParams(window.location.hash.split("?")[1] || "").get("profile");
  const status = h("div", {});
  const stem = dropZone({ label: "Vocal stem", hint: "Drop a WAV stem here (mono or stereo, up to 8 minutes), or choose one" });
  const profileId = uid("profile");
  const profile = h("select", { id: profileId, name: "profile", required: true });
  const fields = paramsFields();
  const submit = h("button", { type: "submit", disabled: true }, "Upload and render");
  const bar = progressBar("Uploading the stem");
  bar.element.hidden = true;
  const form = h("form", { class: "card render-form" },
    stem.element,
    h("div", { class: "field" }, h("label", { for: profileId }, "Singer profile"), profile),
    fields.element, submit, bar.element, status);
  fill(main, h("h1", {}, "Render a stem"),
    h("p", { class: "lead" }, "Regenerated in the singer's voice and mastered to −18 LUFS, −1 dBTP, as a 48 kHz 16-bit WAV."),
    form);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const [file] = stem.files();
    if (!file) {
      fill(status, h("p", { class: "error", role: "alert" }, "Choose the stem to render first."));
      return;
    }
    submit.disabled = true;
    fill(status);
    bar.element.hidden = false;
    try {
      const grant = await call("POST", "/v1/render-jobs:prepare-upload", { signal: life.signal });
      await upload(grant.upload_url, file, (sent, total) => bar.set(sent, total, `${megabytes(sent)} of ${megabytes(total)}`), life.signal);
      const job = await call("POST", "/v1/render-jobs", {
        body: { singer_profile_id: profile.value, input_object_key: grant.object_key, params: fields.params() },
        signal: life.signal,
      });
      window.location.hash = `#/jobs/${job.id}`;
    } catch (error) {
      if (life.stopped) return;
      fill(status, errorBox(error));
      submit.disabled = false;
    }
  });

  async function loadProfiles() {
    fill(status);
    let profiles;
    try {
      profiles = await usableProfiles(life.signal);
    } catch (error) {
      if (life.stopped) return;
      fill(status, errorBox(error), h("button", { type: "button", class: "secondary", onclick: loadProfiles }, "Try again"));
      return;
    }
    fill(profile, profiles.map((each) => h("option", { value: each.id, selected: each.id === wanted },
      `${each.name} (${each.id.slice(0, 8)})${each.status === "building" ? ", rebuilding" : ""}`)));
    profile.disabled = !profiles.length;
    submit.disabled = !profiles.length;
    if (!profiles.length) {
      fill(status, h("p", {}, "No ready profile yet: ", h("a", { href: "#/profiles" }, "make one from a few clips of the singer"), " first."));
    }
  }
  loadProfiles();
}
