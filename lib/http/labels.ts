import { redactText } from './redact.ts';

/**
 * The query string of a registered URL is the user's: every parameter but the token becomes a label
 * of the event (`data.labels`). These say which parameter is the token, and keep every token out of
 * the labels.
 */

/**
 * Whether a query key names the token: `token` in any letter case, with whitespace or control
 * characters around or inside it (`token%20`, `%09token`), or after any number of `amp;` (a URL whose
 * `&` was HTML-escaped before it was registered: `?a=1&amp;token=…`). Only the exact key `token`
 * authenticates; the others are still never labels, because their value is a token all the same.
 */
export function isTokenKey(key: string): boolean {
  const bare = key
    .replace(/[\s\p{Cc}\p{Cf}]+/gu, '')
    .replace(/^(?:amp;)+/i, '')
    .toLowerCase();
  return bare === 'token';
}

/**
 * How many distinct `token` values of one request are redacted as secrets: a sender registers one;
 * a request with thousands would only buy an attacker work.
 */
export const MAX_REQUEST_TOKENS = 8;

/** The request's own token values: every value of a key that {@link isTokenKey}. */
export function tokenValues(query: URLSearchParams): string[] {
  const values: string[] = [];
  for (const [key, value] of query) if (isTokenKey(key)) values.push(value);
  return values;
}

/**
 * The event's labels: every query parameter whose key is not a token key; a repeated one keeps its
 * values comma-joined. A key or value that holds one of `secrets` (a URL with the token in it, or a
 * configured token under another name) has it replaced with `REDACTED`, as in a body.
 */
export function labelsOf(query: URLSearchParams, secrets: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [rawKey, rawValue] of query) {
    if (isTokenKey(rawKey)) continue;
    const key = redactText(rawKey, secrets);
    const value = redactText(rawValue, secrets);
    // defineProperty: a label named `__proto__` stays a plain label.
    Object.defineProperty(labels, key, {
      value: Object.hasOwn(labels, key) ? `${labels[key]},${value}` : value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return labels;
}
