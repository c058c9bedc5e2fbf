// #/jobs/<id>: one render job. While it runs: its chunk progress, its stage and an ETA from the
// chunks done so far, polled from the API, and Cancel. Once done: the input and the output side
// by side (waveform and player each), an A/B switch that keeps the playback position, the
// metrics, Download, and a clone with other settings. Failed: the error's code and message.

import { call, download } from "./api.js";
import { announce, badge, db, errorBox, fill, h, megabytes, progressBar, seconds, shortId, when } from "./dom.js";
import { paramsFields } from "./render_params.js";
import { decode, waveform } from "./waveform.js";

const POLL_MS = 1000;
const ACTIVE = new Set(["queued", "running"]);

/** What the job is doing, in words. */
export function stage(job) {
  const { chunks_done: done, chunks_total: total } = job.progress;
  if (job.status === "queued") return "Waiting for a worker";
  if (job.status !== "running") return { done: "Done", failed: "Failed", canceled: "Canceled" }[job.status];
  if (!total) return "Preparing: decoding and analysing the stem";
  if (done < total) return `Regenerating chunk ${done + 1} of ${total}`;
  return "Mastering and exporting";
}

/** Seconds left, from the rate of the chunks done since the first time this page saw the job
 * (null until a chunk has been done while watching). */
export function etaTracker() {
  let first = null;
  return (job) => {
    const { chunks_done: done, chunks_total: total } = job.progress;
    const now = performance.now();
    if (first === null || done < first.done) first = { done, at: now };
    if (done <= first.done || !total) return null;
    const perChunkMs = (now - first.at) / (done - first.done);
    return ((total - done) * perChunkMs) / 1000;
  };
}

function metricsTable(metrics) {
  const rows = [
    ["Integrated loudness", db(metrics.loudness_lufs, "LUFS")],
    ["True peak", db(metrics.true_peak_db, "dBTP")],
    ["Gain", `${metrics.gain_db.toFixed(2)} dB`],
    ["Limiter reduction", `${metrics.limiter_gain_reduction_db.toFixed(2)} dB`],
    ["Duration", seconds(metrics.input_duration_s)],
    ["Render time", `${metrics.runtime_sec.toFixed(2)} s`],
    ["Features from cache", metrics.feature_cache_hit ? "yes" : "no"],
  ];
  return h("table", { class: "metrics" },
    h("caption", {}, "Metrics"),
    h("tbody", {}, rows.map(([name, value]) => h("tr", {}, h("th", { scope: "row" }, name), h("td", {}, value)))));
}

/** The A/B comparison: `sides` are [{name, blob}], each drawn and playable; the switch moves
 * playback to the other side at the same position. Returns {element, stop()}. */
async function comparison(sides) {
  const urls = [];
  const players = [];
  const columns = [];
  for (const side of sides) {
    const url = URL.createObjectURL(side.blob);
    urls.push(url);
    const player = h("audio", { controls: true, preload: "auto", src: url, "aria-label": `${side.name} player` });
    players.push(player);
    let picture;
    try {
      picture = waveform(await decode(side.blob), player, `Waveform of the ${side.name.toLowerCase()}`).element;
    } catch {
      picture = h("p", { class: "hint" }, "This browser cannot decode this WAV to draw it.");
    }
    columns.push(h("section", { class: "side", "aria-label": side.name }, h("h3", {}, side.name), picture, player));
  }
  const choices = sides.map((side, index) => {
    const input = h("input", { type: "radio", name: "ab", value: String(index), checked: index === 1 });
    input.addEventListener("change", () => switchTo(index));
    return h("label", { class: "ab-choice" }, input, ` ${"AB"[index]}: ${side.name}`);
  });
  function switchTo(index) {
    const from = players[1 - index];
    const to = players[index];
    const playing = !from.paused;
    to.currentTime = from.currentTime;
    from.pause();
    if (playing) to.play();
    announce(`Listening to ${sides[index].name.toLowerCase()}`);
  }
  for (const [index, player] of players.entries()) {
    player.addEventListener("play", () => {
      const other = players[1 - index];
      if (!other.paused) other.pause();
      choices[index].querySelector("input").checked = true;
    });
  }
  const element = h("div", {},
    h("fieldset", { class: "ab" }, h("legend", {}, "A/B: switch at the same position"), choices),
    h("div", { class: "sides" }, columns));
  return { element, stop: () => { for (const player of players) player.pause(); for (const url of urls) URL.revokeObjectURL(url); } };
}

