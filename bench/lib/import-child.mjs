// Run in a fresh `node` process by bench/run.ts: imports one bundle and reaches its handler.
// Prints {"importMs": import() until the handler is in hand, "sinceStartMs": process start until then}.
import { pathToFileURL } from 'node:url';

const before = performance.now();
const module = await import(pathToFileURL(process.argv[2]).href);
const handler = module.handler;
const after = performance.now();
if (typeof handler !== 'function') {
  process.stderr.write(`${process.argv[2]} exports no handler()\n`);
  process.exit(2);
}
process.stdout.write(JSON.stringify({ importMs: after - before, sinceStartMs: after }));
