/**
 * A sender's timestamp: date, `T` or a space, time, optional fraction, then `Z` or an offset with
 * or without a colon. Tencent CI writes `2024-03-12T18:33:20+0800` for jobs and
 * `2024-03-16 14:54:17+0800` for workflows (docs/senders/tencent-ci.md, Times); JavaScript's Date parser
 * takes neither reliably, so the fields are read here instead.
 */
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?:(Z)|([+-])(\d{2}):?(\d{2}))$/i;

/**
 * Converts a sender's timestamp to RFC 3339 in UTC (`2024-03-12T10:33:20Z`), or `undefined` when it
 * is missing or not a real instant, so the caller falls back to the receive time.
 */
export function toUtcRfc3339(text: string | undefined): string | undefined {
  const match = TIMESTAMP.exec(text?.trim() ?? '');
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction = '', zulu, sign, offH = '0', offM = '0'] = match;
  const fields = [year, month, day, hour, minute, second].map(Number);
  const [y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0] = fields;
  // Date.UTC reads years 0-99 as 19xx; no callback is dated before the year 1000.
  if (y < 1000 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  if (Number(offH) > 23 || Number(offM) > 59) return undefined;
  const local = Date.UTC(y, mo - 1, d, h, mi, s, Number(fraction.padEnd(3, '0').slice(0, 3)));
  // Date.UTC rolls 2024-02-30 over into March; a date that does not survive the trip is not real.
  if (new Date(local).getUTCDate() !== d) return undefined;
  const offsetMinutes = zulu ? 0 : (sign === '-' ? -1 : 1) * (Number(offH) * 60 + Number(offM));
  const iso = new Date(local - offsetMinutes * 60_000).toISOString();
  return fraction ? iso : iso.replace('.000Z', 'Z');
}
