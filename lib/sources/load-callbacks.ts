import { isSourceName, SENDERS, type SourceName } from './registry.ts';
import type { Callbacks } from './source.ts';

/**
 * A registered sender's parsers: the `callbacks` its `<name>/callback.ts` exports, found by the
 * registry's name (no list to keep). For tools and tests that take every sender (replay, fuzz, the
 * bench); a Lambda function imports its one sender's `callback.ts` instead, so this never runs there.
 */
export async function loadCallbacks(name: string): Promise<Callbacks> {
  if (!isSourceName(name)) throw new Error(`no sender is named ${JSON.stringify(name)}`);
  const module: Record<string, unknown> = await import(`./${name}/callback.ts`);
  const { callbacks } = module;
  if (!isCallbacks(callbacks) || callbacks.sender.name !== name) {
    throw new Error(`lib/sources/${name}/callback.ts must export \`callbacks\` = defineCallbacks(<its descriptor>, ...)`);
  }
  return callbacks;
}

/** Every registered sender's parsers, by name. */
export async function loadAllCallbacks(): Promise<ReadonlyMap<SourceName, Callbacks>> {
  const loaded = await Promise.all(SENDERS.map(async (sender) => [sender.name, await loadCallbacks(sender.name)] as const));
  return new Map(loaded);
}

function isCallbacks(value: unknown): value is Callbacks {
  return (
    typeof value === 'object' &&
    value !== null &&
    'sender' in value &&
    'route' in value &&
    typeof value.route === 'function' &&
    'decoders' in value &&
    typeof value.sender === 'object' &&
    value.sender !== null &&
    'name' in value.sender
  );
}
