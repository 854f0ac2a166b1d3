/**
 * Secrets out of what is stored: a token that a sender repeats inside its body (bk-job's `callback`
 * object with the registered URL, a Thain form with a `token` field) never reaches the events queue,
 * the quarantine or the payload bucket, and the event says it was redacted. Real local SQS and S3.
 */
import { gzipSync } from 'node:zlib';
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

  it("the request's own token (none configured) is replaced when it could be a token: 16 to 256 of the token characters", async () => {
    const handler = stores.handler('thain');
    const post = (token: string) =>
      handler(
        createHttpEvent({
          body: `flowId=7&flowExecutionId=9&code=2&message=&token=${token}`,
          contentType: 'application/x-www-form-urlencoded; charset=UTF-8',
          path: '/callbacks/thain/flow',
          query: `token=${token}`,
        }),
      );
    expect((await post('own-token-0123456789')).statusCode).toBe(200);
    const [queued] = await stores.takeEvents();
    expect(queued?.event.data.raw.body).toBe(`flowId=7&flowExecutionId=9&code=2&message=&token=${REDACTED}`);
    expect(queued?.event.data.raw.redacted).toBe(true);
    // Before, a short value was replaced where it was a token= value; it cannot be a token of ours
    // (every configured one is token-shaped), and so it is kept as sent.
    expect((await post('abc')).statusCode).toBe(200);
    const [short] = await stores.takeEvents();
    expect(short?.event.data.raw.body).toBe('flowId=7&flowExecutionId=9&code=2&message=&token=abc');
    expect(short?.event.data.raw.redacted).toBeUndefined();
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

describe('no token in the labels', () => {
  const OLD = 'OLD-ROTATED-TOKEN-0123';
  const post = (query: string) =>
    stores.handler(
      'bk-job',
      undefined,
      accessPolicy([TOKEN, OLD]),
    )(createHttpEvent({ body: '{"job_instance_id":42,"status":3}', contentType: 'application/json', path: '/callbacks/bk-job', query }));

  it('leaves out every key that is `token` in any case, with spaces around it or after `amp;`', async () => {
    const keys = ['Token', 'TOKEN', 'tOkEn', '%20token', 'token%20', '%09token', 'amp;token', 'amp;amp;Token', 'amp%3Btoken'];
    const response = await post(`team=payments&token=${TOKEN}&${keys.map((key) => `${key}=${TOKEN}`).join('&')}`);
    expect(response.statusCode).toBe(200);
    const [queued] = await stores.takeEvents();
    expect(queued?.event.data.labels).toEqual({ team: 'payments' });
    expect(queued?.bytes.toString()).not.toContain(TOKEN);
  });

  it('replaces a token inside a label value or key: a URL with the token, a configured token under another name', async () => {
    const url = `https://hooks.example/cb?token=${TOKEN}`;
    const query = [
      `token=${TOKEN}`,
      `next=${encodeURIComponent(url)}`,
      `twice=${encodeURIComponent(encodeURIComponent(url))}`,
      `old=${OLD}`,
      `${OLD}=1`,
      'team=payments',
    ].join('&');
    expect((await post(query)).statusCode).toBe(200);
    const [queued] = await stores.takeEvents();
    expect(queued?.event.data.labels).toEqual({
      next: `https://hooks.example/cb?token=${REDACTED}`,
      twice: encodeURIComponent(`https://hooks.example/cb?token=${REDACTED}`),
      old: REDACTED,
      [REDACTED]: '1',
      team: 'payments',
    });
    expect(queued?.bytes.toString()).not.toContain(TOKEN);
    expect(queued?.bytes.toString()).not.toContain(OLD);
  });
});

describe('a token in a body in another encoding', () => {
  it('a UTF-16 body (byte order mark) is redacted in UTF-16, and the event holds no token', async () => {
    const handler = stores.handler('bk-job', undefined, accessPolicy([TOKEN]));
    const json = `{"job_instance_id":7,"status":3,"callback":{"url":"https://h/cb?token=${TOKEN}"}}`;
    const utf16 = (text: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const response = await handler(
      createHttpEvent({ body: utf16(json), contentType: 'application/json', path: '/callbacks/bk-job', query: `token=${TOKEN}` }),
    );
    expect(response.statusCode).toBe(200);
    const [queued] = await stores.takeEvents();
    expect(queued?.event.data.raw).toMatchObject({ encoding: 'base64', redacted: true });
    expect(rawBytes(queued?.event.data.raw ?? { contentType: '', body: '' })).toEqual(utf16(json.replace(TOKEN, REDACTED)));
    expect(queued?.bytes.toString()).not.toContain(Buffer.from(TOKEN, 'utf16le').toString('base64').slice(0, 12));
  });
});

describe('a mistyped Thain URL loses nothing', () => {
  const body = 'flowId=7&flowExecutionId=9&code=2&message=';
  const post = (path: string, query: string, access = accessPolicy([TOKEN]), frontDoor: 'httpApi' | 'functionUrl' = 'httpApi') =>
    stores.handler(
      'thain',
      undefined,
      access,
    )(createHttpEvent({ body, contentType: 'application/x-www-form-urlencoded', path, query: query, frontDoor }));

  it('takes the kind in any letter case', async () => {
    expect((await post('/callbacks/thain/Flow', `token=${TOKEN}`)).statusCode).toBe(200);
    expect((await post('/X/JOB', `token=${TOKEN}`, undefined, 'functionUrl')).statusCode).toBe(200);
    expect((await stores.takeEvents()).map((queued) => queued.event.type)).toEqual(['thain.flow.status', 'thain.job.status']);
  });

  it('answers 404 to an unknown kind, and keeps an authenticated callback in the quarantine with its path (the token redacted)', async () => {
    const response = await post(`/callbacks/thain/flwo`, `job=etl&token=${TOKEN}`);
    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body ?? '{}').error).toBe('no thain callback is served at this path');
    const [kept, ...more] = await stores.takeQuarantined();
    expect(more).toEqual([]);
    expect(kept?.record).toMatchObject({ source: 'thain', route: '/callbacks/thain/flwo', status: 404, labels: { job: 'etl' } });
    expect(kept?.body.toString()).toBe(body);
    // A function URL with the token in its path by mistake: kept, the token out of the path.
    expect((await post(`/${TOKEN}/flwo`, `token=${TOKEN}`, undefined, 'functionUrl')).statusCode).toBe(404);
    const [url] = await stores.takeQuarantined();
    expect(url?.record).toMatchObject({ route: `/${REDACTED}/flwo`, status: 404 });
    expect(await stores.takeEvents()).toEqual([]);
  });

  it('keeps any such callback when no token is configured, and none from a caller who is not let in', async () => {
    expect((await post('/callbacks/thain/status', '', accessPolicy([]))).statusCode).toBe(404);
    expect((await stores.takeQuarantined()).map((kept) => kept.record.status)).toEqual([404]);
    expect((await post('/callbacks/thain/status', 'token=wrong-token-0123456789')).statusCode).toBe(404);
    expect((await post('/callbacks/thain/status', '')).statusCode).toBe(404);
    expect(await stores.takeQuarantined()).toEqual([]);
  });
});

describe('a compressed body', () => {
  it('is refused with a 400 that says what it is, and kept', async () => {
    const handler = stores.handler('bk-job', undefined, accessPolicy([TOKEN]));
    const gzipped = gzipSync('{"job_instance_id":1,"status":3}');
    const response = await handler(
      createHttpEvent({
        body: gzipped,
        contentType: 'application/json',
        headers: { 'Content-Encoding': 'gzip' },
        path: '/callbacks/bk-job',
        query: `token=${TOKEN}`,
      }),
    );
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body ?? '{}').error).toBe('body is gzip-compressed (Content-Encoding: gzip); send it uncompressed');
    const [kept] = await stores.takeQuarantined();
    expect(kept?.record.status).toBe(400);
    expect(kept?.body.equals(gzipped)).toBe(true);
    // Without the header (a replay of the record, a proxy that dropped it), the bytes say it.
    const bare = await handler(
      createHttpEvent({ body: gzipped, contentType: 'application/json', path: '/callbacks/bk-job', query: `token=${TOKEN}` }),
    );
    expect(JSON.parse(bare.body ?? '{}').error).toBe(
      'body is gzip-compressed (it starts with the gzip signature 1F 8B); send it uncompressed',
    );
    await stores.takeQuarantined();
  });
});
