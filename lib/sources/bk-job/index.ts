import { defineSender } from '../sender.ts';
import { BkJobEventDataSchema } from './event.ts';

/**
 * BlueKing JOB: one JSON callback when a job ends, sometimes labelled as a form (docs/senders/bk-job.md).
 * A non-200 answer makes it send the same body once more, so a resend keeps its event id.
 */
export const bkJob = defineSender({
  name: 'bk-job',
  title: 'BlueKing JOB',
  formats: ['json', 'form'],
  deliversOnce: false,
  routes: {
    job: { types: ['bkjob.job.finished'], registers: 'BlueKing JOB callback_url' },
  },
  data: BkJobEventDataSchema,
  describe(event) {
    const { status, terminal } = event.data;
    const failedStep = event.data.steps.find((step) => step.status === 'failed');
    return `bk-job job ${event.subject} ${terminal ? `ended ${status}` : `is ${status}`}${failedStep ? ` (step ${failedStep.id} failed)` : ''}`;
  },
});
