// #/profiles/<id>: one singer profile. Its status (building → ready, or the error's reason),
// its references with their duration and quality metrics, more references (each uploaded
// straight to its presigned URL with its own progress bar, then committed), and deletes.

import { call, upload } from "./api.js";
import { announce, badge, errorBox, fill, h, megabytes, progressBar, seconds, when } from "./dom.js";
import { dropZone } from "./dropzone.js";
import { poller } from "./view_life.js";

const POLL_MS = 1000;

/** Whether a render may use the profile: ready, or rebuilding with the embedding of its last
 * build (the API's rule: a profile with no embedding yet is refused). */
export function usable(profile) {
  return profile.status === "ready" || (profile.status === "building" && profile.embedding_version !== null);
}

/** Upload each file as a reference of the profile and commit it; a progress bar per file in
 * `into`. Throws the first refusal (the files before it stay committed). */
export async function addReferences(profileId, files, into, signal) {
  const base = `/v1/singer-profiles/${profileId}/references`;
  const bars = files.map((file) => {
    const bar = progressBar(`Uploading ${file.name}`);
    bar.set(0, file.size, `${file.name}: waiting`);
    into.append(bar.element);
    return bar;
  });
  for (const [index, file] of files.entries()) {
    const bar = bars[index];
    const grant = await call("POST", `${base}:prepare-upload`, { signal });
    await upload(grant.upload_url, file, (sent, total) => bar.set(sent, total, `${file.name}: ${megabytes(sent)} of ${megabytes(total)}`), signal);
    await call("POST", `${base}:commit`, { body: { ref_id: grant.ref_id, object_key: grant.object_key }, signal });
    bar.set(file.size, file.size, `${file.name}: uploaded`);
  }
}

function metricsList(metrics) {
  const shown = [
    ["Peak", metrics.peak_dbfs, "dBFS"], ["RMS", metrics.rms_dbfs, "dBFS"],
    ["Noise floor", metrics.noise_floor_dbfs, "dBFS"], ["Clipping", metrics.clipping_pct, "%"],
    ["Silence", metrics.silence_pct, "%"],
  ].filter(([, value]) => typeof value === "number");
  return h("dl", { class: "inline" }, shown.flatMap(([name, value, unit]) => [h("dt", {}, name), h("dd", {}, `${value.toFixed(1)} ${unit}`)]));
}

/** Whether the build has looked at the clip yet (its metrics and duration are its build's). */
function analysed(reference) {
  return Object.keys(reference.quality_metrics || {}).length > 0;
}

function referenceRow(profileId, reference, onChange, signal) {
  const metrics = reference.quality_metrics || {};
  const problems = metrics.problems || [];
  const remove = h("button", { type: "button", class: "secondary danger", "aria-label": `Delete reference ${reference.id}` }, "Delete");
  const status = h("div", {});
  remove.addEventListener("click", async () => {
    remove.disabled = true;
    try {
      await call("DELETE", `/v1/singer-profiles/${profileId}/references/${reference.id}`, { signal });
      announce("Reference deleted");
      onChange();
    } catch (error) {
      remove.disabled = false;
      fill(status, errorBox(error));
    }
  });
  return h("li", { class: "reference" },
    h("div", { class: "row-main" },
      analysed(reference) ? h("span", {}, reference.accepted ? "✓ accepted" : "✗ rejected") : h("span", {}, "analysing…"),
      analysed(reference) ? h("span", {}, seconds(reference.duration_sec)) : null,
      h("span", { class: "muted" }, `added ${when(reference.created_at)}`),
      remove),
    metricsList(metrics),
    problems.length ? h("p", { class: "warning" }, "Problems: ", problems.join("; ")) : null,
    status);
}

function statusLine(profile) {
  if (profile.status === "building" && !profile.references.length) return "Waiting for its first reference clip.";
  if (profile.status === "building") return usable(profile)
    ? "Rebuilding from its references; renders use its last build meanwhile."
    : "Building the profile from its references…";
  return "";
}

export async function show(main, profileId, life) {
  let shown = null; // the profile as last drawn: redrawn only when it changes
  const header = h("div", {});
  const said = h("p", { role: "status" }); // always there, so a change of its text is announced
  const references = h("ul", { class: "rows", "aria-label": "References" });
  const status = h("div", {});
  const uploads = h("div", { class: "uploads" });
  const picker = dropZone({ label: "Reference clips", multiple: true });
  const addButton = h("button", { type: "submit" }, "Upload and add");
  const deleteButton = h("button", { type: "button", class: "danger" }, "Delete profile");

  function draw(profile) {
    const reason = profile.status === "error" && profile.stats.error
      ? h("p", { class: "error", role: "alert" }, "The build failed: ", profile.stats.error.message, " ", h("code", {}, profile.stats.error.code))
      : null;
    fill(header,
      h("h1", {}, profile.name, " ", badge(profile.status)),
      h("p", { class: "muted" }, `Profile ${profile.id} · created ${when(profile.created_at)}`),
      usable(profile) ? h("p", {}, h("a", { href: `#/render?profile=${profile.id}`, class: "button" }, "Render with this profile")) : null,
      reason);
    said.textContent = statusLine(profile);
    fill(references, profile.references.length
      ? profile.references.map((reference) => referenceRow(profile.id, reference, refresh, life.signal))
      : h("li", { class: "empty" }, "No references yet: add a clip of the singer below."));
  }

  const refresh = poller(life, {
    ask: (signal) => call("GET", `/v1/singer-profiles/${profileId}`, { signal }),
    show(profile) {
      fill(status);
      const drawn = JSON.stringify(profile);
      if (drawn !== shown) draw(profile);
      shown = drawn;
      // a clip not analysed yet has its build to come (a server from before the build's
      // guard could say ready in between)
      const pending = profile.references.some((reference) => !analysed(reference));
      return (profile.status === "building" && profile.references.length) || pending;
    },
    fail: (error) => fill(status, errorBox(error)),
    everyMs: POLL_MS,
  });

  const addForm = h("form", { class: "card" }, h("h2", {}, "Add references"), picker.element, addButton, uploads);
  addForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!picker.files().length) {
      fill(uploads, h("p", { class: "error", role: "alert" }, "Choose one or more WAV files first."));
      return;
    }
    addButton.disabled = true;
    fill(uploads);
    try {
      await addReferences(profileId, picker.files(), uploads, life.signal);
      picker.clear();
      announce("References added; the profile is building");
    } catch (error) {
      if (life.stopped) return;
      uploads.append(errorBox(error));
    }
    addButton.disabled = false;
    refresh();
  });
  deleteButton.addEventListener("click", async () => {
    if (!window.confirm("Delete this profile, its references and their clips? Finished jobs stay.")) return;
    try {
      await call("DELETE", `/v1/singer-profiles/${profileId}`, { signal: life.signal });
      window.location.hash = "#/profiles";
    } catch (error) {
      fill(status, errorBox(error));
    }
  });
  fill(main, header, said, status, h("h2", {}, "References"), references, addForm, h("p", {}, deleteButton));
  await refresh();
}
