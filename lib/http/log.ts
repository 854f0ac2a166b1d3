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
  /** True when SQS did not take the event in time and the spool did (answered 200; `error` says why). */
  readonly spooled?: boolean;
  readonly error?: string;
}

/** Where log lines go: stdout (CloudWatch keeps each line as is), unless the local run batches them. */
let writeLine: (line: string) => void = (line) => {
  process.stdout.write(line);
};

/** Sends log lines elsewhere (the local run batches its output under load). */
export function setLogWriter(writer: (line: string) => void): void {
  writeLine = writer;
}

/** Writes one JSON line; `LOG_LEVEL=silent` turns it off. */
export function logRequest(entry: RequestLog): void {
  if (process.env.LOG_LEVEL === 'silent') return;
  writeLine(`${JSON.stringify({ level: entry.status >= 500 ? 'error' : 'info', ...entry })}\n`);
}
