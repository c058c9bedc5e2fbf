// The life of one view: what the router stops when the address moves on. Its signal aborts
// the view's requests, uploads and downloads; its timers and clean-ups (players, object URLs,
// observers) end with it, so nothing of a view left behind keeps running or holding memory.

export function viewLife() {
  const controller = new AbortController();
  const timers = new Set();
  const cleanups = [];
  return {
    signal: controller.signal,
    get stopped() {
      return controller.signal.aborted;
    },
    /** fn() after `ms`, unless the view has stopped by then. */
    later(fn, ms) {
      const timer = window.setTimeout(() => {
        timers.delete(timer);
        if (!controller.signal.aborted) fn();
      }, ms);
      timers.add(timer);
    },
    /** fn() when the view stops (at once if it has). */
    onStop(fn) {
      if (controller.signal.aborted) fn();
      else cleanups.push(fn);
    },
    stop() {
      controller.abort();
      for (const timer of timers) window.clearTimeout(timer);
      timers.clear();
      for (const cleanup of cleanups.splice(0)) cleanup();
    },
  };
}

/** How long to wait before polling again after `failures` failed polls in a row (a 429's
 * Retry-After, when it gave one, is longer): 1 s, 2 s, 4 s … up to 30 s. */
export function backoffMs(baseMs, failures) {
  return Math.min(30_000, baseMs * 2 ** failures);
}
