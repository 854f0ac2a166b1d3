/** One structured line per request: what happened, never a body or a secret. */
export interface RequestLog {
  readonly route: string;
  readonly source: string;
  readonly status: number;
  readonly ms: number;
  readonly requestId: string;
  readonly type?: string;
  readonly subject?: string;
  readonly eventId?: string;
  readonly error?: string;
}

/** Writes one JSON line to stdout (CloudWatch keeps it as is); `LOG_LEVEL=silent` turns it off. */
export function logRequest(entry: RequestLog): void {
  if (process.env.LOG_LEVEL === 'silent') return;
  process.stdout.write(`${JSON.stringify({ level: entry.status >= 500 ? 'error' : 'info', ...entry })}\n`);
}
