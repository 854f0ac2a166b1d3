import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { SIZE_BUDGET, xmlFunctions } from '../infra/build/bundle-budget.ts';
import { SERVICE_DIR } from '../infra/local/service-config.ts';
import { measureImports } from './cold-start.ts';
import { measureCpu } from './cpu.ts';
import { measureEndToEnd } from './e2e.ts';
import { buildAllBundles, bytesByPackage, includesPackage } from './lib/bundles.ts';
import { loadTargets } from './lib/targets.ts';

// `npm run bench` (issue 6): every figure is a ratio against a floor measured in the same run,
// interleaved with it. Flags: --quick (short runs, for trying the bench out), --only=size,import,cpu,e2e,
// --strict (exit 1 when a budget fails). Timings are reported here, never asserted in tests.

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const strict = args.includes('--strict');
const only = new Set((args.find((a) => a.startsWith('--only='))?.slice('--only='.length) ?? 'size,import,cpu,e2e').split(','));

const SETTINGS = quick
  ? { importRounds: 5, cpuRounds: 5, cpuBatchMs: 10, e2eSeconds: 2, e2eSegments: 2, e2eWarmupSeconds: 1, connections: 32 }
  : { importRounds: 31, cpuRounds: 11, cpuBatchMs: 20, e2eSeconds: 10, e2eSegments: 5, e2eWarmupSeconds: 2, connections: 32 };

// The handlers under test read these at import or per request: keep the caller's shell out of it.
for (const key of Object.keys(process.env)) {
  if (/^(QUEUE_URL|QUARANTINE_QUEUE_URL|TOKENS_|ALLOW_CIDRS_)/.test(key)) delete process.env[key];
}
process.env.LOG_LEVEL = 'silent';

/** One line of the table. `budget` undefined: reported only. */
interface Row {
  readonly section: 'size' | 'import' | 'cpu' | 'e2e';
  readonly metric: string;
  readonly unit: string;
  readonly subject: number;
  readonly floor: number;
  readonly ratio: number;
  /** `<= 1.25`, `>= 0.85`, `== 0` */
  readonly budget?: { readonly op: '<=' | '>=' | '=='; readonly value: number };
  readonly pass?: boolean;
}

const rows: Row[] = [];
const details: Record<string, unknown> = {};
const started = performance.now();
const say = (line: string) => process.stderr.write(`${line}\n`);

function row(
  section: Row['section'],
  metric: string,
  unit: string,
  subject: number,
  floor: number,
  budget?: Row['budget'],
  pairedRatio?: number,
): void {
  const ratio = budget?.op === '==' ? subject : (pairedRatio ?? subject / floor);
  const pass =
    budget === undefined
      ? undefined
      : budget.op === '<='
        ? ratio <= budget.value
        : budget.op === '>='
          ? ratio >= budget.value
          : ratio === budget.value;
  rows.push({ section, metric, unit, subject, floor, ratio, ...(budget && { budget }), ...(pass !== undefined && { pass }) });
}

say(`jobhooks bench on node ${process.version}, ${cpus().length} CPUs${quick ? ' (--quick: figures are rough)' : ''}`);

// Cold start: size (deterministic) and import time in fresh processes.
if (only.has('size') || only.has('import')) {
  say('building bundles (infra/build/bundle.mjs bundleOptions) ...');
  const { floor, functions } = await buildAllBundles();
  details.bundles = [floor, ...functions].map((bundle) => ({
    name: bundle.name,
    bytes: bundle.bytes,
    fastXmlParser: includesPackage(bundle, 'fast-xml-parser'),
    largestPackages: bytesByPackage(bundle).slice(0, 12),
  }));
  if (only.has('size')) {
    for (const bundle of functions) {
      row('size', `bundle ${bundle.name}`, 'KiB', bundle.bytes / 1024, floor.bytes / 1024, { op: '<=', value: SIZE_BUDGET });
      // Only the XML sender's function may carry the XML parser (1 = bundled, 0 = not).
      const xml = Number(includesPackage(bundle, 'fast-xml-parser'));
      row('size', `fast-xml-parser in ${bundle.name}`, 'bundled', xml, 0, { op: '==', value: Number(xmlFunctions().has(bundle.name)) });
    }
  }
  if (only.has('import')) {
    say(`import time: ${SETTINGS.importRounds} rounds x ${functions.length + 1} fresh node processes ...`);
    const summaries = await measureImports([floor, ...functions], SETTINGS.importRounds);
    details.imports = summaries;
    const base = summaries[0];
    if (base) {
      for (const summary of summaries.slice(1)) {
        row('import', `import ${summary.name}`, 'ms', summary.importMs, base.importMs, { op: '<=', value: 1.15 }, summary.pairedRatio);
        row('import', `process start to handler ${summary.name}`, 'ms', summary.sinceStartMs, base.sinceStartMs);
      }
    }
  }
}

const targets = only.has('cpu') || only.has('e2e') ? await loadTargets() : [];
details.fixtures = targets.map((t) => ({
  function: t.fn.name,
  accepted: t.accepted.map((a) => `${a.fixture.name} ${a.path}`),
  refused: t.refused.map((r) => `${r.name} (${r.status})`),
}));

