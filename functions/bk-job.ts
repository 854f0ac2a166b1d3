import { createCallbackHandler } from '../lib/http/callback-handler.ts';
import { bkJob } from '../lib/sources/bk-job.ts';

export const handler = createCallbackHandler(bkJob);
