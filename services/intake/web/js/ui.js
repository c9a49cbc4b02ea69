// @ts-check
/**
 * Small DOM helpers shared by the page's flows: switching views with focus management,
 * the alert line, status lines and explaining API problems in the submitter's language.
 */

import { ApiProblem } from "./api.js";
import { t } from "./i18n.js";

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @returns {T}
 */
export function byId(id) {
  const element = document.getElementById(id);
  if (!element) {
    throw new Error(`#${id} is missing from the page`);
  }
  return /** @type {T} */ (element);
}

/** @type {Set<() => void>} */
const languageListeners = new Set();

/** Re-render dynamic text when the language changes. @param {() => void} listener */
export function onLanguageChange(listener) {
  languageListeners.add(listener);
}

export function languageChanged() {
  for (const listener of languageListeners) {
    listener();
  }
}

/**
 * Show one view, hide the others, move focus to its heading (so screen readers announce
 * where the person is now) and scroll to the top. Sets `data-view` on <body> for tests
 * and styling.
 *
 * @param {string} name  the view's id without "view-"
 */
export function showView(name) {
  clearAlert();
  for (const view of document.querySelectorAll(".view")) {
    view.toggleAttribute("hidden", view.id !== `view-${name}`);
  }
  document.body.dataset.view = name;
  const heading = document.querySelector(`#view-${name} [tabindex="-1"]`);
  if (heading instanceof HTMLElement) {
    heading.focus();
  }
  window.scrollTo(0, 0);
}

/** @param {string} text */
export function showAlert(text) {
  const alert = byId("alert");
  alert.textContent = text;
  alert.hidden = false;
}

export function clearAlert() {
  const alert = byId("alert");
  alert.textContent = "";
  alert.hidden = true;
}

/**
 * @param {string} id
 * @param {string} text
 */
export function setStatus(id, text) {
  byId(id).textContent = text;
}

/**
 * A sentence for a failed request, in the current language.
 *
 * @param {unknown} error
 * @returns {string}
 */
export function explain(error) {
  if (!(error instanceof ApiProblem)) {
    return t("error.unexpected");
  }
  switch (error.error) {
    case "rate_limited":
      return t("error.rate_limited", { minutes: Math.max(1, Math.ceil((error.retryAfter ?? 60) / 60)) });
    case "validation_failed":
    case "too_many_media":
    case "body_too_large": {
      const detail = error.fields.map((field) => field.message).filter(Boolean).slice(0, 2).join("; ");
      return detail ? `${t(`error.${error.error}`)} (${detail})` : t(`error.${error.error}`);
    }
    case "network":
    case "case_not_found":
    case "pow_required":
    case "pow_invalid":
    case "pow_replayed":
    case "unavailable":
    case "idempotency_key_reused":
      return t(`error.${error.error}`);
    default:
      return error.status >= 500 ? t("error.unavailable") : t("error.unexpected");
  }
}

/**
 * Format a byte count for people.
 *
 * @param {number} bytes
 * @param {string} language
 */
export function formatBytes(bytes, language) {
  const units = ["byte", "kilobyte", "megabyte", "gigabyte"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return new Intl.NumberFormat(language, {
    style: "unit",
    unit: units[unit],
    unitDisplay: "short",
    maximumFractionDigits: 1,
  }).format(value);
}
