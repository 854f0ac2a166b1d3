import { mapStatus, type Status } from '../../events/status.ts';
import { toUtcRfc3339 } from '../../events/time.ts';

/**
 * CI `State`; any other value is `unknown`. `Auditing` is a moderation job still at work (live
 * stream moderation sends interim results with it).
 */
export const TENCENT_CI_STATUS: Readonly<Record<string, Status>> = {
  Submitted: 'pending',
  Running: 'running',
  Auditing: 'running',
  Success: 'succeeded',
  Failed: 'failed',
  Pause: 'paused',
  Cancel: 'cancelled',
};

/** The canonical status of a CI `State` (`unknown` when there is none). */
export function ciStatus(state: string | undefined): Status {
  return state === undefined ? 'unknown' : mapStatus(TENCENT_CI_STATUS, state);
}

/** A CI time in UTC (RFC 3339), or the text as received when it is not a time; none when empty. */
export function utc(text: string | undefined): string | undefined {
  return text === undefined || text === '' ? undefined : (toUtcRfc3339(text) ?? text);
}
