import { initCallbackHandler } from '../lib/http/init-handler.ts';
import { bkJob } from '../lib/sources/bk-job/callback.ts';

export const handler = await initCallbackHandler(bkJob);
