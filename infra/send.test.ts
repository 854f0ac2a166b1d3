import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRun, startLocalRun } from './local/local-run.ts';
import { postSample } from './send.ts';
import { runScript } from './testing/child-run.ts';
import { EVENTS_DIR, loadFixture } from './testing/fixtures.ts';
import { closedPort } from './testing/ports.ts';

// `npm run send` posts samples as their senders do; checked on the request the local run received.
let run: LocalRun;

beforeAll(async () => {
  run = await startLocalRun({ port: 0, inspector: false });
});
afterAll(() => run.close());

function send(args: string[], env: Record<string, string> = { PORT: new URL(run.url).port }) {
  return runScript('infra/send.ts', args, { env: { PATH: process.env.PATH ?? '', ...env }, inherit: false });
}

describe('postSample', () => {
  it('sends the route and query of the request line, the header lines in their order and spelling, and the exact bytes', async () => {
    // GBK bytes that are not UTF-8, with CI's Go client's header order.
    const sample = loadFixture('tencent-ci', 'field/ci-transcode-failed-gbk-xml');
    const answer = await postSample(run.url, sample, { labels: { team: 'media' }, token: 'a-token-of-sixteen' });
    expect(answer.status).toBe(200);
    const received = run.journal.list().at(-1);
    expect(received?.path).toBe(sample.path);
    expect(received?.query).toBe(
      new URLSearchParams([...new URLSearchParams(sample.query), ['team', 'media'], ['token', 'a-token-of-sixteen']]).toString(),
    );
    expect(received?.body.equals(sample.body)).toBe(true);
    const sent = sample.headers.map(([name, value]) => [name, name === 'Host' ? new URL(run.url).host : value]);
    // Node adds the one header a sample may not have said: Connection.
    expect(received?.headers.filter(([name]) => name !== 'Connection')).toEqual(sent);
  });
});

describe('npm run send', () => {
  it('posts every Thain sample to npm start: each gets the answer its name says, and it prints answer and event id', async () => {
    const files = readdirSync(join(EVENTS_DIR, 'thain'))
      .filter((file) => file.endsWith('.http'))
      .map((file) => join('events', 'thain', file));
    const outcome = await send(files);
    expect(outcome.stderr).toBe('');
    expect(outcome.code).toBe(0);
    const lines = outcome.stdout.trim().split('\n');
    expect(lines).toHaveLength(files.length + 1);
    for (const [index, file] of files.entries()) {
      expect(lines[index]).toMatch(
        file.includes('-invalid-')
          ? new RegExp(`^${file} -> 4\\d\\d \\S.* \\([\\d.]+ ms\\)$`)
          : new RegExp(`^${file} -> 200 id [0-9a-f]{32} \\([\\d.]+ ms\\)$`),
      );
    }
    expect(lines.at(-1)).toBe(`${files.length} posted to ${run.url}: ${files.length} answered as expected`);
  });

  it('adds labels, posts N times (a bk-job resend has the same id), and fails when an answer is not the expected one', async () => {
    const file = join('events', 'bk-job', 'bkjob-json-failed.http');
    const outcome = await send([file, '--label', 'team=ops', '--times', '2']);
    const ids = [...outcome.stdout.matchAll(/-> 200 id (\w+)/g)].map((match) => match[1]);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(1);
    expect(run.journal.list().at(-1)?.query).toBe('team=ops');
    // Posted to another sender's function URL, the sample is refused, which its name does not announce.
    const refused = await send([join('events', 'bk-job', 'bkjob-json-failed.http'), '--url', `${run.url}/url/tencentCi`]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/-> 4\d\d .*NOT WHAT THE SAMPLE EXPECTS$/m);
  });

  it('says in one line what is wrong: a flag, a file, a value, nothing listening', async () => {
    const closed = await closedPort();
    const sample = join('events', 'thain', 'thain-flow-success.http');
    const cases: Array<[string[], Record<string, string> | undefined, string]> = [
      [[sample, '--lable', 'a=b'], undefined, "npm run send: Unknown option '--lable'; npm run send -- --help lists what it takes"],
      [['events/thain/nope.http'], undefined, 'npm run send: events/thain/nope.http: no such file'],
      [[sample, '--times', '0'], undefined, 'npm run send: --times 0: give a whole number from 1 to 9999'],
      [[sample, '--label', 'team'], undefined, 'npm run send: --label team: write it as name=value (--label team=ops)'],
      [[], undefined, 'npm run send: name the samples to post: npm run send -- events/thain/thain-flow-success.http'],
      [
        [sample],
        { PORT: String(closed) },
        `npm run send: nothing answers at 127.0.0.1:${closed} (ECONNREFUSED): start npm start (PORT=${closed}), or pass --url`,
      ],
      [[sample], { PORT: 'x' }, 'npm run send: PORT must be an integer 0–65535, got "x"'],
    ];
    for (const [args, env, line] of cases) {
      const outcome = await send(args, env);
      expect(outcome.code, args.join(' ')).toBe(1);
      expect(outcome.stderr).toBe(`${line}\n`);
    }
  });
});
