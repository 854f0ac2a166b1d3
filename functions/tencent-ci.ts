import { initCallbackHandler } from '../lib/http/init-handler.ts';
import { tencentCi } from '../lib/sources/tencent-ci/callback.ts';

export const handler = await initCallbackHandler(tencentCi);
