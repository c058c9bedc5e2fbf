// A list of the API's, newest first, a page at a time: "Show more" follows next_cursor.

import { call } from "./api.js";
import { errorBox, fill, h } from "./dom.js";

export const PAGE_SIZE = 20;

/** {element, reload(), items()}: rows made by row(item) in a <ul>, a "Show more" button while
 * the API has more, the error of a failed call in their place. */
export function pagedList({ path, query = () => ({}), row, empty, label }) {
  const list = h("ul", { class: "rows", "aria-label": label });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Show more");
  const status = h("div", {});
  let cursor = null;
  let items = [];

  async function load(append) {
    try {
      const answer = await call("GET", path, { query: { ...query(), limit: PAGE_SIZE, cursor: append ? cursor : null } });
      items = append ? [...items, ...answer.items] : answer.items;
      cursor = answer.next_cursor;
      fill(status);
      if (!append) fill(list);
      list.append(...answer.items.map((item) => h("li", {}, row(item))));
      if (!items.length) fill(status, h("p", { class: "empty" }, empty));
      more.hidden = cursor === null;
    } catch (error) {
      fill(status, errorBox(error));
    }
  }
  more.addEventListener("click", () => load(true));
  return {
    element: h("div", {}, status, list, more),
    reload: () => load(false),
    items: () => items,
  };
}
