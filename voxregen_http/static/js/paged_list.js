// A list of the API's, newest first, a page at a time: "Show more" follows next_cursor.

import { ApiError, call } from "./api.js";
import { errorBox, fill, h } from "./dom.js";

export const PAGE_SIZE = 20;

/** {element, reload(), has(id)}: rows made by row(item) in a <ul>, a "Show more" button while the API
 * has more, the error of a failed call in their place. Only the newest load's answer is
 * shown (a filter changed meanwhile, a double click); `life` aborts the loads. */
export function pagedList({ path, query = () => ({}), row, empty, label, life }) {
  const list = h("ul", { class: "rows", "aria-label": label });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Show more");
  const status = h("div", {});
  let cursor = null;
  let count = 0;
  let shown = new Set(); // the ids of the items listed
  let loads = 0;

  async function load(append) {
    loads += 1;
    const mine = loads;
    more.disabled = true;
    let answer;
    try {
      answer = await call("GET", path, {
        query: { ...query(), limit: PAGE_SIZE, cursor: append ? cursor : null },
        signal: life.signal,
      });
    } catch (error) {
      if (mine !== loads || (error instanceof ApiError && error.code === "aborted")) return;
      fill(status, errorBox(error));
      more.disabled = false;
      return;
    }
    if (mine !== loads) return;
    cursor = answer.next_cursor;
    count = append ? count + answer.items.length : answer.items.length;
    if (!append) shown = new Set();
    for (const item of answer.items) shown.add(item.id);
    fill(status, count ? null : h("p", { class: "empty" }, empty));
    if (!append) fill(list);
    list.append(...answer.items.map((item) => h("li", {}, row(item))));
    more.hidden = cursor === null;
    more.disabled = false;
  }
  more.addEventListener("click", () => load(true));
  return { element: h("div", {}, status, list, more), reload: () => load(false), has: (id) => shown.has(id) };
}
