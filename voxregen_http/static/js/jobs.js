// #/jobs: the caller's render jobs, newest first, a page at a time; the active ones' progress
// follows live (each polled until it finishes), a failed one shows its code and message.

import { ApiError, call } from "./api.js";
import { badge, fill, h, shortId, when } from "./dom.js";
import { stage } from "./job.js";
import { PAGE_SIZE, pagedList } from "./paged_list.js";
import { backoffMs } from "./view_life.js";

const POLL_MS = 1500;
const ACTIVE = new Set(["queued", "running"]);

export function show(main, _, life) {
  let rows = new Map(); // the shown list's active jobs: id → update(job)
  let failures = 0;
  const statusId = "jobs-status";
  const filter = h("select", { id: statusId, name: "status" },
    h("option", { value: "" }, "all"),
    ["queued", "running", "done", "failed", "canceled"].map((status) => h("option", { value: status }, status)));

  function row(job) {
    const shownIn = rows;
    const status = h("span", {});
    const parts = h("span", { class: "row-detail" });
    const element = h("a", { href: `#/jobs/${job.id}`, class: "row-link" },
      h("span", { class: "row-title" }, `Job ${shortId(job.id)}`), status, parts);
    function update(current) {
      fill(status, badge(current.status));
      const { chunks_done: done, chunks_total: total } = current.progress;
      const failure = current.status === "failed" && current.error ? `${current.error.message} (${current.error.code})` : null;
      fill(parts,
        h("span", { class: "muted" }, when(current.created_at)),
        ACTIVE.has(current.status) ? h("span", {}, `${stage(current)} · ${done}/${total} chunks`) : null,
        failure ? h("span", { class: "error-text" }, failure) : null);
      if (ACTIVE.has(current.status)) shownIn.set(current.id, update);
      else shownIn.delete(current.id);
    }
    update(job);
    return element;
  }

  const list = pagedList({
    path: "/v1/render-jobs", row, label: "Your jobs", query: () => ({ status: filter.value }),
    empty: "No jobs here yet.", life,
  });

  async function poll() {
    const polled = rows;
    let failed = false;
    try { // a job made since (in another tab, by a script): the first page again, to show it
      const first = await call("GET", "/v1/render-jobs", { query: { status: filter.value, limit: PAGE_SIZE }, signal: life.signal });
      if (first.items.some((job) => !list.has(job.id))) list.reload();
    } catch {
      failed = true;
    }
    for (const [id, update] of [...polled]) {
      try {
        update(await call("GET", `/v1/render-jobs/${id}`, { signal: life.signal }));
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) polled.delete(id); // deleted meanwhile
        else failed = true; // a 429, a 503, offline: it is asked again later
      }
    }
    failures = failed ? failures + 1 : 0;
    life.later(poll, backoffMs(POLL_MS, failures));
  }
  filter.addEventListener("change", () => { rows = new Map(); list.reload(); });
  fill(main, h("h1", {}, "Jobs"),
    h("div", { class: "field inline-field" }, h("label", { for: statusId }, "Status"), filter),
    list.element);
  list.reload();
  life.later(poll, POLL_MS);
}
