import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callbacks as bkJob } from '../../lib/sources/bk-job/callback.ts';
import { loadCallbacks } from '../../lib/sources/load-callbacks.ts';
import type { Callbacks } from '../../lib/sources/source.ts';
import { postSample } from '../send.ts';
import { launchBrowser } from '../testing/browser.ts';
import { loadFixture } from '../testing/fixtures.ts';
import { receiveAll, testSqsClient } from '../testing/sqs.ts';
import { readHttpSample } from './http-sample.ts';
import { type LocalRun, startLocalRun } from './local-run.ts';
import { ExpectedSampleSchema, expectationOf } from './samples.ts';

// The inspector page of `npm start`, in a real headless Chromium, on a local run of its own (free
// ports, its samples written to a temporary folder): live rows, the raw request beside its event,
// duplicates, resend, save as a sample, a hostile body shown as text, and replay after a fix.
// INSPECTOR_SCREENSHOTS=<folder> keeps a PNG of each step there.

let run: LocalRun;
let browser: Browser;
let page: Page;
let samples: string;
/** The fix that replay runs quarantined bk-job records through, once the test has made it. */
let fixed: Callbacks | undefined;

/** bk-job as a fix would have it: an id sent as `"77x"` is read as 77. */
const fixedBkJob: Callbacks = {
  ...bkJob,
  route: (path) => {
    const route = bkJob.route(path);
    return route && { toDraft: (decoded, context) => route.toDraft(JSON.parse(JSON.stringify(decoded).replace('"77x"', '77')), context) };
  },
};

const HOSTILE =
  '{"job_instance_id":"77x","status":3,"note":"</pre><script>window.__pwned = 1</script><img src=x onerror=\\"window.__pwned = 2\\">"}';

beforeAll(async () => {
  samples = await mkdtemp(join(tmpdir(), 'jobhooks-inspector-samples-'));
  run = await startLocalRun({
    port: 0,
    inspector: { samplesDir: samples },
    replayCallbacks: (source) => (source === 'bk-job' && fixed ? Promise.resolve(fixed) : loadCallbacks(source)),
  });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (error) => {
    throw error;
  });
  await page.goto(`${run.url}/`);
  await page.waitForSelector('#live:not(.off)');
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await run?.close();
  if (samples) await rm(samples, { recursive: true, force: true });
});

async function screenshot(name: string): Promise<void> {
  const folder = process.env.INSPECTOR_SCREENSHOTS;
  if (folder) await page.screenshot({ path: join(folder, `inspector-${name}.png`) });
}

/** Waits for the page's message line to say `text`. */
const message = (text: RegExp) => page.locator('#message', { hasText: text }).waitFor();
/** A request's row, once it is answered. */
const row = (seq: number) => page.locator(`#requests tbody tr[data-seq="${seq}"][data-done="true"]`);
const text = async (selector: string) => (await page.locator(selector).textContent()) ?? '';

