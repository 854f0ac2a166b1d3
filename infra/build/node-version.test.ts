import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { NODE_TARGET } from './bundle.mjs';

const root = join(import.meta.dirname, '..', '..');

/** The Node major that Lambda runs, from `provider.runtime` (`nodejs24.x` → 24). */
function lambdaMajor(): number {
  const service: { provider: { runtime: string } } = parse(readFileSync(join(root, 'serverless.yml'), 'utf8'));
  const match = /^nodejs(\d+)\.x$/.exec(service.provider.runtime);
  if (!match?.[1]) throw new Error(`provider.runtime ${service.provider.runtime} is not nodejsNN.x`);
  return Number(match[1]);
}

describe('one Node for tests, the local run and Lambda', () => {
  it('runs this suite on the Node major that Lambda runs (the pinned `node` devDependency)', () => {
    expect(Number(process.versions.node.split('.')[0])).toBe(lambdaMajor());
  });

  it('bundles for that Node and declares it in engines and the pinned devDependency', () => {
    const pkg: { engines: { node: string }; devDependencies: Record<string, string> } = JSON.parse(
      readFileSync(join(root, 'package.json'), 'utf8'),
    );
    const major = lambdaMajor();
    expect(NODE_TARGET).toBe(`node${major}`);
    expect(pkg.engines.node).toBe(`>=${major}`);
    expect(pkg.devDependencies.node?.split('.')[0]).toBe(String(major));
    expect(pkg.devDependencies['@types/node']?.split('.')[0]).toBe(String(major));
  });
});
