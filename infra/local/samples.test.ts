import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOURCE_NAMES } from '../../lib/sources/registry.ts';
import { EVENTS_DIR, loadFixture } from '../testing/fixtures.ts';
import { readHttpSample } from './http-sample.ts';
import type { ServedRequest } from './journal.ts';
import { ExpectedSampleSchema, expectationOf, saveSample } from './samples.ts';

// A sample saved with its expected event (the inspector's "save as a sample") is a test: the answer
// and the event the code gives it now must be the ones in its `.expected.json`, field for field.

/** Every `<source>/<name>.expected.json` under `events/`, with its sample. */
const EXPECTED = SOURCE_NAMES.flatMap((source) =>
  readdirSync(join(EVENTS_DIR, source))
    .filter((file) => file.endsWith('.expected.json'))
    .map((file) => ({ source, name: file.replace(/\.expected\.json$/, '') })),
);

describe('samples with a .expected.json (events/<source>/)', () => {
  it('each has its .http beside it, and -invalid- in its name exactly when the code refuses it', () => {
    for (const { source, name } of EXPECTED) {
      expect(existsSync(join(EVENTS_DIR, source, `${name}.http`)), `${source}/${name}.http`).toBe(true);
      const expected = v.parse(ExpectedSampleSchema, JSON.parse(readFileSync(join(EVENTS_DIR, source, `${name}.expected.json`), 'utf8')));
      expect(expected.status !== 200, `${source}/${name}`).toBe(name.includes('-invalid-'));
    }
  });

  it.each(EXPECTED.map(({ source, name }) => [`${source}/${name}`, source, name] as const))(
    '%s gets the answer and the event its .expected.json holds',
    async (_label, source, name) => {
      const expected = v.parse(ExpectedSampleSchema, JSON.parse(readFileSync(join(EVENTS_DIR, source, `${name}.expected.json`), 'utf8')));
      expect(await expectationOf(source, loadFixture(source, name), new Date(expected.receivedAt))).toEqual(expected);
    },
  );
});

/** A request as the local run keeps it, for the save tests. */
function served(overrides: Partial<ServedRequest>): ServedRequest {
  return {
    seq: 7,
    requestId: 'r-7',
    receivedAt: new Date('2026-03-12T10:33:20.000Z'),
    method: 'POST',
    path: '/callbacks/thain/flow',
    query: '',
    headers: [],
    body: Buffer.alloc(0),
    done: true,
    status: 200,
    answer: '',
    ms: 1,
    outcome: 'event',
    messages: [],
    objects: [],
    failures: [],
    replays: [],
    route: {
      routeKey: 'ANY /callbacks/thain/{kind}',
      function: 'thain',
      source: 'thain',
      functionUrl: false,
      path: '/callbacks/thain/flow',
    },
    ...overrides,
  };
}

describe('saving a request as a sample', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jobhooks-samples-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes the request as its sender sent it, on its route, without a token, with the event the code makes of it', async () => {
    // Prepare: a Thain job callback that came in on the function URL, with a token in the query and in the body.
    const token = 'tok-0123456789abcdef';
    const body = Buffer.from(`flowId=1&flowExecutionId=2&code=3&message=see+https%3A%2F%2Fhook%2Fthain%2Fjob%3Ftoken%3D${token}`);
    const request = served({
      path: '/url/thain/job',
      query: `job=etl&token=${token}`,
      headers: [
        ['Content-Length', String(body.length)],
        ['Content-Type', 'application/x-www-form-urlencoded; charset=UTF-8'],
        ['Host', '127.0.0.1:3000'],
        ['Authorization', 'Basic c2VjcmV0'],
        ['User-Agent', 'Apache-HttpClient/4.5.13 (Java/1.8.0_292)'],
      ],
      body,
      route: { routeKey: '$default', function: 'thain', source: 'thain', functionUrl: true, path: '/job' },
    });
    // Act
    const saved = await saveSample(request, 'thain-job-saved', { samplesDir: dir });
    // Assess
    expect(saved).toEqual({
      http: join(dir, 'thain', 'thain-job-saved.http'),
      expected: join(dir, 'thain', 'thain-job-saved.expected.json'),
      status: 200,
    });
    const text = await readFile(saved.http, 'utf8');
    expect(text).not.toContain(token);
    expect(text).not.toContain('Authorization');
    const sample = readHttpSample(saved.http);
    expect([sample.method, sample.path, sample.query]).toEqual(['POST', '/callbacks/thain/job', 'job=etl']);
    expect(sample.headers.map(([name]) => name)).toEqual(['Content-Length', 'Content-Type', 'Host', 'User-Agent']);
    expect(sample.headers[0]?.[1]).toBe(String(sample.body.length));
    expect(sample.body.toString()).toContain('REDACTED');
    const expected = v.parse(ExpectedSampleSchema, JSON.parse(await readFile(saved.expected, 'utf8')));
    expect(expected).toMatchObject({
      receivedAt: '2026-03-12T10:33:20.000Z',
      status: 200,
      event: {
        type: 'thain.job.status',
        subject: '2',
        time: '2026-03-12T10:33:20.000Z',
        data: { labels: { job: 'etl' }, status: 'succeeded' },
      },
    });
    expect(await expectationOf('thain', sample, new Date(expected.receivedAt))).toEqual(expected);
  });

  it('writes a refused request as an -invalid- sample with its answer', async () => {
    const request = served({ body: Buffer.from('flowId=1&code=3'), outcome: 'quarantined', status: 422 });
    await expect(saveSample(request, 'thain-flow-bad', { samplesDir: dir })).rejects.toThrow(
      'the code refuses this request (422): its name must contain "-invalid-" (like thain-invalid-thain-flow-bad)',
    );
    const saved = await saveSample(request, 'thain-invalid-flow-no-execution', { samplesDir: dir });
    const expected = v.parse(ExpectedSampleSchema, JSON.parse(await readFile(saved.expected, 'utf8')));
    expect(expected).toEqual({
      receivedAt: '2026-03-12T10:33:20.000Z',
      status: 422,
      answer: { error: 'thain flow callback is not valid: flowExecutionId: is missing', issues: ['flowExecutionId: is missing'] },
    });
  });

  it('refuses a name that is not a plain sample name, one that exists, and a request that reached no route', async () => {
    const request = served({ body: Buffer.from('flowId=1&flowExecutionId=2&code=2&message=') });
    for (const name of ['../escape', 'Upper', 'a/b', '', 'x'.repeat(101)]) {
      await expect(saveSample(request, name, { samplesDir: dir }), name).rejects.toThrow(/is not a sample name/);
    }
    await saveSample(request, 'thain-flow-once', { samplesDir: dir });
    await expect(saveSample(request, 'thain-flow-once', { samplesDir: dir })).rejects.toThrow(
      'thain/thain-flow-once.http exists: pick another name',
    );
    const { route: _route, ...unrouted } = request;
    await expect(saveSample({ ...unrouted, path: '/callbacks/bkjob' }, 'x-y', { samplesDir: dir })).rejects.toThrow(
      /did not reach a sender's route/,
    );
    await expect(
      saveSample(
        served({ route: { ...(request.route ?? { routeKey: '', function: '', functionUrl: false }), path: '/callbacks/thain/task' } }),
        'x-z',
        {
          samplesDir: dir,
        },
      ),
    ).rejects.toThrow('request #7 was posted to no route of thain: a sample must name one');
  });
});
