import { initCallbackHandler } from '../lib/http/init-handler.ts';
import { callbacks } from '../lib/sources/bk-job/callback.ts';

export const handler = await initCallbackHandler(callbacks);
