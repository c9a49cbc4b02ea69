// @ts-check
/**
 * Translations: one JSON file per language in ../i18n/, chosen from navigator.languages,
 * switchable at any time.
 *
 * To add a language: add `i18n/<code>.json` with every key of `en.json` and one line to
 * LANGUAGES below. `dir: "rtl"` is all a right-to-left language needs: the style sheet
 * uses logical properties only (margin-inline-start, not margin-left).
 *
 * Strings are applied to elements marked `data-i18n="key"` (text) and
 * `data-i18n-attr="attribute:key;..."`; `{name}` in a string is replaced by a parameter.
 * English text is written into index.html too, so the page reads right before (or
 * without) the translation file. The choice is not stored anywhere (no cookies, no
 * storage): a shared phone should not remember that someone used this page.
 */

/** @typedef {{code: string, name: string, dir: "ltr"|"rtl"}} Language */

/** @type {Language[]} */
export const LANGUAGES = [
  { code: "en", name: "English", dir: "ltr" },
  { code: "es", name: "Español", dir: "ltr" },
  { code: "ja", name: "日本語", dir: "ltr" },
];

export const FALLBACK = "en";

/** @type {Record<string, string>} */
let fallbackStrings = {};
/** @type {Record<string, string>} */
let strings = {};
let current = FALLBACK;

/**
 * The best language for this browser: the first of navigator.languages we have,
 * matched on the full tag, then on its primary subtag (es-MX -> es).
 *
 * @param {readonly string[]} preferred
 * @returns {string}
 */
export function chooseLanguage(preferred) {
  const codes = LANGUAGES.map((language) => language.code);
  for (const tag of preferred) {
    const lower = tag.toLowerCase();
    if (codes.includes(lower)) {
      return lower;
    }
    const primary = lower.split("-")[0];
    if (codes.includes(primary)) {
      return primary;
    }
  }
  return FALLBACK;
}

/**
 * @param {string} code
 * @returns {Promise<Record<string, string>>}
 */
async function fetchStrings(code) {
  const response = await fetch(`/static/i18n/${code}.json`, { credentials: "omit" });
  if (!response.ok) {
    throw new Error(`translation ${code} is missing (${response.status})`);
  }
  return response.json();
}

/**
 * Load a language and apply it to the document.
 *
 * @param {string} code
 * @returns {Promise<void>}
 */
export async function setLanguage(code) {
  const language = LANGUAGES.find((entry) => entry.code === code) ?? LANGUAGES[0];
  if (Object.keys(fallbackStrings).length === 0) {
    fallbackStrings = await fetchStrings(FALLBACK);
  }
  strings = language.code === FALLBACK ? fallbackStrings : await fetchStrings(language.code);
  current = language.code;
  document.documentElement.lang = language.code;
  document.documentElement.dir = language.dir;
  applyTranslations(document);
}

/** @returns {string} the current language code */
export function currentLanguage() {
  return current;
}

/**
 * The string for `key` in the current language (English if missing), with `{name}`
 * placeholders filled from `params`.
 *
 * @param {string} key
 * @param {Record<string, string|number>} [params]
 * @returns {string}
 */
export function t(key, params = {}) {
  const template = strings[key] ?? fallbackStrings[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name) =>
    name in params ? String(params[name]) : whole,
  );
}

/**
 * Format a number for the current language.
 *
 * @param {number} value
 * @returns {string}
 */
export function formatNumber(value) {
  return new Intl.NumberFormat(current).format(value);
}

/**
 * Translate every marked element under `root`.
 *
 * @param {ParentNode} root
 */
export function applyTranslations(root) {
  for (const element of root.querySelectorAll("[data-i18n]")) {
    const key = element.getAttribute("data-i18n");
    if (key) {
      element.textContent = t(key);
    }
  }
  for (const element of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of (element.getAttribute("data-i18n-attr") ?? "").split(";")) {
      const [attribute, key] = pair.split(":");
      if (attribute && key) {
        element.setAttribute(attribute.trim(), t(key.trim()));
      }
    }
  }
}
