// A file picker that also takes files dropped on it: a real <input type="file"> (so the
// keyboard and screen readers reach it as any file input) inside a labelled drop area.

import { h, uid } from "./dom.js";

/** {element, files(), clear()}; onChange(files) on each pick or drop. */
export function dropZone({ label, hint, multiple = false, onChange = () => {} }) {
  const id = uid("file");
  const input = h("input", { id, name: "file", type: "file", accept: ".wav,audio/wav,audio/x-wav,audio/wave", multiple, class: "file-input" });
  const chosen = h("p", { class: "chosen", "aria-live": "polite" });
  let files = [];
  function take(list) {
    files = [...list].slice(0, multiple ? undefined : 1);
    chosen.textContent = files.length ? `Chosen: ${files.map((file) => file.name).join(", ")}` : "";
    onChange(files);
  }
  input.addEventListener("change", () => take(input.files));
  const zone = h("div", { class: "dropzone" },
    h("label", { for: id }, h("strong", {}, label), h("span", { class: "hint" }, hint || (multiple ? "Drop WAV files here, or choose them" : "Drop a WAV file here, or choose one"))),
    input, chosen);
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("dragging"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    take(event.dataTransfer.files);
  });
  return {
    element: zone,
    files: () => files,
    clear() { input.value = ""; take([]); },
  };
}
