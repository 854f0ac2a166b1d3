import type { SourceName } from '../../lib/events/cloud-event.ts';

/** One real callback for each route (each a 200 with a healthy queue): its source, path and fixture. */
export const ROUTE_CALLBACKS: ReadonlyArray<{ source: SourceName; path: string; fixture: string }> = [
  { source: 'bk-job', path: '/callbacks/bk-job', fixture: 'bkjob-json-success' },
  { source: 'tencent-ci', path: '/callbacks/tencent-ci', fixture: 'ci-workflowfinish-json' },
  { source: 'thain', path: '/callbacks/thain/flow', fixture: 'thain-flow-success' },
  { source: 'thain', path: '/callbacks/thain/job', fixture: 'thain-job-success' },
  { source: 'thain', path: '/callbacks/thain/modify', fixture: 'thain-modify-pause' },
];
