import { defineSender } from '../sender.ts';
import { ThainEventDataSchema } from './event.ts';

/**
 * Xiaomi Thain: flow status, job status and flow modify callbacks, as forms, each kind on its own
 * URL (docs/senders/thain.md). Thain never resends, whatever it is answered.
 */
export const thain = defineSender({
  name: 'thain',
  title: 'Xiaomi Thain',
  // Thain only sends forms; JSON is taken as a lenient extra for hand-made or proxied callbacks.
  formats: ['form', 'json'],
  // Two equal bodies are two events (a flow paused twice).
  deliversOnce: true,
  routes: {
    flow: { types: ['thain.flow.status'], registers: 'Thain flow callback_url' },
    job: { types: ['thain.job.status'], registers: 'Thain job callback_url', hint: 'add ?job=<name> to tell jobs apart' },
    modify: { types: ['thain.flow.modified'], registers: 'Thain modify_callback_url' },
  },
  data: ThainEventDataSchema,
  describe(event) {
    const { status, terminal, labels } = event.data;
    if (event.type === 'thain.flow.modified') return `Thain flow ${event.subject} ${status}`;
    // A Thain job callback names no job: the label of the registered URL does (`?job=...`).
    return `Thain ${event.data.kind} ${labels.job ?? ''} of flow ${event.data.flowId} execution ${event.subject} ${terminal ? `ended ${status}` : `is ${status}`}`.replace(
      /\s+/g,
      ' ',
    );
  },
});