async function fetchAudio(job, action, name, into) {
  const bar = progressBar(`Loading the ${name}`);
  into.append(bar.element);
  try {
    const grant = await call("POST", `/v1/render-jobs/${job.id}:${action}`);
    return await download(grant.download_url, (got, total) => bar.set(got, total, `${name}: ${megabytes(got)} of ${megabytes(total)}`));
  } finally {
    bar.element.remove();
  }
}

function cloneForm(job) {
  const fields = paramsFields(job.params);
  const submit = h("button", { type: "submit" }, "Render again");
  const status = h("div", {});
  const form = h("form", { class: "card" }, h("h2", {}, "Clone with other settings"),
    h("p", { class: "hint" }, "The same stem, its analysis reused: only the settings change."), fields.element, submit, status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      const clone = await call("POST", `/v1/render-jobs/${job.id}:clone`, { body: { params: fields.params() } });
      window.location.hash = `#/jobs/${clone.id}`;
    } catch (error) {
      fill(status, errorBox(error));
      submit.disabled = false;
    }
  });
  return form;
}

export async function show(main, jobId) {
  let stopped = false;
  let timer = null;
  let stopComparison = () => {};
  const eta = etaTracker();
  const header = h("div", {});
  const live = h("div", { class: "card live", role: "status" });
  const bar = progressBar("Chunks rendered");
  const stageText = h("p", { class: "stage" });
  const cancel = h("button", { type: "button", class: "danger" }, "Cancel");
  const remove = h("button", { type: "button", class: "secondary danger" }, "Delete job");
  const status = h("div", {});
  const result = h("div", {});
  fill(live, stageText, bar.element, cancel);

  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    try {
      await call("POST", `/v1/render-jobs/${jobId}:cancel`);
      announce("Job canceled");
    } catch (error) {
      fill(status, errorBox(error));
    }
    refresh();
  });
  remove.addEventListener("click", async () => {
    if (!window.confirm("Delete this job and its files?")) return;
    try {
      await call("DELETE", `/v1/render-jobs/${jobId}`);
      window.location.hash = "#/jobs";
    } catch (error) {
      fill(status, errorBox(error));
    }
  });

  async function showResult(job) {
    fill(result, h("h2", {}, "Result"));
    try {
      const [input, output] = [await fetchAudio(job, "download-input", "input", result), await fetchAudio(job, "download", "output", result)];
      if (stopped) return;
      const compared = await comparison([{ name: "Input", blob: input }, { name: "Output", blob: output }]);
      const name = `${shortId(job.id)}.regen.wav`;
      const outputUrl = URL.createObjectURL(output);
      stopComparison = () => { compared.stop(); URL.revokeObjectURL(outputUrl); };
      const link = h("a", { class: "button", href: outputUrl, download: name }, `Download ${name}`);
      result.append(compared.element, h("p", {}, link), metricsTable(job.metrics), cloneForm(job));
    } catch (error) {
      result.append(errorBox(error));
    }
  }

  async function refresh() {
    if (stopped) return;
    window.clearTimeout(timer);
    let job;
    try {
      job = await call("GET", `/v1/render-jobs/${jobId}`);
    } catch (error) {
      fill(status, errorBox(error));
      return;
    }
    const wasShown = header.dataset.status;
    header.dataset.status = job.status;
    fill(header,
      h("h1", {}, `Job ${shortId(job.id)} `, badge(job.status)),
      h("p", { class: "muted" }, `Created ${when(job.created_at)} · `,
        job.singer_profile_id ? h("a", { href: `#/profiles/${job.singer_profile_id}` }, "its profile") : "profile deleted",
        ` · ${job.params.style}, intensity ${job.params.intensity}, ${job.params.quality}`));
    const { chunks_done: done, chunks_total: total } = job.progress;
    if (ACTIVE.has(job.status)) {
      const left = eta(job);
      bar.set(done, total, total ? `${done} of ${total} chunks` : "");
      stageText.textContent = left === null ? stage(job) : `${stage(job)} · about ${seconds(left)} left`;
      live.hidden = false;
      timer = window.setTimeout(refresh, POLL_MS);
    } else {
      live.hidden = true;
    }
    if (job.status === "failed" && job.error) {
      fill(result, h("p", { class: "error", role: "alert" }, "The render failed: ", job.error.message, " ", h("code", {}, job.error.code)));
    }
    if (job.status === "canceled") fill(result, h("p", {}, "This job was canceled."));
    if (job.status === "done" && wasShown !== "done") {
      announce("The render is done");
      await showResult(job);
    }
  }

  fill(main, header, status, live, result, h("p", {}, remove));
  await refresh();
  return () => { stopped = true; window.clearTimeout(timer); stopComparison(); };
}
