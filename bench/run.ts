import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { functionMemoryMb, MEMORY_BUDGET, SIZE_BUDGET, xmlFunctions } from '../infra/build/bundle-budget.ts';
import { SERVICE_DIR } from '../infra/local/service-config.ts';
import { MAX_BODY_BYTES } from '../lib/http/read-request.ts';
import { measureColdStarts } from './cold-start.ts';
import { measureCpu } from './cpu.ts';
import { measureEndToEnd } from './e2e.ts';
import { measureEventSizes } from './events.ts';
import { measureHostile } from './hostile.ts';
import { buildAllBundles, bytesByPackage, includesPackage } from './lib/bundles.ts';
import { median } from './lib/stats.ts';
import { loadTargets } from './lib/targets.ts';
import { measureMemory } from './memory.ts';

// `npm run bench`: every figure against a floor measured in the same run, interleaved with it, with
// its budget. Flags: --quick (short runs, for trying the bench out), --only=<sections> (size, cold,
// cpu, hostile, events, memory, e2e; comma-separated), --strict (exit 1 when a budget fails).
// Timings are reported here, never asserted in tests.

const SECTIONS = ['size', 'cold', 'cpu', 'hostile', 'events', 'memory', 'e2e'] as const;
type Section = (typeof SECTIONS)[number];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const strict = args.includes('--strict');
const only = new Set((args.find((a) => a.startsWith('--only='))?.slice('--only='.length) ?? SECTIONS.join(',')).split(','));
const unknown = [...only].filter((name) => !SECTIONS.some((section) => section === name));
if (unknown.length > 0) {
  process.stderr.write(`npm run bench: no section ${unknown.join(', ')}; the sections are ${SECTIONS.join(', ')}\n`);
  process.exit(2);
}
const runs = (section: Section) => only.has(section);

const SETTINGS = quick
  ? {
      importRounds: 3,
      coldRounds: 2,
      coldWarm: 5,
      cpuRounds: 3,
      cpuBatchMs: 5,
      hostileSize: 1024 * 1024,
      hostileRounds: 1,
      memoryCallbacks: 200,
      e2eSeconds: 2,
      e2eSegments: 2,
      e2eWarmupSeconds: 1,
      connections: 32,
    }
  : {
      importRounds: 15,
      coldRounds: 6,
      coldWarm: 15,
      cpuRounds: 7,
      cpuBatchMs: 10,
      hostileSize: MAX_BODY_BYTES,
      hostileRounds: 1,
      memoryCallbacks: 1000,
      e2eSeconds: 6,
      e2eSegments: 3,
      e2eWarmupSeconds: 1,
      connections: 32,
    };

/** CPU per body byte of a hostile body, at most this many times the median real sample's (issue 15). */
const HOSTILE_BUDGET = 5;
/** A callback's first answer after a cold start, at most this many times its warm answers. */
const FIRST_ANSWER_BUDGET = 1.3;
/** CPU per callback, at most this many times the floor's. */
const CPU_BUDGET = 2;
/** Event bytes per raw body byte, for bodies of 1 KiB or more. */
const EVENT_BUDGET = 2.2;
/** Below this body size the fixed envelope of an event decides its size; reported, not budgeted. */
const EVENT_BUDGET_FROM_BYTES = 1024;
/** End-to-end throughput, at least this many times the floor's. */
const E2E_BUDGET = 0.9;

// The handlers under test read these at import or per request: keep the caller's shell out of it.
for (const key of Object.keys(process.env)) {
  if (/^(QUEUE_URL|QUARANTINE_QUEUE_URL|PAYLOAD_BUCKET|TOKENS_|ALLOW_CIDRS_|AWS_ENDPOINT_URL)/.test(key)) delete process.env[key];
}
process.env.LOG_LEVEL = 'silent';

/** One line of the table. `budget` undefined: reported only. */
interface Row {
  readonly section: Section;
  readonly metric: string;
  readonly unit: string;
  readonly subject: number;
  readonly floor: number;
  readonly ratio: number;
  /** `<= 1.25`, `>= 0.9`, `== 0` */
  readonly budget?: { readonly op: '<=' | '>=' | '=='; readonly value: number };
  readonly pass?: boolean;
}

const rows: Row[] = [];
const details: Record<string, unknown> = {};
const started = performance.now();
const say = (line: string) => process.stderr.write(`${line}\n`);

