// The web app's shell: who the caller is, and which view the address's #fragment names.
// #/render, #/profiles, #/profiles/<id>, #/jobs, #/jobs/<id>, #/account. Each view's
// show(main, id, life) fills <main>; `life` (view_life.js) is stopped when the address moves
// on, which aborts the view's requests and ends its timers.

import { ApiError, call, credentials, keepCredentials, uuid4 } from "./api.js";
import * as account from "./account.js";
import * as job from "./job.js";
import * as jobs from "./jobs.js";
import * as profile from "./profile.js";
import * as profiles from "./profiles.js";
import * as render from "./render.js";
import { viewLife } from "./view_life.js";

const ROUTES = [
  [/^#\/render(?:\?.*)?$/, render, "render", "Render a stem"],
  [/^#\/profiles$/, profiles, "profiles", "Profiles"],
  [/^#\/profiles\/([0-9a-f-]{36})$/, profile, "profiles", "Profile"],
  [/^#\/jobs$/, jobs, "jobs", "Jobs"],
  [/^#\/jobs\/([0-9a-f-]{36})$/, job, "jobs", "Job"],
  [/^#\/account$/, account, "account", "Account"],
];

let current = viewLife();
let firstRoute = true;

function route() {
  current.stop();
  const hash = window.location.hash || "#/render";
  const found = ROUTES.find(([pattern]) => pattern.test(hash));
  if (!found) {
    window.location.replace("#/render");
    return;
  }
  const [pattern, view, section, title] = found;
  if (view !== account && !credentials()) {
    window.location.replace("#/account");
    return;
  }
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  account.showCaller(document.getElementById("account-link"));
  document.title = `${title} · voxregen`;
  const main = document.getElementById("view");
  main.replaceChildren();
  if (!firstRoute) {
    window.scrollTo(0, 0);
    main.focus({ preventScroll: true }); // a screen reader starts from the new view
  }
  firstRoute = false;
  const [, id] = hash.match(pattern);
  const life = viewLife();
  current = life;
  Promise.resolve(view.show(main, id, life)).catch((error) => {
    if (!(error instanceof ApiError && error.code === "aborted")) throw error;
  });
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
    if (!(error instanceof ApiError && error.status === 401)) account.sayFirstVisitFailed(error);
  }
}

// The skip link moves focus, not the address (which would change the view).
document.querySelector(".skip").addEventListener("click", (event) => {
  event.preventDefault();
  document.getElementById("view").focus();
});
// A file dropped outside a drop area would replace the app with the file.
for (const type of ["dragover", "drop"]) document.addEventListener(type, (event) => event.preventDefault());
window.addEventListener("hashchange", route);
signInOnFirstVisit().then(route);
