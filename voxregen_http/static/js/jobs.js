// #/jobs: the caller's render jobs, newest first, a page at a time; the active ones' progress
// follows live (each polled until it finishes), a failed one shows its code and message.

import { call } from "./api.js";
import { badge, fill, h, shortId, when } from "./dom.js";
import { stage } from "./job.js";
import { pagedList } from "./paged_list.js";

const POLL_MS = 1500;
const ACTIVE = new Set(["queued", "running"]);

export async function show(main) {
  const rows = new Map();
  let timer = null;
  let stopped = false;
  const statusId = "jobs-status";
  const filter = h("select", { id: statusId, name: "status" },
    h("option", { value: "" }, "all"),
    ["queued", "running", "done", "failed", "canceled"].map((status) => h("option", { value: status }, status)));

  function row(job) {
    const parts = h("span", { class: "row-detail" });
    const element = h("a", { href: `#/jobs/${job.id}`, class: "row-link" },
      h("span", { class: "row-title" }, `Job ${shortId(job.id)}`), h("span", {}), parts);
    function update(current) {
      element.children[1].replaceWith(badge(current.status));
      const { chunks_done: done, chunks_total: total } = current.progress;
      const failure = current.status === "failed" && current.error ? `${current.error.message} (${current.error.code})` : null;
      fill(parts,
        h("span", { class: "muted" }, when(current.created_at)),
        ACTIVE.has(current.status) ? h("span", {}, `${stage(current)} · ${done}/${total} chunks`) : null,
        failure ? h("span", { class: "error-text" }, failure) : null);
      if (ACTIVE.has(current.status)) rows.set(current.id, update);
      else rows.delete(current.id);
    }
    update(job);
    return element;
  }

  const list = pagedList({
    path: "/v1/render-jobs", row, label: "Your jobs", query: () => ({ status: filter.value }),
    empty: "No jobs here yet.",
  });

  async function poll() {
    if (stopped) return;
    for (const [id, update] of [...rows]) {
      try {
        update(await call("GET", `/v1/render-jobs/${id}`));
      } catch {
        rows.delete(id); // deleted meanwhile: it keeps its last state
      }
    }
    timer = window.setTimeout(poll, POLL_MS);
  }
  filter.addEventListener("change", () => { rows.clear(); list.reload(); });
  fill(main, h("h1", {}, "Jobs"),
    h("div", { class: "field inline-field" }, h("label", { for: statusId }, "Status"), filter),
    list.element);
  await list.reload();
  poll();
  return () => { stopped = true; window.clearTimeout(timer); };
}
