// #/profiles: the caller's singer profiles, newest first, and a new one from reference clips.

import { call } from "./api.js";
import { badge, errorBox, fill, h, uid, when } from "./dom.js";
import { dropZone } from "./dropzone.js";
import { pagedList } from "./paged_list.js";
import { addReferences } from "./profile.js";

function profileRow(profile) {
  return h("a", { href: `#/profiles/${profile.id}`, class: "row-link" },
    h("span", { class: "row-title" }, profile.name),
    badge(profile.status),
    h("span", { class: "muted" }, `${profile.references.length} reference(s) · ${when(profile.created_at)}`));
}

export function show(main, _, life) {
  const nameId = uid("profile-name");
  const name = h("input", { id: nameId, name: "name", required: true, maxlength: 200, autocomplete: "off" });
  const picker = dropZone({ label: "Reference clips", multiple: true, hint: "Drop WAV clips of the singer here, or choose them (several are better than one)" });
  const create = h("button", { type: "submit" }, "Create profile");
  const uploads = h("div", { class: "uploads" });
  const form = h("form", { class: "card" },
    h("h2", {}, "New profile"),
    h("label", { for: nameId }, "Name"), name,
    picker.element, create, uploads);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!picker.files().length) {
      fill(uploads, h("p", { class: "error", role: "alert" }, "Choose at least one reference clip."));
      return;
    }
    create.disabled = true;
    fill(uploads);
    let profile = null;
    try {
      profile = await call("POST", "/v1/singer-profiles", { body: { name: name.value }, signal: life.signal });
      await addReferences(profile.id, picker.files(), uploads, life.signal);
    } catch (error) {
      if (life.stopped) return;
      uploads.append(errorBox(error));
      if (!profile) {
        create.disabled = false;
        return;
      }
      // the profile exists: a second click would make another; its page takes more clips
      create.replaceWith(h("a", { class: "button", href: `#/profiles/${profile.id}` }, `Open ${profile.name} to add its references`));
      return;
    }
    if (!life.stopped) window.location.hash = `#/profiles/${profile.id}`;
  });
  const list = pagedList({
    path: "/v1/singer-profiles", row: profileRow, label: "Your profiles", life,
    empty: "No profiles yet: make one from a few clips of the singer.",
  });
  fill(main, h("h1", {}, "Profiles"), form, h("h2", {}, "Your profiles"), list.element);
  list.reload();
}
