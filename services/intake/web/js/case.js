// @ts-check
/**
 * After a case exists: show its number and secret once (copy, save as a text file), look
 * a case up by number and secret, show its status per item and in total, add more media,
 * and withdraw it after a confirmation.
 *
 * Decisions: the number and secret are kept only in this page's memory, never in
 * storage, so a shared or inspected phone holds no trace after the tab is closed. The
 * status is fetched on demand (a "Refresh" button), not polled.
 */

import { caseStatus, withdrawCase } from "./api.js";
import { caseFileName, caseFileText, parseCaseFile } from "./case-file.js";
import { ACTION_KINDS } from "./contract.js";
import { currentLanguage, formatNumber, t } from "./i18n.js";
import { byId, explain, onLanguageChange, setStatus, showView } from "./ui.js";

/** @typedef {{caseNumber: string, secret: string}} Credentials */
/** @typedef {Record<import("./contract.js").ActionKind, number>} Actions */

/** @type {Credentials|null} */
let credentials = null;
/** @type {any} */
let lastStatus = null;
/** @type {(credentials: Credentials) => void} */
let addMore;

/**
 * @param {{addMore: (credentials: Credentials) => void, home: () => void}} handlers
 */
export function setupCase(handlers) {
  addMore = handlers.addMore;
  byId("copy-case-number").addEventListener("click", () => void copy("done-case-number"));
  byId("copy-secret").addEventListener("click", () => void copy("done-secret"));
  byId("save-file").addEventListener("click", saveFile);
  byId("done-status-button").addEventListener("click", () => void openStatus());
  byId("lookup-form").addEventListener("submit", (event) => {
    event.preventDefault();
    void lookUp();
  });
  byId("lookup-back").addEventListener("click", handlers.home);
  const show = /** @type {HTMLInputElement} */ (byId("lookup-show-secret"));
  show.addEventListener("change", () => {
    /** @type {HTMLInputElement} */ (byId("lookup-secret")).type = show.checked ? "text" : "password";
  });
  const file = /** @type {HTMLInputElement} */ (byId("lookup-file"));
  file.addEventListener("change", () => void readCaseFile(file));
  byId("status-refresh").addEventListener("click", () => void openStatus());
  byId("status-add").addEventListener("click", () => credentials && addMore(credentials));
  byId("status-home").addEventListener("click", () => {
    credentials = null;
    lastStatus = null;
    handlers.home();
  });
  const dialog = /** @type {HTMLDialogElement} */ (byId("withdraw-dialog"));
  byId("status-withdraw").addEventListener("click", () => {
    dialog.showModal();
    byId("withdraw-cancel").focus();
  });
  byId("withdraw-cancel").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => byId("status-withdraw").focus());
  byId("withdraw-confirm").addEventListener("click", () => void withdraw(dialog));
  onLanguageChange(() => {
    if (lastStatus) {
      renderStatus(lastStatus);
    }
  });
}

/** @param {{case_number: string, secret: string}} created */
export function showCreated(created) {
  credentials = { caseNumber: created.case_number, secret: created.secret };
  byId("done-case-number").textContent = created.case_number;
  byId("done-secret").textContent = created.secret;
  setStatus("done-status", "");
  showView("done");
}

export function showLookup() {
  setStatus("lookup-status", "");
  showView("lookup");
}

/**
 * Back to the status view after media were added.
 *
 * @param {Credentials} current
 * @param {number} added
 */
export async function showAdded(current, added) {
  credentials = current;
  await openStatus();
  setStatus("status-status", t("status.added", { count: formatNumber(added) }));
}

/**
 * Show the status of a case whose credentials the page already holds.
 *
 * @param {Credentials} current
 */
export function showStatusOf(current) {
  credentials = current;
  void openStatus();
}

/** @param {string} id */
async function copy(id) {
  const text = byId(id).textContent ?? "";
  try {
    await navigator.clipboard.writeText(text);
    setStatus("done-status", t("done.copied"));
  } catch {
    // No clipboard permission: select the text so the person can copy it themselves.
    const selection = window.getSelection();
    const range = document.createRange();
    range.selectNodeContents(byId(id));
    selection?.removeAllRanges();
    selection?.addRange(range);
    setStatus("done-status", t("done.copyManually"));
  }
}

function saveFile() {
  if (!credentials) {
    return;
  }
  const text = caseFileText({
    caseNumber: credentials.caseNumber,
    secret: credentials.secret,
    origin: window.location.origin,
    intro: t("caseFile.intro"),
    warning: t("caseFile.warning"),
  });
  const url = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = caseFileName(credentials.caseNumber);
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  setStatus("done-status", t("done.saved"));
}

/** @param {HTMLInputElement} input */
async function readCaseFile(input) {
  const file = input.files?.[0];
  input.value = "";
  if (!file) {
    return;
  }
  const parsed = parseCaseFile(await file.text());
  if (!parsed) {
    setStatus("lookup-status", t("lookup.badFile"));
    return;
  }
  /** @type {HTMLInputElement} */ (byId("lookup-case-number")).value = parsed.caseNumber;
  /** @type {HTMLInputElement} */ (byId("lookup-secret")).value = parsed.secret;
  setStatus("lookup-status", t("lookup.fileRead"));
}

