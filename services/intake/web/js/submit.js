// @ts-check
/**
 * The "protect photos or videos" flow: pick files, fingerprint them here with progress,
 * review exactly what will be sent, confirm the attestation, solve the proof-of-work and
 * send. Used both to open a case and to add media to an existing one.
 *
 * Decisions:
 * - No thumbnails: someone may be looking over the person's shoulder, so files are listed
 *   by name and size only. File names are shown here but never sent.
 * - Files with too little detail (PDQ quality < 50), unreadable files and duplicates
 *   (same MD5) are listed with the reason and left out; the rest can still be sent.
 * - Files are fingerprinted one at a time, in the order picked: a phone has little memory.
 */

import { addMedia, createCase } from "./api.js";
import { FingerprintError, Fingerprinter } from "./fingerprinter.js";
import { currentLanguage, formatNumber, t } from "./i18n.js";
import { byId, explain, formatBytes, onLanguageChange, setStatus, showView } from "./ui.js";

/**
 * @typedef {{kind: "new"} | {kind: "add", caseNumber: string, secret: string}} Mode
 * @typedef {import("./fingerprinter.js").MediaFingerprints} MediaBody
 * @typedef {object} Entry
 * @property {File} file
 * @property {"queued"|"working"|"done"|"failed"} state
 * @property {number} progress  0..1
 * @property {MediaBody} [media]
 * @property {string} [reason]  i18n key when failed
 * @property {HTMLLIElement} element
 */

/**
 * @typedef {object} Outcomes
 * @property {(created: {case_number: string, secret: string}) => void} caseOpened
 * @property {(mode: {caseNumber: string, secret: string}, added: number) => void} mediaAdded
 * @property {(mode: Mode) => void} cancelled
 */

/** @type {Mode} */
let mode = { kind: "new" };
/** @type {Entry[]} */
let entries = [];
/** @type {Fingerprinter|null} */
let fingerprinter = null;
let running = false;
/** @type {Outcomes} */
let outcomes;

/** @param {Outcomes} handlers */
export function setupSubmit(handlers) {
  outcomes = handlers;
  const input = /** @type {HTMLInputElement} */ (byId("files"));
  input.addEventListener("change", () => {
    addFiles(Array.from(input.files ?? []));
    input.value = "";
  });
  const zone = byId("drop-zone");
  zone.addEventListener("dragenter", () => zone.classList.add("dragging"));
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  // Dropping outside the zone must not make the browser open the photo in the tab.
  for (const type of ["dragover", "drop"]) {
    document.addEventListener(type, (event) => {
      event.preventDefault();
      zone.classList.toggle("dragging", type === "dragover" && zone.contains(/** @type {Node} */ (event.target)));
      if (type === "drop" && document.body.dataset.view === "pick") {
        addFiles(Array.from(/** @type {DragEvent} */ (event).dataTransfer?.files ?? []));
      }
    });
  }
  byId("pick-continue").addEventListener("click", showReview);
  byId("pick-cancel").addEventListener("click", () => {
    const was = mode;
    reset();
    outcomes.cancelled(was);
  });
  const attest = /** @type {HTMLInputElement} */ (byId("attest"));
  attest.addEventListener("change", () => {
    /** @type {HTMLButtonElement} */ (byId("review-send")).disabled = !attest.checked;
  });
  byId("review-back").addEventListener("click", () => showView("pick"));
  byId("review-send").addEventListener("click", () => void send());
  onLanguageChange(() => {
    entries.forEach(renderEntry);
    renderOverall();
    renderMode();
    if (document.body.dataset.view === "review") {
      renderReview();
    }
  });
}

/**
 * Start picking files, for a new case or to add to `next`'s case.
 *
 * @param {Mode} next
 */
export function startPick(next) {
  reset();
  mode = next;
  renderMode();
  showView("pick");
}

function renderMode() {
  const note = byId("pick-adding");
  note.hidden = mode.kind !== "add";
  note.textContent = mode.kind === "add" ? t("pick.adding", { caseNumber: mode.caseNumber }) : "";
  byId("review-send").textContent = t(mode.kind === "add" ? "review.sendAdd" : "review.send");
}

function reset() {
  fingerprinter?.terminate();
  fingerprinter = null;
  running = false;
  entries = [];
  byId("file-list").replaceChildren();
  /** @type {HTMLInputElement} */ (byId("attest")).checked = false;
  /** @type {HTMLButtonElement} */ (byId("review-send")).disabled = true;
  setStatus("review-status", "");
  renderOverall();
}

/** @param {File[]} files */
function addFiles(files) {
  for (const file of files) {
    const element = document.createElement("li");
    element.className = "file";
    const entry = /** @type {Entry} */ ({ file, state: "queued", progress: 0, element });
    entries.push(entry);
    renderEntry(entry);
    byId("file-list").append(element);
  }
  renderOverall();
  void runQueue();
}

async function runQueue() {
  if (running) {
    return;
  }
  running = true;
  fingerprinter ??= new Fingerprinter();
  const worker = fingerprinter;
  for (let entry = nextQueued(); entry && fingerprinter === worker; entry = nextQueued()) {
    const current = entry;
    current.state = "working";
    renderEntry(current);
    try {
      const media = await worker.fingerprint(current.file, (fraction) => {
        current.progress = fraction;
        renderProgress(current);
      });
      if (fingerprinter !== worker) {
        return;
      }
      if (media.type === "image" && media.quality < 50) {
        fail(current, "file.lowQuality");
      } else if (entries.some((other) => other !== current && other.state === "done" && other.media?.md5 === media.md5)) {
        fail(current, "file.duplicate");
      } else {
        current.media = media;
        current.state = "done";
        current.progress = 1;
      }
    } catch (error) {
      if (fingerprinter !== worker) {
        return;
      }
      fail(current, error instanceof FingerprintError ? error.reason : "file.failed");
    }
    renderEntry(current);
    renderOverall();
  }
  running = false;
}

