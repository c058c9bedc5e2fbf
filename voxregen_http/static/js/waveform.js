// A waveform drawn from audio the page already holds: decoded by Web Audio, one min/max pair
// per pixel column on a canvas, a playhead that follows a player, and a click that seeks it.

import { h } from "./dom.js";

const DECODE_RATE_HZ = 48000;

/** The audio of a WAV blob, decoded (resampled to 48 kHz: enough for a picture). */
export async function decode(blob) {
  const context = new OfflineAudioContext(1, 1, DECODE_RATE_HZ);
  return context.decodeAudioData(await blob.arrayBuffer());
}

function peaks(buffer, columns) {
  const channels = [...Array(buffer.numberOfChannels).keys()].map((index) => buffer.getChannelData(index));
  const perColumn = Math.max(1, Math.floor(buffer.length / columns));
  const lows = new Float32Array(columns);
  const highs = new Float32Array(columns);
  for (let column = 0; column < columns; column += 1) {
    let low = 0;
    let high = 0;
    const start = column * perColumn;
    const end = Math.min(buffer.length, start + perColumn);
    for (const samples of channels) {
      for (let index = start; index < end; index += 1) {
        const value = samples[index];
        if (value < low) low = value;
        else if (value > high) high = value;
      }
    }
    lows[column] = low;
    highs[column] = high;
  }
  return { lows, highs };
}

/** {element}: the waveform of `buffer`, following `player` (an <audio>). */
export function waveform(buffer, player, label) {
  const canvas = h("canvas", { class: "waveform", role: "img", "aria-label": label });
  const playhead = h("div", { class: "playhead", "aria-hidden": "true" });
  const element = h("div", { class: "waveform-box" }, canvas, playhead);

  function draw() {
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
    const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
    canvas.width = width;
    canvas.height = height;
    const { lows, highs } = peaks(buffer, width);
    const context = canvas.getContext("2d");
    context.fillStyle = getComputedStyle(canvas).color;
    const middle = height / 2;
    for (let column = 0; column < width; column += 1) {
      const top = middle - highs[column] * middle;
      const bottom = middle - lows[column] * middle;
      context.fillRect(column, top, 1, Math.max(1, bottom - top));
    }
  }
  function follow() {
    const duration = player.duration || buffer.duration;
    playhead.style.left = `${(100 * player.currentTime) / duration}%`;
  }
  canvas.addEventListener("click", (event) => {
    const box = canvas.getBoundingClientRect();
    player.currentTime = ((event.clientX - box.left) / box.width) * (player.duration || buffer.duration);
  });
  player.addEventListener("timeupdate", follow);
  new ResizeObserver(draw).observe(canvas);
  return { element };
}