async function lookUp() {
  const number = /** @type {HTMLInputElement} */ (byId("lookup-case-number"));
  const secret = /** @type {HTMLInputElement} */ (byId("lookup-secret"));
  number.setAttribute("aria-invalid", String(!number.value.trim()));
  secret.setAttribute("aria-invalid", String(!secret.value.trim()));
  if (!number.value.trim() || !secret.value.trim()) {
    setStatus("lookup-status", t("lookup.missing"));
    (number.value.trim() ? secret : number).focus();
    return;
  }
  setStatus("lookup-status", t("lookup.looking"));
  try {
    const status = await caseStatus(number.value, secret.value);
    credentials = { caseNumber: status.case_number, secret: secret.value.trim() };
    secret.value = "";
    renderStatus(status);
    showView("status");
  } catch (error) {
    setStatus("lookup-status", explain(error));
  }
}

async function openStatus() {
  if (!credentials) {
    showLookup();
    return;
  }
  setStatus("status-status", t("lookup.looking"));
  try {
    const status = await caseStatus(credentials.caseNumber, credentials.secret);
    renderStatus(status);
    if (document.body.dataset.view !== "status") {
      showView("status");
    }
    setStatus("status-status", t("status.updated"));
  } catch (error) {
    if (document.body.dataset.view !== "status") {
      showView("status");
    }
    setStatus("status-status", explain(error));
  }
}

/** @param {HTMLDialogElement} dialog */
async function withdraw(dialog) {
  if (!credentials) {
    return;
  }
  const confirm = /** @type {HTMLButtonElement} */ (byId("withdraw-confirm"));
  confirm.disabled = true;
  try {
    await withdrawCase(credentials.caseNumber, credentials.secret);
    dialog.close();
    await openStatus();
    setStatus("status-status", t("status.withdrawn"));
  } catch (error) {
    dialog.close();
    setStatus("status-status", explain(error));
  } finally {
    confirm.disabled = false;
  }
}

/**
 * @param {Actions} actions
 * @returns {string}
 */
function describeActions(actions) {
  const parts = ACTION_KINDS.filter((kind) => (actions?.[kind] ?? 0) > 0).map((kind) =>
    t("status.actionCount", { action: t(`action.${kind}`), count: formatNumber(actions[kind]) }),
  );
  return parts.length ? parts.join(t("status.listSeparator")) : t("status.noActions");
}

/** @param {any} status */
function renderStatus(status) {
  lastStatus = status;
  const view = byId("view-status");
  view.dataset.caseNumber = status.case_number;
  view.dataset.state = status.status;
  byId("status-case-number").textContent = status.case_number;
  const withdrawn = status.status === "withdrawn";
  byId("status-state").textContent = t(withdrawn ? "status.stateWithdrawn" : "status.stateOpen");
  const dates = new Intl.DateTimeFormat(currentLanguage(), { dateStyle: "medium", timeStyle: "short" });
  const opened = status.opened_at ? dates.format(new Date(status.opened_at)) : "";
  const updated = status.updated_at ? dates.format(new Date(status.updated_at)) : "";
  byId("status-dates").textContent = t("status.dates", { opened, updated });
  byId("status-add").hidden = withdrawn;
  byId("status-withdraw").hidden = withdrawn;

  const totals = status.totals ?? {};
  const rows = [
    ["sharedWith", totals.shared_with ?? 0, "shared_with"],
    ["matchedOn", totals.matched_on ?? 0, "matched_on"],
    ...ACTION_KINDS.map((kind) => [`action.${kind}`, totals.actions?.[kind] ?? 0, kind]),
  ];
  const list = byId("status-totals");
  list.replaceChildren();
  for (const [key, value, name] of rows) {
    const wrapper = document.createElement("div");
    const term = document.createElement("dt");
    term.textContent = t(String(key).startsWith("action.") ? String(key) : `status.${key}`);
    const detail = document.createElement("dd");
    detail.textContent = formatNumber(Number(value));
    wrapper.dataset.total = String(name);
    wrapper.dataset.value = String(value);
    wrapper.append(term, detail);
    list.append(wrapper);
  }

  const body = /** @type {HTMLTableElement} */ (byId("status-media")).tBodies[0];
  body.replaceChildren();
  const counters = { image: 0, video: 0 };
  for (const media of status.media ?? []) {
    const type = media.type === "video" ? "video" : "image";
    counters[type] += 1;
    const row = body.insertRow();
    row.dataset.mediaId = media.media_id;
    row.dataset.sharedWith = String(media.shared_with ?? 0);
    row.dataset.matchedOn = String(media.matched_on ?? 0);
    const label = row.insertCell();
    label.textContent = t(type === "video" ? "status.videoN" : "status.photoN", { n: formatNumber(counters[type]) });
    row.insertCell().textContent = formatNumber(media.shared_with ?? 0);
    row.insertCell().textContent = formatNumber(media.matched_on ?? 0);
    row.insertCell().textContent = describeActions(media.actions);
  }
}
