// #/account: who the page calls the API as. An API key (made by `voxregen keys create`) for a
// deployed service; a user id for a development-mode one (`make run`), made on a first visit.
// Either is checked against the API before it is kept.

import { ApiError, call, credentials, forgetCredentials, keepCredentials, uuid4 } from "./api.js";
import { errorBox, fill, h, shortId, uid } from "./dom.js";

let firstVisitError = null;

/** The first visit's sign-in could not ask the service (offline, a 5xx): said on this view. */
export function sayFirstVisitFailed(error) {
  firstVisitError = error;
}

export function showCaller(link) {
  const caller = credentials();
  if (!caller) link.textContent = "Sign in";
  else if (caller.kind === "api_key") link.textContent = `Key …${caller.value.slice(-4)}`;
  else link.textContent = `User ${shortId(caller.value)}`;
}

export function show(main) {
  const caller = credentials();
  const status = h("div", { class: "form-status" });
  const keyId = uid("api-key");
  const keyInput = h("input", {
    id: keyId, name: "api_key", type: "password", autocomplete: "off", spellcheck: "false",
    placeholder: "vxr_…", required: true,
  });
  const userId = uid("user-id");
  const userInput = h("input", {
    id: userId, name: "user_id", type: "text", autocomplete: "off", spellcheck: "false",
    value: caller && caller.kind === "user_id" ? caller.value : "", pattern: "[0-9a-fA-F-]{36}", required: true,
  });

  async function check(kind, value) {
    fill(status, h("p", {}, "Checking…"));
    try {
      await call("GET", "/v1/singer-profiles", { query: { limit: 1 }, caller: { kind, value } });
    } catch (error) {
      const hint = error instanceof ApiError && error.status === 401
        ? h("p", { class: "hint" }, kind === "api_key"
          ? "The service did not take this key: it may be revoked or mistyped."
          : "The service did not take a user id: it wants an API key (VOXREGEN_AUTH_MODE=api_keys).")
        : null;
      fill(status, errorBox(error), hint);
      return;
    }
    keepCredentials(kind, value);
    window.location.hash = "#/render";
  }

  const keyForm = h("form", { class: "card", onsubmit: (event) => { event.preventDefault(); check("api_key", keyInput.value.trim()); } },
    h("h2", {}, "API key"),
    h("p", { class: "hint" }, "A deployed service: paste the key ", h("code", {}, "voxregen keys create"), " printed. It is kept in this browser only."),
    h("label", { for: keyId }, "API key"), keyInput,
    h("button", { type: "submit" }, "Use this key"));
  const userForm = h("form", { class: "card", onsubmit: (event) => { event.preventDefault(); check("user_id", userInput.value.trim()); } },
    h("h2", {}, "Development mode"),
    h("p", { class: "hint" }, h("code", {}, "make run"), " trusts any user id (X-User-Id): keep this one to see your profiles and jobs again."),
    h("label", { for: userId }, "User id"), userInput,
    h("div", { class: "actions" },
      h("button", { type: "submit" }, "Use this user id"),
      h("button", { type: "button", class: "secondary", onclick: () => { userInput.value = uuid4(); } }, "New user id")));
  function signOut() {
    const warning = caller.kind === "user_id"
      ? `Forget user ${caller.value}? Copy it first to come back to its profiles and jobs: the next visit makes a new one.`
      : "Forget this API key in this browser?";
    if (!window.confirm(warning)) return;
    forgetCredentials();
    window.location.reload();
  }
  const signOutButton = caller ? h("button", { type: "button", class: "secondary", onclick: signOut }, "Sign out") : null;
  const said = caller
    ? h("p", {}, caller.kind === "api_key" ? `Signed in with key …${caller.value.slice(-4)}.` : `Signed in as user ${caller.value}.`, " ", signOutButton)
    : h("p", {}, "Sign in to use this service.");
  if (firstVisitError) fill(status, errorBox(firstVisitError));
  fill(main, h("h1", {}, "Account"), said, status, h("div", { class: "columns" }, keyForm, userForm));
}
