// The web app's shell: who the caller is, and which view the address's #fragment names.
// #/render, #/profiles, #/profiles/<id>, #/jobs, #/jobs/<id>, #/account. Each view's show()
// fills <main> and returns a function that stops what it started (polling, players).

import { ApiError, call, credentials, keepCredentials, uuid4 } from "./api.js";
import * as account from "./account.js";
import * as job from "./job.js";
import * as jobs from "./jobs.js";
import * as profile from "./profile.js";
import * as profiles from "./profiles.js";
import * as render from "./render.js";

const ROUTES = [
  [/^#\/render(?:\?.*)?$/, render, "render"],
  [/^#\/profiles$/, profiles, "profiles"],
  [/^#\/profiles\/([0-9a-f-]{36})$/, profile, "profiles"],
  [/^#\/jobs$/, jobs, "jobs"],
  [/^#\/jobs\/([0-9a-f-]{36})$/, job, "jobs"],
  [/^#\/account$/, account, "account"],
];

let stopCurrent = () => {};

async function route() {
  stopCurrent();
  stopCurrent = () => {};
  const hash = window.location.hash || "#/render";
  const found = ROUTES.find(([pattern]) => pattern.test(hash));
  if (!found) {
    window.location.replace("#/render");
    return;
  }
  const [pattern, view, section] = found;
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  account.showCaller(document.getElementById("account-link"));
  const main = document.getElementById("view");
  main.replaceChildren();
  const [, id] = hash.match(pattern);
  if (view !== account && !credentials()) {
    window.location.replace("#/account");
    return;
  }
  stopCurrent = (await view.show(main, id)) || (() => {});
  if (document.activeElement === document.body) main.focus({ preventScroll: true });
}

/** A first visit: a development-mode service takes any user id, so one is made and kept; a
 * service that wants API keys answers 401 to it, and the account view asks for a key. */
async function signInOnFirstVisit() {
  if (credentials()) return;
  const caller = { kind: "user_id", value: uuid4() };
  try {
    await call("GET", "/v1/singer-profiles", { query: { limit: 1 }, caller });
    keepCredentials(caller.kind, caller.value);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) throw error;
  }
}

window.addEventListener("hashchange", route);
signInOnFirstVisit().finally(route);
