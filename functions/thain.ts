import { createCallbackHandler } from '../lib/http/callback-handler.ts';
import { thain } from '../lib/sources/thain.ts';

export const handler = createCallbackHandler(thain);
