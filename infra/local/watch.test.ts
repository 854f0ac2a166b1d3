import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildRun, startChild } from '../testing/child-run.ts';
import { copyService, type ServiceCopy } from '../testing/service-copy.ts';

// `npm start -- --watch` in a copy of the repository (nothing here is edited): a change to a sender's
// parser is served without a restart, the queues and the inspector's requests stay, replay runs the
// new code, and a change that does not load leaves the previous code serving.
let copy: ServiceCopy;
let child: ChildRun;
let url: string;
const CALLBACK = join('lib', 'sources', 'bk-job', 'callback.ts');
const WHAT = "what: 'bk-job callback'";

beforeAll(async () => {
  copy = await copyService('jobhooks-watch-');
  child = startChild('infra/local/start.ts', ['--watch'], { cwd: copy.dir });
  [, url = ''] = await child.waitFor(/listening on (http:\/\/\S+)/);
}, 60_000);
afterAll(async () => {
  await child?.stop();
  await copy?.remove();
});

async function errorOf(body: string): Promise<string> {
  return v.parse(v.object({ error: v.string() }), await (await fetch(`${url}/callbacks/bk-job`, { method: 'POST', body })).json()).error;
}

/** Edits the copy's bk-job parser and waits for npm start's line about it. */
async function edit(change: (text: string) => string, line: RegExp): Promise<void> {
  const file = join(copy.dir, CALLBACK);
  const text = await readFile(file, 'utf8');
  const changed = change(text);
  if (changed === text) throw new Error(`${CALLBACK} no longer has ${WHAT}: change this test's edit`);
  await writeFile(file, changed);
  await child.waitFor(line);
}

describe('npm start -- --watch', () => {
  it('serves a changed parser at once, keeps the quarantine, and replays through the new code', async () => {
    expect(child.output()).toContain('  watch       on: lib/ and functions/ reload the handlers when they change');
    expect(await errorOf('{"status":3}')).toMatch(/^bk-job callback is not valid/);

    await edit(
      (text) => text.replace(WHAT, "what: 'bk-job callback (edited)'"),
      /reloaded the handlers in \d+ ms \(lib\/sources\/bk-job\/callback\.ts changed\)/,
    );
    expect(await errorOf('{"status":3}')).toMatch(/^bk-job callback \(edited\) is not valid/);

    // The first request's record, still in the quarantine, goes through the code as it is now.
    const replay = await fetch(`${url}/_inspector/requests/1/replay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(await replay.json()).toMatchObject({ status: 422, error: expect.stringMatching(/^bk-job callback \(edited\) is not valid/) });
  }, 60_000);

  it('keeps serving the code before when a change does not load', async () => {
    await edit(
      (text) => `${text}\nexport const broken = ;\n`,
      /reload failed, still serving the code before \(lib\/sources\/bk-job\/callback\.ts changed\): /,
    );
    expect(await errorOf('{"status":3}')).toMatch(/^bk-job callback \(edited\) is not valid/);
  }, 60_000);
});
