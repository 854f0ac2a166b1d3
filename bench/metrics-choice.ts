import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SIZE_BUDGET } from '../infra/build/bundle-budget.ts';
import { loadServiceConfig, SERVICE_DIR } from '../infra/local/service-config.ts';
import { BENCH_BUILD_DIR, type BuiltBundle, buildBundle, bytesByPackage, FLOOR_ENTRY } from './lib/bundles.ts';
import { measureImports } from './lib/imports.ts';

// How the metrics are written, measured (issue 16): the EMF the project writes into each request's
// log line (lib/metrics/), against Powertools for AWS Lambda's Metrics utility bundled into the same
// function. Each callback function is built twice with the deploy's esbuild options: as it ships,
// and with Powertools Metrics publishing the same per-request metrics around its handler. Prints
// bundle size and import time (fresh `node` processes, interleaved with the floor bundle) for each.
//
//   node_modules/.bin/node --import tsx bench/metrics-choice.ts [--rounds=31]

const rounds = Number(process.argv.find((arg) => arg.startsWith('--rounds='))?.slice('--rounds='.length) ?? 31);
process.env.LOG_LEVEL = 'silent';

/** A function wrapped so that Powertools Metrics writes the metrics the project's log line carries. */
function powertoolsEntry(module: string, source: string): string {
  return `import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { handler as inner } from ${JSON.stringify(join(SERVICE_DIR, `${module}.ts`))};
const metrics = new Metrics({ namespace: process.env.METRICS_NAMESPACE ?? 'jobhooks', serviceName: process.env.METRICS_SERVICE ?? 'jobhooks' });
export const handler = async (event) => {
  const started = performance.now();
  const answer = await inner(event);
  metrics.addDimension('source', ${JSON.stringify(source)});
  metrics.addMetric('Callbacks', MetricUnit.Count, 1);
  metrics.addMetric('AnswerTime', MetricUnit.Milliseconds, performance.now() - started);
  metrics.addMetric('BodyBytes', MetricUnit.Bytes, (event.body ?? '').length);
  metrics.publishStoredMetrics();
  // One directive per flush: a metric under other dimensions is a line of its own.
  const byOutcome = metrics.singleMetric();
  byOutcome.addDimensions({ source: ${JSON.stringify(source)}, outcome: String(answer.statusCode) });
  byOutcome.addMetric('Callbacks', MetricUnit.Count, 1);
  return answer;
};
`;
}

const functions = loadServiceConfig().functions.filter((fn) => fn.sender !== undefined);
const dir = join(BENCH_BUILD_DIR, 'metrics-choice');
await mkdir(dir, { recursive: true });
const floor = await buildBundle('floor', FLOOR_ENTRY);
const bundles: BuiltBundle[] = [floor];
for (const fn of functions) {
  const entry = join(dir, `${fn.name}-powertools.ts`);
  await writeFile(entry, powertoolsEntry(fn.module, fn.sender ?? ''));
  bundles.push(await buildBundle(fn.name, join(SERVICE_DIR, `${fn.module}.ts`)));
  bundles.push(await buildBundle(`${fn.name}+powertools`, entry));
}

/** Bytes of the project's own metric code in a bundle (lib/metrics/). */
const ownMetricBytes = (bundle: BuiltBundle) =>
  Object.values(bundle.metafile.outputs)
    .flatMap((output) => Object.entries(output.inputs))
    .filter(([input]) => input.startsWith('lib/metrics/'))
    .reduce((total, [, { bytesInOutput }]) => total + bytesInOutput, 0);

process.stderr.write(`import time: ${rounds} rounds x ${bundles.length} fresh node processes ...\n`);
const imports = await measureImports(bundles, rounds);
const kib = (bytes: number) => (bytes / 1024).toFixed(1);
const rows = bundles.map((bundle, i) => {
  const timing = imports[i];
  const powertools = bytesByPackage(bundle)
    .filter((entry) => entry.package.startsWith('@aws-lambda-powertools/'))
    .reduce((total, entry) => total + entry.bytes, 0);
  return [
    bundle.name,
    kib(bundle.bytes),
    `${(bundle.bytes / floor.bytes).toFixed(3)}x`,
    bundle.bytes <= floor.bytes * SIZE_BUDGET ? 'within' : 'OVER',
    kib(ownMetricBytes(bundle)),
    kib(powertools),
    timing ? timing.importMs.toFixed(1) : '',
    timing ? `${timing.pairedRatio.toFixed(3)}x` : '',
  ];
});
const header = ['bundle', 'KiB', 'size/floor', `<= ${SIZE_BUDGET}x`, 'lib/metrics KiB', 'Powertools KiB', 'import ms', 'import/floor'];
const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => String(row[column]).length)));
for (const row of [header, widths.map((width) => '-'.repeat(width)), ...rows]) {
  process.stdout.write(`${row.map((cell, column) => String(cell).padStart(widths[column] ?? 0)).join('  ')}\n`);
}
process.stdout.write(`node ${process.version}; import/floor: median over rounds of the ratio to the floor in the same round.\n`);
