import { AsyncLocalStorage } from 'node:async_hooks';

/** One AWS call a handler made, as the local run sees it: after the service answered, or failed. */
export interface AwsCall {
  /** The SDK's name of the operation (`SendMessageCommand`, `PutObjectCommand`). */
  readonly command: string;
  /** The command's input, as the handler gave it. */
  readonly input: unknown;
  /** Set when the call failed (after its retries). */
  readonly error?: Error;
}

/** Told of each AWS call made in its async context. */
export type AwsCallListener = (call: AwsCall) => void;

const listeners = new AsyncLocalStorage<AwsCallListener>();

/**
 * Runs `work` with `listener` told of every AWS call made on its behalf (through every `await`,
 * however deep): the local run learns which message and which objects one request's handler wrote,
 * without the pipeline knowing it is watched, and whichever queue (embedded or `QUEUE_URL`) it is.
 */
export function withAwsCalls<T>(listener: AwsCallListener, work: () => T): T {
  return listeners.run(listener, work);
}

const observed = new WeakSet<object>();

/** An SDK client, as far as watching its calls goes. */
interface ObservableClient {
  send(command: { readonly input: unknown }, ...rest: never[]): Promise<unknown>;
}

/**
 * Wraps, once per client, its `send` so that each call is reported to the listener of the async
 * context it was made in ({@link withAwsCalls}); calls made outside any such context are not
 * reported. `send` and not a middleware: the clients resolve their middleware stack once per
 * command type and keep it (`cacheMiddleware`), and a function's init already sends (it opens its
 * connection to the queue), so a middleware added after that would never run.
 */
export function observeAwsCalls(client: ObservableClient): void {
  if (observed.has(client)) return;
  observed.add(client);
  const send = client.send.bind(client);
  client.send = async (command, ...rest) => {
    const listener = listeners.getStore();
    const name = command.constructor.name;
    try {
      const result = await send(command, ...rest);
      listener?.({ command: name, input: command.input });
      return result;
    } catch (error) {
      listener?.({ command: name, input: command.input, error: error instanceof Error ? error : new Error(String(error)) });
      throw error;
    }
  };
}
