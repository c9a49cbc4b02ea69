// @ts-check
/**
 * The "save as file" text: case number and secret with a few words on what they are for,
 * and reading them back from such a file (for "open my saved file" on the status form).
 *
 * The two machine lines (HAVEN-CASE, HAVEN-SECRET) are never translated, so a file saved
 * in one language can be opened in another.
 */

/**
 * @param {{caseNumber: string, secret: string, origin: string, intro: string, warning: string}} facts
 * @returns {string}
 */
export function caseFileText({ caseNumber, secret, origin, intro, warning }) {
  return [intro, "", `HAVEN-CASE: ${caseNumber}`, `HAVEN-SECRET: ${secret}`, "", `${origin}/`, "", warning, ""].join("\n");
}

/**
 * @param {string} text
 * @returns {{caseNumber: string, secret: string} | null}
 */
export function parseCaseFile(text) {
  const caseNumber = /^HAVEN-CASE:\s*(\S+)\s*$/m.exec(text)?.[1];
  const secret = /^HAVEN-SECRET:\s*(\S+)\s*$/m.exec(text)?.[1];
  return caseNumber && secret ? { caseNumber, secret } : null;
}

/** @param {string} caseNumber */
export function caseFileName(caseNumber) {
  return `haven-case-${caseNumber.replace(/[^A-Za-z0-9-]/g, "")}.txt`;
}
