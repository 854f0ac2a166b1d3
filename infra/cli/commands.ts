import type { CommandSpec } from './args.ts';

// What each of the project's commands takes: the commands read their line with these, and the docs
// test checks every flag the README and docs/ use against them.

/** `npm start`. */
export const START_COMMAND: CommandSpec = {
  command: 'npm start',
  usage: '[--watch] [--verbose]',
  about: [
    'Runs the handlers on http://127.0.0.1:$PORT (3000) with an embedded queue and bucket (or QUEUE_URL and',
    'PAYLOAD_BUCKET), the spool redrive, and the inspector page at http://127.0.0.1:$PORT/.',
  ].join('\n'),
  flags: {
    watch: { type: 'boolean', help: 'reload the handlers when a file under lib/ or functions/ changes' },
    verbose: { type: 'boolean', help: 'print each event (or quarantine record) under its line' },
  },
};

/** `npm run send`. */
export const SEND_COMMAND: CommandSpec = {
  command: 'npm run send',
  usage: '<file.http>... [--label k=v]... [--token <token>] [--times N] [--url <base>]',
  about: [
    'Posts samples as their senders post them: to the route and query of the request line, with the',
    "file's header lines in their order and its exact body bytes. Prints each answer and event id;",
    'exits 1 when an answer is not the one the sample expects (200; a 4xx for an -invalid- sample; the',
    'status of its .expected.json). To npm start on 127.0.0.1:$PORT (3000) unless --url says where.',
  ].join('\n'),
  flags: {
    label: { type: 'string', multiple: true, value: 'k=v', help: 'add a label (a query parameter) to every post' },
    token: { type: 'string', value: '<token>', help: 'pass this token (in the query, as senders do)' },
    times: { type: 'string', value: 'N', help: 'post each file N times (a resend gets the same event id)' },
    url: { type: 'string', value: '<base>', help: 'post there instead: a deployed HTTP API or function URL base' },
  },
  positionals: true,
};

/** `npm run replay`. */
export const REPLAY_COMMAND: CommandSpec = {
  command: 'npm run replay',
  usage: '[--dry-run] [--source <sender>] [--id <id>]... [--drop <id>]... [--route <path>]',
  about: [
    'Runs the quarantined callbacks through the current code: those that pass go to the events queue (with',
    'the id and receive time they would have had) and leave the quarantine; the others stay. Under npm start',
    "it finds npm start's embedded queues and bucket by SQS_PORT (9324) and S3_PORT (4568); with QUEUE_URL,",
    'QUARANTINE_QUEUE_URL (and PAYLOAD_BUCKET) set, it replays those (AWS credentials and AWS_REGION set).',
  ].join('\n'),
  flags: {
    'dry-run': { type: 'boolean', help: 'say what would pass, change nothing' },
    source: { type: 'string', value: '<sender>', help: "only this sender's records (bk-job, tencent-ci, thain)" },
    id: { type: 'string', multiple: true, value: '<id>', help: 'only this record (its request id or message id, as listed)' },
    drop: { type: 'string', multiple: true, value: '<id>', help: 'delete this record without running it (junk, a test)' },
    route: { type: 'string', value: '<path>', help: 'run the chosen records on this route of their sender (a mistyped URL)' },
  },
};
