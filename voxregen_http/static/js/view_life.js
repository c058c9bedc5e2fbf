import { ApiError } from "./api.js";

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

/** How long to wait before polling again after `failures` failed polls in a row: the base,
 * doubled each time, up to 30 s. */
export function backoffMs(baseMs, failures) {
  return Math.min(30_000, baseMs * 2 ** failures);
}

/** refresh(): ask(signal) for a resource's state now, and show(state) it; again every
 * `everyMs` while show says so (returns true). A failure is fail(error)'s to say, and asked
 * again later, backing off (a 404 ends it: the resource is gone). A refresh called meanwhile
 * (after a delete, a cancel) takes over: the older chain ends at its answer. */
export function poller(life, { ask, show, fail, everyMs }) {
  let asks = 0;
  let failures = 0;
  async function refresh() {
    asks += 1;
    const mine = asks;
    let state;
    try {
      state = await ask(life.signal);
    } catch (error) {
      if (life.stopped || mine !== asks) return;
      fail(error);
      if (!(error instanceof ApiError && error.status === 404)) {
        failures += 1;
        life.later(refresh, backoffMs(everyMs, failures));
      }
      return;
    }
    if (mine !== asks) return;
    failures = 0;
    if (await show(state)) life.later(refresh, everyMs);
  }
  return refresh;
}
