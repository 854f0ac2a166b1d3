/**
 * What the local run takes from the project's code, from one module, so that a reload (`npm start --
 * --watch`) takes all of it from the same fresh copy of the code: the pipeline and the parsers that
 * replay runs quarantined records through, and the AWS clients the handlers share, which the local
 * run watches. A fresh copy's classes differ from an older copy's, so the two are never mixed.
 */
export { createCallbackHandler } from '../../lib/http/callback-handler.ts';
export { containerSqsClient } from '../../lib/queue/send-event.ts';
export { loadAllCallbacks, loadCallbacks } from '../../lib/sources/load-callbacks.ts';
export { containerS3Client } from '../../lib/store/payload-bucket.ts';
