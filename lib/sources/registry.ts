import type { SourceName } from '../events/cloud-event.ts';
import { bkJob } from './bk-job/callback.ts';
import type { Source } from './source.ts';
import { tencentCi } from './tencent-ci/callback.ts';
import { thain } from './thain/callback.ts';

/**
 * Every source by name, for tools that handle all of them (replay, tests). Lambda entry points
 * import their one source directly, so each bundle carries only its own parser.
 */
export const SOURCES: Readonly<Record<SourceName, Source>> = {
  'bk-job': bkJob,
  'tencent-ci': tencentCi,
  thain,
};
