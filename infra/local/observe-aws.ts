import { AsyncLocalStorage } from 'node:async_hooks';
import type { InitializeMiddleware, MiddlewareStack } from '@smithy/types';

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

/**
 * Adds, once per client, a middleware that reports each call to the listener of the async context
 * it was made in ({@link withAwsCalls}); calls made outside any such context are not reported.
 */
export function observeAwsCalls<I extends object, O extends object>(client: { readonly middlewareStack: MiddlewareStack<I, O> }): void {
  if (observed.has(client)) return;
  observed.add(client);
  const middleware: InitializeMiddleware<I, O> = (next, context) => async (args) => {
    const listener = listeners.getStore();
    const command = context.commandName ?? '';
    try {
      const result = await next(args);
      listener?.({ command, input: args.input });
      return result;
    } catch (error) {
      listener?.({ command, input: args.input, error: error instanceof Error ? error : new Error(String(error)) });
      throw error;
    }
  };
  client.middlewareStack.add(middleware, { step: 'initialize', name: 'jobhooksLocalRunObserver' });
}
