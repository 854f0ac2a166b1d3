import { createCallbackHandler } from '../lib/http/callback-handler.ts';
import { tencentCi } from '../lib/sources/tencent-ci.ts';

export const handler = createCallbackHandler(tencentCi);
