// The render params a producer chooses (style, intensity, quality), each with what it does in
// one line, for the render form and a clone's. The API's defaults: natural, 0.5, standard.

import { h, uid } from "./dom.js";

export const STYLES = {
  natural: "The singer as they are, with a touch of presence (3 kHz).",
  warm: "Fuller low mids, softer top: a low shelf up at 250 Hz, a high shelf down at 6 kHz.",
  bright: "More edge and clarity: a high shelf up from 4 kHz.",
  airy: "Breath and shimmer: a lift around 10 kHz.",
};

export const QUALITIES = {
  draft: "Fastest: for auditioning takes (the model's least effort).",
  standard: "The default balance of time and quality.",
  high: "Slowest, the model's most effort (the v1 placeholder generator ignores it).",
};

/** {element, params()}: the three fields, set to `initial` (a job's params) or the defaults. */
export function paramsFields(initial = {}) {
  const styleId = uid("style");
  const style = h("select", { id: styleId, name: "style" },
    Object.keys(STYLES).map((name) => h("option", { value: name, selected: name === (initial.style || "natural") }, name)));
  const styleHint = h("p", { class: "hint", id: `${styleId}-hint` });
  style.setAttribute("aria-describedby", styleHint.id);

  const intensityId = uid("intensity");
  const intensity = h("input", {
    id: intensityId, name: "intensity", type: "range", min: 0, max: 1, step: 0.05,
    value: initial.intensity ?? 0.5,
  });
  const intensityShown = h("output", { for: intensityId }, "");
  const intensityHint = h("p", { class: "hint", id: `${intensityId}-hint` }, "How far the voice is moved: 0 leaves it untouched, 1 is the most.");
  intensity.setAttribute("aria-describedby", intensityHint.id);

  const qualityId = uid("quality");
  const quality = h("select", { id: qualityId, name: "quality" },
    Object.keys(QUALITIES).map((name) => h("option", { value: name, selected: name === (initial.quality || "standard") }, name)));
  const qualityHint = h("p", { class: "hint", id: `${qualityId}-hint` });
  quality.setAttribute("aria-describedby", qualityHint.id);

  function said() {
    styleHint.textContent = STYLES[style.value];
    qualityHint.textContent = QUALITIES[quality.value];
    intensityShown.textContent = Number(intensity.value).toFixed(2);
    intensity.setAttribute("aria-valuetext", Number(intensity.value).toFixed(2));
  }
  for (const field of [style, intensity, quality]) field.addEventListener("input", said);
  said();

  const element = h("fieldset", { class: "params" },
    h("legend", {}, "Render settings"),
    h("div", { class: "field" }, h("label", { for: styleId }, "Style"), style, styleHint),
    h("div", { class: "field" }, h("label", { for: intensityId }, "Intensity ", intensityShown), intensity, intensityHint),
    h("div", { class: "field" }, h("label", { for: qualityId }, "Quality"), quality, qualityHint));
  return {
    element,
    params: () => ({ style: style.value, intensity: Number(intensity.value), quality: quality.value }),
  };
}