describe('the inspector page, in a browser', () => {
  it('shows a posted sample as it arrives, with its raw request beside its event', async () => {
    const sample = loadFixture('bk-job', 'bkjob-json-failed');
    const answer = await postSample(run.url, sample, { labels: { team: 'data' } });
    const { id } = v.parse(v.object({ id: v.string() }), JSON.parse(answer.body));
    await row(1).waitFor();
    expect(await row(1).getAttribute('data-event-id')).toBe(id);
    expect(await row(1).textContent()).toContain('POST /callbacks/bk-job');
    await row(1).click();
    await page.waitForSelector('#detail[data-seq="1"]');
    expect(await text('#request-line')).toBe('POST /callbacks/bk-job?team=data');
    expect(await text('#request-headers')).toContain('Apache-HttpClient/4.5.13');
    expect(await text('#request-body')).toBe(sample.body.toString('utf8'));
    expect(await text('#result-title')).toBe('Event sent to the events queue');
    expect(JSON.parse(await text('#result-body'))).toMatchObject({
      id,
      type: 'bkjob.job.finished',
      subject: '20000187',
      data: { labels: { team: 'data' } },
    });
    await screenshot('1-event');
  });

  // bk-job's ids are the same for the same callback (a Thain delivery's id holds its receive time: a
  // resend of one is a new event).
  it('resend makes a second row with the same id, marked as a duplicate', async () => {
    await page.click('#resend');
    await row(2).waitFor();
    expect(await row(2).getAttribute('data-duplicate-of')).toBe('1');
    expect(await row(2).getAttribute('data-event-id')).toBe(await row(1).getAttribute('data-event-id'));
    expect(await row(2).textContent()).toContain('duplicate of #1');
    await page.waitForSelector('#detail[data-seq="2"]');
    expect(await text('#result-title')).toBe('Event sent to the events queue · duplicate of #1 (same id)');
    await screenshot('2-duplicate');
  });

  it('saves a request as a sample with its expected event, which the sample tests read', async () => {
    await row(1).click();
    await page.waitForSelector('#detail[data-seq="1"]');
    await page.fill('#sample-name', 'bkjob-json-failed-labelled');
    await page.click('#save');
    await message(/^saved /);
    const file = join(samples, 'bk-job', 'bkjob-json-failed-labelled.http');
    const expected = v.parse(ExpectedSampleSchema, JSON.parse(await readFile(file.replace(/\.http$/, '.expected.json'), 'utf8')));
    expect(expected).toMatchObject({ status: 200, event: { id: await row(1).getAttribute('data-event-id') } });
    expect(await expectationOf('bk-job', readHttpSample(file), new Date(expected.receivedAt))).toEqual(expected);
    // A second save under the same name is refused on the page, in words.
    await page.click('#save');
    await page.locator('#message.error').waitFor();
    expect(await text('#message')).toBe('bk-job/bkjob-json-failed-labelled.http exists: pick another name');
  });

  it('shows a hostile body as text, quarantined, and replay turns it into an event once the parser is fixed', async () => {
    const response = await fetch(`${run.url}/callbacks/bk-job?team=ops`, { method: 'POST', body: HOSTILE });
    expect(response.status).toBe(422);
    await row(3).waitFor();
    expect(await row(3).getAttribute('data-outcome')).toBe('quarantined');
    await row(3).click();
    await page.waitForSelector('#detail[data-seq="3"]');
    expect(await text('#request-body')).toBe(HOSTILE);
    expect(await text('#result-title')).toBe('Quarantined: kept for npm run replay');
    expect(await text('#result-why')).toContain('422 bk-job callback is not valid');
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
    expect(await page.locator('img').count()).toBe(0);
    await screenshot('3-quarantined');

    // Before the fix, replay says it still fails; after it, the record becomes an event.
    await page.click('#replay');
    await message(/^still failing: 422 /);
    fixed = fixedBkJob;
    await page.click('#replay');
    await message(/^replayed: event \w+ is on the events queue$/);
    await page.waitForSelector('#replay-list li[data-status="200"]');
    expect(JSON.parse(await text('#replay-list li[data-status="200"] pre'))).toMatchObject({
      subject: '77',
      data: { labels: { team: 'ops' } },
    });
    expect(await row(3).textContent()).toContain('replayed');
    const client = testSqsClient(run.sqsEndpoint ?? '');
    try {
      const bodies = (await receiveAll(client, run.eventsQueueUrl, { remove: true })).map((message) => JSON.parse(message.Body ?? '{}'));
      expect(bodies.filter((event) => event.subject === '77')).toHaveLength(1);
      expect(await receiveAll(client, run.quarantineQueueUrl ?? '', { remove: false })).toEqual([]);
    } finally {
      client.destroy();
    }
    await screenshot('4-replayed');
  });

  it('filters by source and by answer', async () => {
    await postSample(run.url, loadFixture('thain', 'thain-flow-success'));
    await row(4).waitFor();
    const shown = () => page.locator('#requests tbody tr').evaluateAll((rows) => rows.map((tr) => tr.getAttribute('data-seq')));
    await page.selectOption('#filter-source', 'bk-job');
    expect(await shown()).toEqual(['3', '2', '1']);
    await page.selectOption('#filter-source', 'thain');
    expect(await shown()).toEqual(['4']);
    await page.selectOption('#filter-source', '');
    await page.selectOption('#filter-answer', 'quarantined');
    expect(await shown()).toEqual(['3']);
    await page.selectOption('#filter-answer', 'event');
    expect(await shown()).toEqual(['4', '2', '1']);
    await page.selectOption('#filter-answer', '');
  });
});

/** A request to the local server with a Host and an Origin of the test's choosing (fetch cannot set Host). */
function raw(
  method: string,
  path: string,
  headers: Record<string, string>,
  body = '',
): Promise<{ status: number; headers: Record<string, unknown> }> {
  const { port } = new URL(run.url);
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, method, path, headers }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers }));
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

describe('the inspector is for the local page only', () => {
  it('answers no other host name (a page that rebinds its own name to 127.0.0.1 gets nothing)', async () => {
    expect((await raw('GET', '/_inspector/requests', { host: 'evil.example:80' })).status).toBe(421);
    expect((await raw('GET', '/', { host: `localhost:${new URL(run.url).port}` })).status).toBe(200);
  });

  it("refuses the buttons to another site's page, and to a body that is not JSON", async () => {
    const host = new URL(run.url).host;
    const json = { host, 'content-type': 'application/json' };
    expect((await raw('POST', '/_inspector/requests/1/resend', { ...json, origin: 'https://evil.example' }, '{}')).status).toBe(403);
    expect((await raw('POST', '/_inspector/requests/1/resend', { host, 'content-type': 'text/plain' }, '{}')).status).toBe(415);
  });

  it('serves its page with a policy that runs no inline script and loads nothing from elsewhere', async () => {
    const { headers } = await raw('GET', '/', { host: new URL(run.url).host });
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['content-security-policy']).toContain("default-src 'none'");
    expect(headers['x-content-type-options']).toBe('nosniff');
  });
});