if (only.has('cpu')) {
  say(
    `CPU per callback: ${targets.reduce((n, t) => n + t.accepted.length, 0)} fixtures, ${SETTINGS.cpuRounds} alternating batches of ~${SETTINGS.cpuBatchMs} ms ...`,
  );
  const cases = await measureCpu(targets, { rounds: SETTINGS.cpuRounds, batchMs: SETTINGS.cpuBatchMs });
  details.cpu = cases;
  for (const c of cases) {
    row('cpu', `cpu ${c.function}/${c.fixture} (${c.format}, ${c.bytes} B)`, 'µs', c.subjectUs, c.floorUs, { op: '<=', value: 2.5 });
  }
}

if (only.has('e2e')) {
  say(`end to end: npm start vs floor server, ${SETTINGS.connections} connections, ${SETTINGS.e2eSeconds} s per route and side ...`);
  const routes = await measureEndToEnd(targets, {
    seconds: SETTINGS.e2eSeconds,
    segments: SETTINGS.e2eSegments,
    warmupSeconds: SETTINGS.e2eWarmupSeconds,
    connections: SETTINGS.connections,
    log: say,
  });
  details.e2e = routes;
  for (const r of routes) {
    const name = `${r.function} ${r.route}`;
    row('e2e', `req/s ${name}`, 'req/s', r.subject.rps, r.floor.rps, { op: '>=', value: 0.85 }, r.rpsRatio);
    row('e2e', `p50 ${name}`, 'ms', r.subject.p50Ms, r.floor.p50Ms);
    row('e2e', `p99 ${name}`, 'ms', r.subject.p99Ms, r.floor.p99Ms);
    row('e2e', `server CPU per request ${name}`, 'µs', r.subject.serverCpuUsPerRequest, r.floor.serverCpuUsPerRequest);
    row(
      'e2e',
      `lost ${name} (${r.subject.answered200All} answered 200, ${r.subject.inQueue} in queue)`,
      'events',
      r.subject.lost,
      r.floor.lost,
      { op: '==', value: 0 },
    );
    row('e2e', `duplicates ${name}`, 'events', r.subject.duplicates, r.floor.duplicates, { op: '==', value: 0 });
    if (r.subject.non200 + r.subject.errors + r.subject.timeouts > 0) {
      row(
        'e2e',
        `non-200/errors/timeouts ${name}`,
        'requests',
        r.subject.non200 + r.subject.errors + r.subject.timeouts,
        r.floor.non200 + r.floor.errors + r.floor.timeouts,
      );
    }
  }
}

// The table.
const format = (value: number, unit: string): string => {
  if (!Number.isFinite(value)) return String(value);
  if (unit === 'events' || unit === 'requests' || unit === 'bundled') return String(value);
  if (unit === 'req/s') return value.toFixed(0);
  return value >= 100 ? value.toFixed(1) : value.toFixed(2);
};
const table = [
  ['metric', 'unit', 'subject', 'floor', 'ratio', 'budget', 'result'],
  ...rows.map((r) => [
    r.metric,
    r.unit,
    format(r.subject, r.unit),
    r.unit === 'bundled' ? '' : format(r.floor, r.unit),
    r.budget?.op === '==' ? '' : `${r.ratio.toFixed(2)}x`,
    r.budget ? (r.budget.op === '==' ? `== ${r.budget.value}` : `${r.budget.op} ${r.budget.value}x`) : '(report)',
    r.pass === undefined ? '' : r.pass ? 'pass' : 'FAIL',
  ]),
];
const widths = table[0]?.map((_, column) => Math.max(...table.map((line) => (line[column] ?? '').length))) ?? [];
const lines = table.map((line) =>
  line.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  '),
);
lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
const failed = rows.filter((r) => r.pass === false);
const seconds = (performance.now() - started) / 1000;
process.stdout.write(`\n${lines.join('\n')}\n`);
process.stdout.write(
  'ratio = subject/floor of the medians; for import and req/s, the median of the ratios of adjacent floor/subject runs.\n' +
    'import: import() to handler in hand, fresh node process; cpu: µs of CPU per callback, handler with an instant queue, log off;\n' +
    'e2e: npm start vs a server that answers after one SendMessage of a constant body, autocannon in this process.\n\n',
);
process.stdout.write(
  `${rows.filter((r) => r.pass !== undefined).length - failed.length} budgets hold, ${failed.length} fail${failed.length ? `: ${failed.map((r) => r.metric).join('; ')}` : ''}. ` +
    `Ran in ${seconds.toFixed(0)} s; results in bench/results.json.\n`,
);
for (const t of targets) {
  if (t.refused.length)
    process.stdout.write(
      `(${t.fn.name}: fixtures refused by design, not benched: ${t.refused.map((r) => `${r.name} ${r.status}`).join(', ')})\n`,
    );
}

await writeFile(
  join(SERVICE_DIR, 'bench', 'results.json'),
  `${JSON.stringify({ node: process.version, cpus: cpus().length, quick, settings: SETTINGS, seconds, rows, details }, null, 2)}\n`,
);
if (strict && failed.length > 0) process.exitCode = 1;
