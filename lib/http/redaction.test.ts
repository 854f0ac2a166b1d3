/**
 * Secrets out of what is stored: a token that a sender repeats inside its body (bk-job's `callback`
 * object with the registered URL, a Thain form with a `token` field) never reaches the events queue,
 * the quarantine or the payload bucket, and the event says it was redacted. Real local SQS and S3.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHttpEvent } from '../../infra/local/http-event.ts';
import { type DurableStores, startDurableStores } from '../../infra/testing/durable-stores.ts';
import { loadFixture } from '../../infra/testing/fixtures.ts';
import { gbk } from '../../infra/testing/gbk.ts';
import { rawBytes } from '../events/cloud-event.ts';
import { accessPolicy } from './authorize.ts';
import { REDACTED } from './redact.ts';

const TOKEN = 'EXAMPLE-SECRET-TOKEN';

let stores: DurableStores;
beforeAll(async () => {
  stores = await startDurableStores();
});
afterAll(() => stores?.close());
beforeEach(async () => {
  await stores.takeEvents();
  await stores.takeQuarantined();
});

describe('a token inside a body is redacted from everything stored', () => {
  it('bk-job repeating its registered URL (token in the query) in the body: the event holds no token, says so, and keeps every other byte', async () => {
    // Prepare: the field callback, posted to its registered URL with its token configured.
    const fixture = loadFixture('bk-job', 'bkjob-pr844-callback-object-in-body');
    const handler = stores.handler('bk-job', undefined, accessPolicy([TOKEN]));

    // Act
    const response = await handler(
      createHttpEvent({
        body: fixture.body,
        contentType: fixture.contentType,
        path: '/callbacks/bk-job',
        query: `team=payments&token=${TOKEN}`,
      }),
    );

    // Assess
    expect(response.statusCode).toBe(200);
    const [queued, ...more] = await stores.takeEvents();
    expect(more).toEqual([]);
    expect(queued?.bytes.toString()).not.toContain(TOKEN);
    expect(queued?.event.data.raw.redacted).toBe(true);
    expect(rawBytes(queued?.event.data.raw ?? { contentType: '', body: '' }).toString()).toBe(
      fixture.body.toString().replaceAll(TOKEN, REDACTED),
    );
    expect(queued?.event.subject).toBe('1200349');
    expect(queued?.event.data.labels).toEqual({ team: 'payments' });
  });

  it('a body without the token is kept byte for byte, with no redacted flag', async () => {
    const fixture = loadFixture('bk-job', 'bkjob-json-success');
    const handler = stores.handler('bk-job', undefined, accessPolicy([TOKEN]));
    const response = await handler(
      createHttpEvent({ body: fixture.body, contentType: fixture.contentType, path: '/callbacks/bk-job', query: `token=${TOKEN}` }),
    );
    expect(response.statusCode).toBe(200);
    const [queued] = await stores.takeEvents();
    expect(queued?.event.data.raw.redacted).toBeUndefined();
    expect(rawBytes(queued?.event.data.raw ?? { contentType: '', body: '' })).toEqual(fixture.body);
  });

  it("the request's own short token (none configured) is replaced where it is a token= value in a Thain form", async () => {
    const handler = stores.handler('thain');
    const body = 'flowId=7&flowExecutionId=9&code=2&message=&token=abc';
    const response = await handler(
      createHttpEvent({
        body,
        contentType: 'application/x-www-form-urlencoded; charset=UTF-8',
        path: '/callbacks/thain/flow',
        query: 'token=abc',
      }),
    );
    expect(response.statusCode).toBe(200);
    const [queued] = await stores.takeEvents();
    expect(queued?.event.data.raw.body).toBe(`flowId=7&flowExecutionId=9&code=2&message=&token=${REDACTED}`);
    expect(queued?.event.data.raw.redacted).toBe(true);
  });

  it('a rejected body and the path it came on are redacted in the quarantine record', async () => {
    const handler = stores.handler('thain', undefined, accessPolicy([TOKEN]));
    const body = `flowId=x&code=2&note=${encodeURIComponent(`https://hooks.example/thain/flow?token=${TOKEN}`)}`;
    const response = await handler(createHttpEvent({ body, path: `/${TOKEN}/flow`, query: `token=${TOKEN}`, frontDoor: 'functionUrl' }));
    expect(response.statusCode).toBe(422);
    const [kept, ...more] = await stores.takeQuarantined();
    expect(more).toEqual([]);
    expect(JSON.stringify(kept?.record)).not.toContain(TOKEN);
    expect(kept?.body.toString()).not.toContain(TOKEN);
    expect(kept?.record.raw).toMatchObject({ redacted: true });
    expect(kept?.record.route).toBe(`/${REDACTED}/flow`);
  });

  it('a body in another charset (GBK, kept as base64) is redacted in its bytes', async () => {
    const handler = stores.handler('tencent-ci', undefined, accessPolicy([TOKEN]));
    const xml = `<?xml version="1.0" encoding="GBK"?><Response><EventName>TaskFinish</EventName><JobsDetail><JobId>j1</JobId><State>Failed</State><Message>失败 https://x/?token=${TOKEN}</Message></JobsDetail></Response>`;
    const response = await handler(
      createHttpEvent({
        body: gbk(xml),
        contentType: 'application/xml',
        path: '/callbacks/tencent-ci',
        query: `token=${TOKEN}`,
        isBase64Encoded: true,
      }),
    );
    expect(response.statusCode).toBe(200);
    const [queued] = await stores.takeEvents();
    expect(queued?.bytes.toString()).not.toContain(TOKEN);
    expect(queued?.event.data.raw.encoding).toBe('base64');
    expect(rawBytes(queued?.event.data.raw ?? { contentType: '', body: '' })).toEqual(gbk(xml.replace(TOKEN, REDACTED)));
    expect(queued?.event.data.message).toBe(`失败 https://x/?token=${REDACTED}`);
  });
});