function nextQueued() {
  return entries.find((entry) => entry.state === "queued");
}

/**
 * @param {Entry} entry
 * @param {string} reason
 */
function fail(entry, reason) {
  entry.state = "failed";
  entry.reason = reason;
  entry.progress = 1;
}

/** @param {Entry} entry */
function renderEntry(entry) {
  const name = document.createElement("span");
  name.className = "file-name";
  name.textContent = entry.file.name;
  const size = document.createElement("span");
  size.className = "file-size";
  size.textContent = formatBytes(entry.file.size, currentLanguage());
  const progress = document.createElement("progress");
  progress.max = 100;
  progress.setAttribute("aria-label", t("pick.fileProgress", { name: entry.file.name }));
  const state = document.createElement("span");
  state.className = "file-state";
  state.textContent =
    entry.state === "failed" ? t(entry.reason ?? "file.failed") : t(`pick.state.${entry.state}`);
  entry.element.dataset.state = entry.state;
  entry.element.replaceChildren(name, size, progress, state);
  renderProgress(entry);
}

/** @param {Entry} entry */
function renderProgress(entry) {
  const progress = entry.element.querySelector("progress");
  if (progress) {
    progress.value = Math.round(entry.progress * 100);
  }
  renderOverall(false);
}

function renderOverall(announce = true) {
  const bar = /** @type {HTMLProgressElement} */ (byId("overall-progress"));
  const total = entries.length;
  const finished = entries.filter((entry) => entry.state === "done" || entry.state === "failed").length;
  const sum = entries.reduce((acc, entry) => acc + entry.progress, 0);
  bar.value = total ? Math.round((sum / total) * 100) : 0;
  const ready = entries.filter((entry) => entry.state === "done").length;
  /** @type {HTMLButtonElement} */ (byId("pick-continue")).disabled = !(total > 0 && finished === total && ready > 0);
  if (announce) {
    // Announced per finished file only: a screen reader should not read every percent.
    setStatus(
      "overall-status",
      total === 0
        ? t("pick.none")
        : finished < total
          ? t("pick.working", { done: formatNumber(finished), total: formatNumber(total) })
          : t("pick.finished", { ready: formatNumber(ready), total: formatNumber(total) }),
    );
  }
}

/** @returns {MediaBody[]} */
function mediaToSend() {
  return entries.filter((entry) => entry.state === "done" && entry.media).map((entry) => /** @type {MediaBody} */ (entry.media));
}

function showReview() {
  renderReview();
  showView("review");
}

function renderReview() {
  const list = byId("review-list");
  list.replaceChildren();
  let index = 0;
  for (const entry of entries) {
    const item = document.createElement("li");
    item.dataset.name = entry.file.name;
    const title = document.createElement("p");
    title.className = "review-title";
    if (entry.state !== "done" || !entry.media) {
      item.className = "left-out";
      title.textContent = t("review.leftOut", { name: entry.file.name, reason: t(entry.reason ?? "file.failed") });
      item.append(title);
      list.append(item);
      continue;
    }
    const media = entry.media;
    item.dataset.index = String(index++);
    item.dataset.type = media.type;
    item.dataset.md5 = media.md5;
    title.textContent = t(media.type === "image" ? "review.photo" : "review.video", { name: entry.file.name });
    const facts = document.createElement("dl");
    facts.className = "fingerprints";
    /** @param {string} label @param {string} value */
    const fact = (label, value) => {
      const term = document.createElement("dt");
      term.textContent = label;
      const detail = document.createElement("dd");
      detail.className = "code";
      detail.textContent = value;
      facts.append(term, detail);
    };
    if (media.type === "image") {
      item.dataset.pdq = media.pdq;
      item.dataset.quality = String(media.quality);
      fact(t("review.pdq"), media.pdq);
    } else {
      item.dataset.frames = String(media.frames.length);
      fact(t("review.frames"), t("review.frameCount", { count: formatNumber(media.frames.length) }));
    }
    fact(t("review.md5"), media.md5);
    item.append(title, facts);
    list.append(item);
  }
  byId("payload").textContent = JSON.stringify({ items: mediaToSend() }, null, 1);
}

async function send() {
  const items = mediaToSend();
  const button = /** @type {HTMLButtonElement} */ (byId("review-send"));
  const back = /** @type {HTMLButtonElement} */ (byId("review-back"));
  button.disabled = true;
  back.disabled = true;
  setStatus("review-status", t("review.proving"));
  /** @param {number} done @param {number} total */
  const onWork = (done, total) => {
    if (done >= total) {
      setStatus("review-status", t("review.sending"));
    }
  };
  try {
    if (mode.kind === "new") {
      const created = await createCase(items, onWork);
      reset();
      outcomes.caseOpened(created);
    } else {
      const current = { caseNumber: mode.caseNumber, secret: mode.secret };
      const added = await addMedia(current.caseNumber, current.secret, items, onWork);
      reset();
      outcomes.mediaAdded(current, added.media.length);
    }
  } catch (error) {
    setStatus("review-status", explain(error));
    button.disabled = !(/** @type {HTMLInputElement} */ (byId("attest")).checked);
  } finally {
    back.disabled = false;
  }
}
