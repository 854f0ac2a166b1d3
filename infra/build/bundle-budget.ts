import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SENDERS } from '../../lib/sources/registry.ts';
import { loadServiceConfig, SERVICE_DIR } from '../local/service-config.ts';

/**
 * The bundle budgets `npm test` holds every function to (`bundle-size.test.ts`, the gate); the bench
 * reports against the same ones, and measures memory against the function's memory size.
 */

/** A function bundle is at most this many times the floor bundle (the SQS and S3 clients alone, bundled the same way). */
export const SIZE_BUDGET = 1.25;

/**
 * The functions allowed to carry an XML parser: those whose sender takes XML (`formats` in its
 * descriptor). Every other bundle must stay free of fast-xml-parser.
 */
export function xmlFunctions(): ReadonlySet<string> {
  const xmlSenders: ReadonlySet<string> = new Set(SENDERS.filter((sender) => sender.formats.includes('xml')).map((sender) => sender.name));
  return new Set(
    loadServiceConfig()
      .functions.filter((fn) => fn.sender !== undefined && xmlSenders.has(fn.sender))
      .map((fn) => fn.name),
  );
}

/** A function's peak RSS is at most this many times the floor bundle's, over the same callbacks (`npm run bench`). */
export const MEMORY_BUDGET = 1.25;

/** The memory every function is given (`provider.memorySize` of serverless.yml), in MB. */
export function functionMemoryMb(file = join(SERVICE_DIR, 'serverless.yml')): number {
  const document: unknown = parse(readFileSync(file, 'utf8'));
  const provider = typeof document === 'object' && document !== null && 'provider' in document ? document.provider : undefined;
  const memory = typeof provider === 'object' && provider !== null && 'memorySize' in provider ? Number(provider.memorySize) : NaN;
  if (!Number.isInteger(memory)) throw new Error(`${file}: provider.memorySize is not a number of MB`);
  return memory;
}
