import { defineSender } from '../sender.ts';
import { CiNodeSchema, CiValueSchema, TencentCiEventDataSchema } from './event.ts';

/**
 * Tencent Cloud Infinite (数据万象): job (`TaskFinish`), workflow (`WorkflowFinish`) and content
 * moderation (`Review*`, detailed or simple form) callbacks, in XML or JSON (docs/senders/tencent-ci.md).
 */
export const tencentCi = defineSender({
  name: 'tencent-ci',
  title: 'Tencent Cloud Infinite',
  formats: ['json', 'xml'],
  deliversOnce: false,
  routes: {
    callback: {
      types: ['tencentci.job.finished', 'tencentci.workflow.finished', 'tencentci.moderation.result', 'tencentci.event.unknown'],
      registers: 'Tencent CI callback URL',
    },
  },
  data: TencentCiEventDataSchema,
  definitions: { ciNode: CiNodeSchema, ciValue: CiValueSchema },
  describe(event) {
    const { status, terminal, message, moderation } = event.data;
    const outcome = terminal ? `ended ${status}` : `is ${status}`;
    if (event.type === 'tencentci.workflow.finished') {
      return `CI workflow ${event.data.workflowName ?? event.data.workflowId ?? ''} run ${event.subject} ${outcome}`;
    }
    if (event.type === 'tencentci.moderation.result' && moderation) {
      // The verdict is what a moderation consumer acts on: 1 sensitive, 2 suspicious (hold for review).
      const { verdict, label } = moderation;
      return `CI moderation ${event.data.eventName} job ${event.subject} ${outcome}: ${verdict}${label ? ` (${label})` : ''}`;
    }
    return `CI ${event.data.tag ?? event.data.eventName} job ${event.subject} ${outcome}${message ? `: ${message}` : ''}`;
  },
});
