// @ts-check
// A Lambda container, as far as one bundle goes: a bare `node` imports the bundle (its init runs, as
// Lambda's init phase does), prints `ready <init ms>`, then takes one request per stdin line and
// answers one line each, like the invocations of one warm container, one at a time.
//
//   node [--max-old-space-size=… --max-semi-space-size=…] invoke-child.mjs <bundle.mjs>
//
// A request line: {"file": <body file>, "base64": bool, "path", "query", "contentType"} (the body is
// read from the file, as the runtime hands it over: text, or base64 text). An answer line:
// {"statusCode", "body", "ms": handler time, "cpuUs": CPU of the handler call, "rss": peak RSS so
// far in bytes, "heap": V8 heap in use after the call}.
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const started = performance.now();
const { handler } = await import(pathToFileURL(process.argv[2] ?? '').href);
if (typeof handler !== 'function') throw new Error(`${process.argv[2]} exports no handler()`);
process.stdout.write(`ready ${JSON.stringify({ initMs: performance.now() - started, sinceStartMs: performance.now() })}\n`);

/**
 * Peak resident set size of this process so far, bytes: Linux's VmHWM, the high-water mark of this
 * process image. Not getrusage's maxrss, which also counts the parent's size when it forked us.
 */
function peakRss() {
  if (!existsSync('/proc/self/status')) return process.resourceUsage().maxRSS * 1024;
  const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return Number(kb) * 1024;
}

let sequence = 0;
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === '') continue;
  const request = JSON.parse(line);
  const bytes = readFileSync(request.file);
  const body = request.base64 ? bytes.toString('base64') : bytes.toString('utf8');
  const event = {
    version: '2.0',
    routeKey: `POST ${request.path}`,
    rawPath: request.path,
    rawQueryString: request.query ?? '',
    headers: { 'content-type': request.contentType, host: 'api123.execute-api.us-east-1.amazonaws.com' },
    requestContext: {
      http: { method: 'POST', path: request.path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: '' },
      requestId: `invoke-${process.pid}-${++sequence}`,
      routeKey: `POST ${request.path}`,
      stage: '$default',
      timeEpoch: Date.now(),
    },
    body,
    isBase64Encoded: Boolean(request.base64),
  };
  const cpu = process.cpuUsage();
  const at = performance.now();
  const answer = await handler(event, {});
  const ms = performance.now() - at;
  const used = process.cpuUsage(cpu);
  process.stdout.write(
    `${JSON.stringify({
      statusCode: answer.statusCode,
      body: answer.body,
      ms,
      cpuUs: used.user + used.system,
      rss: peakRss(),
      heap: process.memoryUsage().heapUsed,
    })}\n`,
  );
}
