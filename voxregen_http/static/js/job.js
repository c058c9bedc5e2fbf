// #/jobs/<id>: one render job. While it runs: its chunk progress, its stage and an ETA from the
// chunks done so far, polled from the API, and Cancel. Once done: the input and the output side
// by side (waveform and player each), an A/B switch that keeps the playback position, the
// metrics, Download, and a clone with other settings. Failed: the error's code and message.
// What the retention policy deleted (the input, the output) is said, and the rest still shown.

import { call, download } from "./api.js";
import { announce, badge, db, errorBox, fill, h, megabytes, progressBar, seconds, shortId, when } from "./dom.js";
import { paramsFields } from "./render_params.js";
import { poller } from "./view_life.js";
import { peaks, waveform } from "./waveform.js";

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

/** Seconds left until the last chunk, from the rate of the chunks done since this page first
 * saw them being rendered (null until one has been done while watching, and once all are). */
export function etaTracker() {
  let first = null;
  return (job) => {
    const { chunks_done: done, chunks_total: total } = job.progress;
    if (!total || done >= total) return null;
    const now = performance.now();
    if (first === null || done < first.done) first = { done, at: now };
    if (done <= first.done) return null;
    return ((total - done) * (now - first.at)) / (done - first.done) / 1000;
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

/** The sides ([{name, blob}]), each drawn and playable; with two, an A/B switch that moves
 * playback to the other side at the same position. Their object URLs end with `life`. */
async function comparison(sides, life) {
  const players = [];
  const columns = [];
  for (const side of sides) {
    const url = URL.createObjectURL(side.blob);
    const player = h("audio", { controls: true, preload: "auto", src: url, "aria-label": `${side.name} player` });
    life.onStop(() => {
      player.pause();
      player.removeAttribute("src"); // the player lets the URL go before it is revoked
      player.load();
      URL.revokeObjectURL(url);
    });
    players.push(player);
    let picture;
    try {
      picture = waveform(await peaks(side.blob), player, `Waveform of the ${side.name.toLowerCase()}`, life).element;
    } catch {
      picture = h("p", { class: "hint" }, "This browser cannot decode this WAV to draw it.");
    }
    columns.push(h("section", { class: "side", "aria-label": side.name }, h("h3", {}, side.name), picture, player));
  }
  const grid = h("div", { class: "sides" }, columns);
  if (sides.length < 2) return grid;
  const choices = sides.map((side, index) => {
    const input = h("input", { type: "radio", name: "ab", value: String(index), checked: index === 1 });
    input.addEventListener("change", () => switchTo(index));
    return h("label", { class: "ab-choice" }, input, ` ${"AB"[index]}: ${side.name}`);
  });
  function switchTo(index) {
    const [from, to] = [players[1 - index], players[index]];
    const playing = !from.paused;
    to.currentTime = from.currentTime;
    from.pause();
    if (playing) to.play().catch(() => {}); // a pause before it started: nothing to say
    announce(`Listening to the ${sides[index].name.toLowerCase()}`);
  }
  for (const [index, player] of players.entries()) {
    player.addEventListener("play", () => {
      const other = players[1 - index];
      if (!other.paused) other.pause();
      choices[index].querySelector("input").checked = true;
    });
  }
  return h("div", {}, h("fieldset", { class: "ab" }, h("legend", {}, "A/B: switch at the same position"), choices), grid);
}

async function fetchAudio(job, action, name, into, signal) {
  const bar = progressBar(`Loading the ${name}`);
  into.append(bar.element);
  try {
    const grant = await call("POST", `/v1/render-jobs/${job.id}:${action}`, { signal });
    return await download(grant.download_url, (got, total) => bar.set(got, total, `${name}: ${megabytes(got)} of ${megabytes(total)}`), signal);
  } finally {
    bar.element.remove();
  }
}

function cloneForm(job, life) {
  if (job.input_expired_at) {
    return h("p", { class: "card" }, `The stem was deleted on ${when(job.input_expired_at)} (retention): upload it again to render it with other settings.`);
  }
  const fields = paramsFields(job.params);
  const submit = h("button", { type: "submit" }, "Render again");
  const status = h("div", {});
  const form = h("form", { class: "card" }, h("h2", {}, "Clone with other settings"),
    h("p", { class: "hint" }, "The same stem, its analysis reused: only the settings change."), fields.element, submit, status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      const clone = await call("POST", `/v1/render-jobs/${job.id}:clone`, { body: { params: fields.params() }, signal: life.signal });
      window.location.hash = `#/jobs/${clone.id}`;
    } catch (error) {
      if (life.stopped) return;
      fill(status, errorBox(error));
      submit.disabled = false;
    }
  });
  return form;
}

