import * as v from 'valibot';

/** The one status vocabulary every source maps into (docs/contract.md, The event). */
export const STATUSES = [
  'pending',
  'running',
  'waiting',
  'succeeded',
  'failed',
  'skipped',
  'cancelling',
  'cancelled',
  'paused',
  'resumed',
  'unknown',
] as const;

/** Schema of a canonical status. */
export const StatusSchema = v.picklist(STATUSES);
/** A canonical status. */
export type Status = v.InferOutput<typeof StatusSchema>;

const TERMINAL: ReadonlySet<Status> = new Set(['succeeded', 'failed', 'skipped', 'cancelled']);

/** Whether a status is final: `succeeded`, `failed`, `skipped` or `cancelled`. */
export function isTerminal(status: Status): boolean {
  return TERMINAL.has(status);
}

/** Maps a sender's value through its table; a value the table lacks is `unknown`, never an error. */
export function mapStatus<K extends string | number>(table: Readonly<Partial<Record<K, Status>>>, value: K): Status {
  return Object.hasOwn(table, value) ? (table[value] ?? 'unknown') : 'unknown';
}
