import * as v from 'valibot';
import { decodeXml } from '../../decode/xml.ts';
import { bodyIssue, InvalidPayloadError } from '../../errors.ts';
import { toUtcRfc3339 } from '../../events/time.ts';
import { defineCallbacks, type Route } from '../source.ts';
import type { CiNode } from './event.ts';
import { tencentCi } from './index.ts';
import { type CiDraft, jobDraft, workflowDraft } from './jobs.ts';
import { isSimpleModeration, moderationDetailDraft, moderationSimpleDraft } from './moderation.ts';
import { ciStatus } from './status.ts';
import { asList, asNode, asText, parse, Text, toCiTree, WHAT } from './tree.ts';

export type { CiNode, CiValue } from './event.ts';
export { TENCENT_CI_STATUS } from './status.ts';
export { toCiTree } from './tree.ts';

/**
 * An `EventName` this project does not know: accepted, never rejected, as `tencentci.event.unknown`
 * with the real name in `data.eventName`; the callback itself is in `data.raw`. Its subject is the
 * first JobId or RunId it carries, else the name.
 */
function unknownDraft(tree: CiNode, eventName: string): CiDraft {
  const job = asNode(asList(tree.JobsDetail)[0]);
  const execution = asNode(tree.WorkflowExecution);
  const jobId = asText(job?.JobId) || undefined;
  const runId = asText(execution?.RunId) || undefined;
  const state = asText(job?.State) ?? asText(execution?.State);
  return {
    type: 'tencentci.event.unknown',
    subject: jobId ?? runId ?? eventName,
    time: toUtcRfc3339(asText(job?.EndTime)) ?? toUtcRfc3339(asText(execution?.CreateTime)),
    data: { status: ciStatus(state), sourceStatus: state ?? '', eventName, legacyFormat: false, jobId, runId },
    // Nothing else is known of it: two such callbacks are told apart by all they carry.
    identity: tree,
  };
}

const EnvelopeSchema = v.object({ EventName: Text });

/** The one CI route: what the callback is decides how it is read (job, workflow, moderation, unknown). */
const tencentCiRoute: Route<CiDraft> = {
  toDraft(decoded) {
    const tree = toCiTree(decoded);
    // An empty <EventName/> says nothing: read it like the legacy form without one.
    const named = parse(EnvelopeSchema, tree).EventName || undefined;
    if (named === undefined && isSimpleModeration(tree)) return moderationSimpleDraft(tree);
    const eventName =
      named ?? (tree.JobsDetail !== undefined ? 'TaskFinish' : tree.WorkflowExecution !== undefined ? 'WorkflowFinish' : undefined);
    if (eventName === undefined) {
      throw new InvalidPayloadError(WHAT, [bodyIssue('expected EventName, JobsDetail or WorkflowExecution, or a moderation result')]);
    }
    if (eventName === 'TaskFinish') return jobDraft(tree, eventName, named === undefined);
    if (eventName === 'WorkflowFinish') return workflowDraft(tree, eventName, named === undefined);
    if (eventName.startsWith('Review')) return moderationDetailDraft(tree, eventName);
    return unknownDraft(tree, eventName);
  },
};

/** Tencent CI's parsers: one route on any path. The XML decoder is passed here, so fast-xml-parser is bundled into this function alone. */
export const callbacks = defineCallbacks(tencentCi, { routes: { callback: tencentCiRoute }, xml: decodeXml });
