// A waveform drawn from audio the page already holds: decoded by Web Audio at a low rate
// (enough for a picture, and a quarter of the memory of an 8-minute stem at 48 kHz), reduced
// at once to PEAK_COLUMNS min/max pairs (the decoded audio is then let go), drawn on a canvas
// with a playhead that follows a player, and a click that seeks it.

import { h } from "./dom.js";

const DECODE_RATE_HZ = 8000;
const PEAK_COLUMNS = 2000;

/** {lows, highs, duration}: the min and max of each of PEAK_COLUMNS stretches of a WAV blob. */
export async function peaks(blob) {
  const context = new OfflineAudioContext(1, 1, DECODE_RATE_HZ);
  const buffer = await context.decodeAudioData(await blob.arrayBuffer());
  const channels = [...Array(buffer.numberOfChannels).keys()].map((index) => buffer.getChannelData(index));
  const lows = new Float32Array(PEAK_COLUMNS);
  const highs = new Float32Array(PEAK_COLUMNS);
  for (let column = 0; column < PEAK_COLUMNS; column += 1) {
    const start = Math.floor((column * buffer.length) / PEAK_COLUMNS);
    const end = Math.max(start + 1, Math.floor(((column + 1) * buffer.length) / PEAK_COLUMNS));
    let low = 0;
    let high = 0;
    for (const samples of channels) {
      for (let index = start; index < Math.min(end, buffer.length); index += 1) {
        const value = samples[index];
        if (value < low) low = value;
        else if (value > high) high = value;
      }
    }
    lows[column] = low;
    highs[column] = high;
  }
  return { lows, highs, duration: buffer.duration };
}

/** {element}: the waveform of `picture` (from peaks()), following `player` (an <audio>);
 * `life` ends its observer. */
export function waveform(picture, player, label, life) {
  const canvas = h("canvas", { class: "waveform", role: "img", "aria-label": label });
  const playhead = h("div", { class: "playhead", "aria-hidden": "true" });
  const element = h("div", { class: "waveform-box" }, canvas, playhead);

  function draw() {
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
    const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext("2d");
    context.fillStyle = getComputedStyle(canvas).color;
    const middle = height / 2;
    for (let x = 0; x < width; x += 1) {
      const from = Math.floor((x * PEAK_COLUMNS) / width);
      const to = Math.max(from + 1, Math.floor(((x + 1) * PEAK_COLUMNS) / width));
      let low = 0;
      let high = 0;
      for (let column = from; column < to; column += 1) {
        low = Math.min(low, picture.lows[column]);
        high = Math.max(high, picture.highs[column]);
      }
      const top = middle - high * middle;
      context.fillRect(x, top, 1, Math.max(1, middle - low * middle - top));
    }
  }
  canvas.addEventListener("click", (event) => {
    const box = canvas.getBoundingClientRect();
    player.currentTime = ((event.clientX - box.left) / box.width) * (player.duration || picture.duration);
  });
  player.addEventListener("timeupdate", () => {
    playhead.style.left = `${(100 * player.currentTime) / (player.duration || picture.duration)}%`;
  });
  const observer = new ResizeObserver(draw);
  observer.observe(canvas);
  life.onStop(() => observer.disconnect());
  return { element };
}
