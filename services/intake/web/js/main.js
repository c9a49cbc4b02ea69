// @ts-check
/**
 * The submitter's page: wires the language switcher and the flows together.
 *
 * Plain ES modules, no build step, nothing loaded from another origin (the server's
 * Content-Security-Policy enforces that). Views are sections of index.html shown one at a
 * time; see submit.js (pick, review, send) and case.js (case number, status, withdraw).
 */

import { setupCase, showAdded, showCreated, showLookup, showStatusOf } from "./case.js";
import { LANGUAGES, chooseLanguage, currentLanguage, setLanguage } from "./i18n.js";
import { setupSubmit, startPick } from "./submit.js";
import { byId, languageChanged, showAlert, showView } from "./ui.js";

async function setupLanguage() {
  const select = /** @type {HTMLSelectElement} */ (byId("language"));
  for (const language of LANGUAGES) {
    const option = document.createElement("option");
    option.value = language.code;
    option.lang = language.code;
    option.textContent = language.name;
    select.append(option);
  }
  try {
    await setLanguage(chooseLanguage(navigator.languages ?? [navigator.language]));
  } catch {
    // The English text already in the page stays; the page still works.
  }
  select.value = currentLanguage();
  select.addEventListener("change", async () => {
    try {
      await setLanguage(select.value);
      languageChanged();
    } catch {
      showAlert("Could not load this language. / No se pudo cargar el idioma. / 言語を読み込めませんでした。");
    }
  });
}

function home() {
  showView("home");
}

async function main() {
  await setupLanguage();
  setupSubmit({
    caseOpened: showCreated,
    mediaAdded: (credentials, added) => void showAdded(credentials, added),
    cancelled: (mode) => (mode.kind === "add" ? showStatusOf(mode) : home()),
  });
  setupCase({
    addMore: (credentials) => startPick({ kind: "add", ...credentials }),
    home,
  });
  byId("start-new").addEventListener("click", () => startPick({ kind: "new" }));
  byId("start-lookup").addEventListener("click", showLookup);
  document.body.dataset.view = "home";
  document.body.dataset.ready = "true";
}

void main();