function row(
  section: Section,
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

const needsBundles = runs('size') || runs('cold') || runs('memory');
const bundles = needsBundles ? await buildAllBundles() : undefined;
if (bundles) {
  const { floor, functions } = bundles;
  details.bundles = [floor, ...functions].map((bundle) => ({
    name: bundle.name,
    bytes: bundle.bytes,
    fastXmlParser: includesPackage(bundle, 'fast-xml-parser'),
    largestPackages: bytesByPackage(bundle).slice(0, 12),
  }));
  if (runs('size')) {
    for (const bundle of functions) {
      row('size', `bundle ${bundle.name}`, 'KiB', bundle.bytes / 1024, floor.bytes / 1024, { op: '<=', value: SIZE_BUDGET });
      // Only the XML sender's function may carry the XML parser (1 = bundled, 0 = not).
      const xml = Number(includesPackage(bundle, 'fast-xml-parser'));
      row('size', `fast-xml-parser in ${bundle.name}`, 'bundled', xml, 0, { op: '==', value: Number(xmlFunctions().has(bundle.name)) });
    }
  }
  if (runs('cold')) {
    say(
      `cold starts against TLS: ${SETTINGS.coldRounds} rounds x ${functions.length} functions x (function, floor), ${SETTINGS.coldWarm} warm answers each ...`,
    );
    const colds = await measureColdStarts(floor, functions, { rounds: SETTINGS.coldRounds, warm: SETTINGS.coldWarm, log: say });
    details.cold = colds;
    for (const c of colds) {
      row('cold', `init ${c.function} (import to handler, queue connection opened)`, 'ms', c.subject.initMs, c.floor.initMs);
      row('cold', `first answer ${c.function}`, 'ms', c.subject.firstMs, c.floor.firstMs);
      row(
        'cold',
        `init and first answer ${c.function} (what a sender waits on a cold start)`,
        'ms',
        c.subject.initAndFirstMs,
        c.floor.initAndFirstMs,
      );
      row(
        'cold',
        `first answer / warm answers ${c.function}`,
        'x',
        c.subject.firstToWarm,
        c.floor.firstToWarm,
        { op: '<=', value: FIRST_ANSWER_BUDGET },
        c.subject.firstToWarm,
      );
      row(
        'cold',
        `TLS handshakes during the first answer ${c.function}`,
        'handshakes',
        c.subject.handshakesAfterFirst - c.subject.handshakesAtInit,
        c.floor.handshakesAfterFirst - c.floor.handshakesAtInit,
        { op: '==', value: 0 },
      );
    }
  }
}

const targets = runs('cpu') || runs('e2e') || runs('events') || runs('memory') || runs('hostile') ? await loadTargets() : [];
details.fixtures = targets.map((t) => ({
  function: t.fn.name,
  accepted: t.accepted.map((a) => `${a.fixture.name} ${a.path}`),
  refused: t.refused.map((r) => `${r.name} (${r.status})`),
}));

let genuineNsPerByte = Number.NaN;
if (runs('cpu') || runs('hostile')) {
  say(
    `CPU per callback: ${targets.reduce((n, t) => n + t.accepted.length, 0)} samples, ${SETTINGS.cpuRounds} alternating batches of ~${SETTINGS.cpuBatchMs} ms ...`,
  );
  const cases = await measureCpu(targets, { rounds: SETTINGS.cpuRounds, batchMs: SETTINGS.cpuBatchMs });
  details.cpu = cases;
  genuineNsPerByte = median(cases.map((c) => (c.subjectUs * 1000) / c.bytes));
  if (runs('cpu')) {
    for (const c of cases) {
      row(
        'cpu',
        `cpu ${c.function}/${c.fixture} (${c.format}, ${c.bytes} B)`,
        'µs',
        c.subjectUs,
        c.floorUs,
        { op: '<=', value: CPU_BUDGET },
        c.pairedRatio,
      );
    }
  }
}

if (runs('hostile')) {
  say(
    `hostile bodies at ${SETTINGS.hostileSize} bytes, CPU per byte against the median sample's (${genuineNsPerByte.toFixed(1)} ns/B) ...`,
  );
  const hostile = await measureHostile({ size: SETTINGS.hostileSize, rounds: SETTINGS.hostileRounds, log: say });
  details.hostile = { medianSampleNsPerByte: genuineNsPerByte, cases: hostile };
  for (const target of [...new Set(hostile.map((h) => h.target))]) {
    const worst = hostile.filter((h) => h.target === target).reduce((a, b) => (b.nsPerByte > a.nsPerByte ? b : a));
    row(
      'hostile',
      `worst ${target} body: ${worst.name} (${worst.status}, ${(worst.cpuUs / 1000).toFixed(0)} ms)`,
      'ns/B',
      worst.nsPerByte,
      genuineNsPerByte,
      { op: '<=', value: HOSTILE_BUDGET },
    );
  }
  row('hostile', `hostile bodies answered 5xx, of ${hostile.length}`, 'bodies', hostile.filter((h) => h.status >= 500).length, 0, {
    op: '==',
    value: 0,
  });
  const eventRatios = hostile
    .filter((h) => h.eventBytes !== undefined)
    .map((h) => ({ name: h.name, ratio: (h.eventBytes ?? 0) / h.bytes }));
  const fattest = eventRatios.reduce((a, b) => (b.ratio > a.ratio ? b : a), { name: '', ratio: 0 });
  row('hostile', `largest event per body byte: ${fattest.name}`, 'x', fattest.ratio, 1);
}

if (runs('events')) {
  say('event bytes against body bytes, every sample ...');
  const sizes = await measureEventSizes(targets);
  details.events = sizes;
  for (const target of targets) {
    const mine = sizes.filter((size) => size.function === target.fn.name);
    const large = mine.filter((size) => size.rawBytes >= EVENT_BUDGET_FROM_BYTES);
    const small = mine.filter((size) => size.rawBytes < EVENT_BUDGET_FROM_BYTES);
    const worst = (list: typeof mine) => list.reduce((a, b) => (b.ratio > a.ratio ? b : a));
    if (large.length > 0) {
      const w = worst(large);
      row('events', `event/body ${target.fn.name}, ${large.length} bodies of 1 KiB or more: worst ${w.sample}`, 'x', w.ratio, 1, {
        op: '<=',
        value: EVENT_BUDGET,
      });
    }
    if (small.length > 0) {
      const w = worst(small);
      row(
        'events',
        `event/body ${target.fn.name}, ${small.length} smaller bodies: worst ${w.sample} (${w.rawBytes} B, envelope ${w.envelopeBytes} B)`,
        'x',
        w.ratio,
        1,
      );
    }
    row(
      'events',
      `SQS 64 KiB chunks per callback ${target.fn.name} (most, of its samples)`,
      'chunks',
      Math.max(...mine.map((m) => m.sqsChunks)),
      1,
    );
  }
}

if (runs('memory') && bundles) {
  say(`memory: ${SETTINGS.memoryCallbacks} callbacks then the largest body, each function and the floor in fresh processes ...`);
  const memory = await measureMemory(bundles.floor, bundles.functions, targets, { callbacks: SETTINGS.memoryCallbacks, log: say });
  details.memory = memory;
  for (const m of memory) {
    row('memory', `peak RSS ${m.function}, ${SETTINGS.memoryCallbacks} callbacks then ${m.largest}`, 'MB', m.subjectPeakMb, m.floorPeakMb, {
      op: '<=',
      value: MEMORY_BUDGET,
    });
    row('memory', `peak RSS ${m.function} of memorySize ${m.memoryMb} MB`, 'MB', m.subjectPeakMb, m.memoryMb, { op: '<=', value: 0.5 });
  }
}

if (runs('e2e')) {
  say(
    `end to end: npm start against the floor (npm start serving the floor handler), ${SETTINGS.connections} connections, ${SETTINGS.e2eSeconds} s per route and side ...`,
  );
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
    row('e2e', `req/s ${name}`, 'req/s', r.subject.rps, r.floor.rps, { op: '>=', value: E2E_BUDGET }, r.rpsRatio);
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
  if (['events', 'requests', 'bundled', 'handshakes', 'bodies', 'chunks'].includes(unit)) return String(value);
  if (unit === 'req/s') return value.toFixed(0);
  return value >= 100 ? value.toFixed(1) : value.toFixed(2);
};
const table = [
  ['metric', 'unit', 'subject', 'floor', 'ratio', 'budget', 'result'],
  ...rows.map((r) => [
    r.metric,
    r.unit,
    format(r.subject, r.unit),
    r.unit === 'bundled' || r.unit === 'bodies' ? '' : format(r.floor, r.unit),
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
  [
    'ratio = subject/floor of the medians; for cpu and req/s the median of the ratios of adjacent floor and subject runs.',
    'size: the function bundle against the floor bundle (the SDK clients, sending the raw body), both bundled as sls package does.',
    'cold: fresh processes of the bundle and of the floor under Lambda heap flags, local SQS and S3 behind TLS; init = import() to handler.',
    'cpu: µs of CPU per callback, handler with an instant queue and the log off, against decoding the body with the same family',
    '  of decoder and writing {raw, value} with JSON.stringify; hostile: CPU per byte at the largest body, against the median sample.',
    'events: event bytes per body byte; memory: peak RSS (VmHWM) of the function process against the floor process, same callbacks.',
    'e2e: npm start against npm start serving the floor handler (raw body, three attributes), autocannon in this process.',
    '',
  ].join('\n'),
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
  `${JSON.stringify({ node: process.version, cpus: cpus().length, memoryMb: functionMemoryMb(), quick, settings: SETTINGS, seconds, rows, details }, null, 2)}\n`,
);
if (strict && failed.length > 0) process.exitCode = 1;
