import { ConfigError, checkSettingNames, parseTokenValue, readAccessSettings, readQueueSettings } from '../config/settings.ts';
import { ParameterReadError, readSecureStringParameter } from '../config/ssm-parameter.ts';
import { primeContainerConnection } from '../queue/send-event.ts';
import { SOURCE_NAMES } from '../sources/registry.ts';
import type { Callbacks } from '../sources/source.ts';
import { accessPolicy } from './authorize.ts';
import { type CallbackHandler, createCallbackHandler } from './callback-handler.ts';

/**
 * Builds a sender's Lambda handler from its settings, once per container: `functions/*.ts` awaits it
 * at module scope, so it runs in Lambda's init phase. Every setting is checked strictly first
 * (`QUEUE_URL`, `QUARANTINE_QUEUE_URL`, `TOKENS_<SOURCE>` or `TOKENS_<SOURCE>_SSM_NAME`,
 * `ALLOW_CIDRS_<SOURCE>`), and so are the names of the variables: one that looks like a setting
 * but is none (`TOKEN_THAIN`) stops it, because the setting meant is not read. Tokens kept in SSM
 * are read here, once. The registry's descriptors (no parsers) say which senders' names are known.
 *
 * Then it opens the connection to the events queue, so that the first callback's answer does not
 * wait for a TCP and TLS handshake (at most about 2.5 s when the queue does not answer; it never
 * fails the init).
 *
 * A malformed setting or an unreadable parameter rejects with a {@link ConfigError}: the init fails,
 * no request is served with a half-read configuration, the function's log shows the one-line reason,
 * and Lambda runs the init again on the next request (so a fixed SSM parameter is picked up without
 * a deploy). Meanwhile each request fails as a Lambda error: the HTTP API answers 500 and a function
 * URL 502 (senders that retry will retry), and the function's `Errors` alarm fires.
 */
export async function initCallbackHandler(callbacks: Callbacks): Promise<CallbackHandler> {
  checkSettingNames(process.env, SOURCE_NAMES);
  readQueueSettings(process.env);
  const settings = readAccessSettings(callbacks.sender.name, process.env);
  let tokens: readonly string[] = [];
  if (settings.tokens.from === 'variable') tokens = settings.tokens.tokens;
  if (settings.tokens.from === 'ssm') {
    const { parameter, variable } = settings.tokens;
    let value: string;
    try {
      value = await readSecureStringParameter(parameter);
    } catch (error) {
      const reason = error instanceof ParameterReadError ? error.message : `SSM parameter ${parameter} could not be read`;
      throw new ConfigError(`${variable}: ${reason}`, { cause: error });
    }
    tokens = parseTokenValue(value, variable, parameter);
  }
  const handler = createCallbackHandler(callbacks, { access: accessPolicy(tokens, settings.allow) });
  // The connection to the queue, opened now so that the first callback does not wait for it; if it
  // cannot be opened in time the init goes on (the first send opens one).
  await primeContainerConnection();
  return handler;
}
