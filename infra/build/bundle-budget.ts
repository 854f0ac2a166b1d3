import { SENDERS } from '../../lib/sources/registry.ts';
import { loadServiceConfig } from '../local/service-config.ts';

/**
 * The bundle budgets `npm test` holds every function to (`bundle-size.test.ts`, the gate); the bench
 * reports against the same ones.
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
