import { initCallbackHandler } from '../lib/http/init-handler.ts';
import { thain } from '../lib/sources/thain/callback.ts';

export const handler = await initCallbackHandler(thain);
