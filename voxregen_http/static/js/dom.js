// Building the page: h() makes elements, and a few formatters say numbers the way the
// README and the CLI say them (LUFS and dBTP to two decimals, sizes in MB).

/** An element: h("button", {class: "x", onclick: f}, "Label", child, …). Attributes whose
 * value is null, undefined or false are left out; on* functions become listeners. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined));
  return element;
}

/** Replace what `element` holds with `children`. */
export function fill(element, ...children) {
  element.replaceChildren(...children.flat().filter((child) => child !== null && child !== undefined));
  return element;
}

/** Say `message` to screen readers (the page's polite live region). */
export function announce(message) {
  const announcer = document.getElementById("announcer");
  announcer.textContent = "";
  window.setTimeout(() => { announcer.textContent = message; }, 50);
}

/** A unique id for a label's `for`. */
let counter = 0;
export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

export function db(value, unit) {
  return value === null || value === undefined ? `silent (no ${unit} reading)` : `${value.toFixed(2)} ${unit}`;
}

export function seconds(value) {
  if (value === null || value === undefined) return "–";
  if (value < 59.95) return `${value.toFixed(1)} s`;
  const whole = Math.round(value);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")} min`;
}

export function megabytes(bytes) {
  return bytes < 100_000 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

export function when(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function shortId(id) {
  return id.slice(0, 8);
}

/** A status badge: the word itself is the signal, the colour only repeats it. */
export function badge(status) {
  return h("span", { class: `badge badge-${status}` }, status);
}

/** An error from the API (or the network) as the page shows it: message and code. */
export function errorBox(error) {
  const code = error.code ? h("code", {}, error.code) : null;
  return h("p", { class: "error", role: "alert" }, h("strong", {}, "Error: "), error.message, code ? " " : null, code);
}

/** A progress bar with a visible text, for assistive technology too. */
export function progressBar(label) {
  const bar = h("progress", { max: 1, value: 0, "aria-label": label });
  const text = h("span", { class: "progress-text" }, "");
  const wrapper = h("div", { class: "progress" }, bar, text);
  return {
    element: wrapper,
    set(done, total, said) {
      bar.max = Math.max(total, 1);
      bar.value = done;
      text.textContent = said;
    },
  };
}
