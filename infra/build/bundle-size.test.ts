import { beforeAll, describe, expect, it } from 'vitest';
import { type BuiltBundle, buildAllBundles, bytesByPackage, includesPackage } from '../../bench/lib/bundles.ts';
import { loadServiceConfig } from '../local/service-config.ts';
import { SIZE_BUDGET, xmlFunctions } from './bundle-budget.ts';

// The gate of the bundle budgets (bundle-budget.ts): the deterministic half of the cold-start
// budget. Every function of serverless.yml is bundled in memory exactly as `sls package` bundles it (bundleOptions, write:
// false) and compared with the floor bundle, the AWS SDK clients a function needs (SQS and S3)
// alone, bundled the same way.
// No timing here: `npm run bench` measures and reports import time.

const functions = loadServiceConfig().functions;
let floor: BuiltBundle;
const bundles = new Map<string, BuiltBundle>();

beforeAll(async () => {
  const built = await buildAllBundles();
  floor = built.floor;
  for (const bundle of built.functions) bundles.set(bundle.name, bundle);
}, 60_000);

function bundle(name: string): BuiltBundle {
  const found = bundles.get(name);
  if (!found) throw new Error(`no bundle for ${name}`);
  return found;
}

/** What to look at when a bundle is over: its largest packages. */
function largest(b: BuiltBundle): string {
  return bytesByPackage(b)
    .slice(0, 8)
    .map((p) => `${p.package} ${p.bytes} B`)
    .join(', ');
}

describe('bundle size against the SDK-clients floor', () => {
  it('the floor bundle holds the SQS and S3 clients and nothing of the service', () => {
    expect(includesPackage(floor, '@aws-sdk/client-sqs')).toBe(true);
    expect(includesPackage(floor, '@aws-sdk/client-s3')).toBe(true);
    expect(floor.inputs.filter((input) => input.startsWith('lib/') || input.startsWith('functions/'))).toEqual([]);
  });

  it.each(functions.map((fn) => [fn.name] as const))(`%s is at most ${SIZE_BUDGET}x the floor`, (name) => {
    const b = bundle(name);
    const limit = Math.floor(floor.bytes * SIZE_BUDGET);
    expect(
      b.bytes,
      `${name}: ${b.bytes} B > ${limit} B (${SIZE_BUDGET}x floor ${floor.bytes} B); largest: ${largest(b)}`,
    ).toBeLessThanOrEqual(limit);
  });

  it('has one function whose sender takes XML, to check the others against', () => {
    expect(xmlFunctions().size).toBeGreaterThan(0);
  });

  it.each(functions.map((fn) => [fn.name] as const))('%s carries fast-xml-parser only if its sender takes XML', (name) => {
    expect(includesPackage(bundle(name), 'fast-xml-parser'), `fast-xml-parser in ${name}`).toBe(xmlFunctions().has(name));
  });
});