/** The done job's result into `result`: what is still kept of its input and output, played
 * and compared, Download, the metrics and the clone form. */
async function showResult(job, result, life) {
  fill(result, h("h2", {}, "Result"));
  const sides = [];
  const problems = [];
  const wanted = [
    ["download-input", "Input", job.input_expired_at, "The stem"],
    ["download", "Output", job.output_expired_at, "The render"],
  ];
  for (const [action, name, expiredAt, what] of wanted) {
    if (expiredAt) {
      problems.push(h("p", { class: "warning" }, `${what} was deleted on ${when(expiredAt)} (retention).`));
      continue;
    }
    try {
      sides.push({ name, blob: await fetchAudio(job, action, name.toLowerCase(), result, life.signal) });
    } catch (error) {
      if (life.stopped) return;
      problems.push(errorBox(error));
    }
  }
  const compared = sides.length ? await comparison(sides, life) : null;
  if (life.stopped) return;
  const output = sides.find((side) => side.name === "Output");
  let link = null;
  if (output) {
    const name = `${shortId(job.id)}.regen.wav`;
    const url = URL.createObjectURL(output.blob);
    life.onStop(() => URL.revokeObjectURL(url));
    link = h("p", {}, h("a", { class: "button", href: url, download: name }, `Download ${name}`));
  }
  result.append(...problems, compared || "", link || "", metricsTable(job.metrics), cloneForm(job, life));
}

export async function show(main, jobId, life) {
  let lastStage = null;
  const eta = etaTracker();
  const header = h("div", {});
  const live = h("div", { class: "card live" });
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
      await call("POST", `/v1/render-jobs/${jobId}:cancel`, { signal: life.signal });
      announce("Job canceled");
    } catch (error) {
      if (life.stopped) return;
      fill(status, errorBox(error));
    }
    refresh();
  });
  remove.addEventListener("click", async () => {
    if (!window.confirm("Delete this job and its files?")) return;
    try {
      await call("DELETE", `/v1/render-jobs/${jobId}`, { signal: life.signal });
      window.location.hash = "#/jobs";
    } catch (error) {
      if (life.stopped) return;
      fill(status, errorBox(error));
    }
  });

  function draw(job) {
    fill(header,
      h("h1", {}, `Job ${shortId(job.id)} `, badge(job.status)),
      h("p", { class: "muted" }, `Created ${when(job.created_at)} · `,
        job.singer_profile_id ? h("a", { href: `#/profiles/${job.singer_profile_id}` }, "its profile") : "profile deleted",
        ` · ${job.params.style}, intensity ${job.params.intensity}, ${job.params.quality}`));
    const now = stage(job);
    if (now !== lastStage) announce(now); // once per stage, not at each poll
    lastStage = now;
    if (ACTIVE.has(job.status)) {
      const { chunks_done: done, chunks_total: total } = job.progress;
      const left = eta(job);
      bar.set(done, total, total ? `${done} of ${total} chunks` : "");
      stageText.textContent = left === null ? now : `${now} · about ${seconds(left)} left`;
    }
    live.hidden = !ACTIVE.has(job.status);
  }

  let wasShown = null;
  const refresh = poller(life, {
    ask: (signal) => call("GET", `/v1/render-jobs/${jobId}`, { signal }),
    async show(job) {
      fill(status);
      draw(job);
      const changed = job.status !== wasShown;
      wasShown = job.status;
      if (changed && job.status === "failed" && job.error) {
        fill(result, h("p", { class: "error", role: "alert" }, "The render failed: ", job.error.message, " ", h("code", {}, job.error.code)));
      }
      if (changed && job.status === "canceled") fill(result, h("p", {}, "This job was canceled."));
      if (changed && job.status === "done") await showResult(job, result, life);
      return ACTIVE.has(job.status);
    },
    fail: (error) => fill(status, errorBox(error)),
    everyMs: POLL_MS,
  });

  fill(main, header, status, live, result, h("p", {}, remove));
  await refresh();
}
