import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CommandSpec } from './cli/args.ts';
import { REPLAY_COMMAND, SEND_COMMAND, START_COMMAND } from './cli/commands.ts';
import { SERVICE_DIR } from './local/service-config.ts';

// Every Markdown file of the repository: its links resolve inside the repository (the file, and the
// heading an anchor names), and its commands are ones that run as written: deploy and AWS commands
// name their region, Node runs the pinned one, npm scripts and their flags exist, files named exist.

const FILES = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.md'], {
  cwd: SERVICE_DIR,
  encoding: 'utf8',
})
  .split('\n')
  .filter((file) => file !== '' && !file.startsWith('node_modules/') && existsSync(join(SERVICE_DIR, file)));

/** The text outside fenced code blocks, and the fenced blocks apart. */
function split(markdown: string): { prose: string; blocks: string[] } {
  const blocks: string[] = [];
  const prose = markdown.replace(/^```[^\n]*\n([\s\S]*?)^```$/gm, (_block, body: string) => {
    blocks.push(body);
    return '';
  });
  return { prose, blocks };
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to `-`, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, heading = ''] of split(markdown).prose.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const text = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*_]/g, (mark) => (mark === '_' ? '_' : ''));
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** Links of a file's prose (inline code spans aside): `[text](target)`. */
function linksOf(markdown: string): string[] {
  const prose = split(markdown).prose.replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map(([, target = '']) => target);
}

/** The commands a file shows: the lines of its shell blocks, and inline code that is a command. */
function commandsOf(markdown: string): string[] {
  const { prose, blocks } = split(markdown);
  const fromBlocks = blocks.flatMap((block) =>
    block
      // A line that ends with `\` goes on on the next.
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .map((line) => line.replace(/\s+#\s.*$/, '').trim())
      .filter((line) => /^([A-Z_]+=\S*\s+)*(npm|npx|node|node_modules\/\.bin\/node|aws|curl|SLS_\w+=)/.test(line)),
  );
  const inline = [...prose.matchAll(/`([^`\n]+)`/g)]
    .map(([, code = '']) => code.trim())
    .filter((code) => /^([A-Z_]+=\S*\s+)*(npm (run |start|test|ci)|npx |node |node_modules\/\.bin\/node |aws [a-z])/.test(code));
  return [...fromBlocks, ...inline];
}

const SCRIPTS: Record<string, string> = JSON.parse(readFileSync(join(SERVICE_DIR, 'package.json'), 'utf8')).scripts;
const SPECS: Record<string, CommandSpec> = { start: START_COMMAND, send: SEND_COMMAND, replay: REPLAY_COMMAND };

/** What is wrong with one command as the docs show it, if anything. */
function problemsOf(command: string): string[] {
  const problems: string[] = [];
  // A command that says it elides (`…`) or names a placeholder (`<region>`) is a pattern, not one to run.
  const pattern = /…|<[^>]+>/.test(command);
  if (/\bnpx (sls|serverless) (deploy|info|logs|remove|package)\b/.test(command) && !pattern) {
    if (!/--stage[ =]\S/.test(command)) problems.push('names no --stage');
    if (!/--region[ =]\S/.test(command)) problems.push('names no --region (without it the CLI deploys or reads another region)');
  }
  if (/^([A-Z_]+=\S*\s+)*aws [a-z0-9-]+ [a-z]/.test(command) && !/--region[ =]\S/.test(command) && !pattern) {
    problems.push('names no --region');
  }
  if (/(^|\s)node\s/.test(command))
    problems.push("runs the machine's node: use node_modules/.bin/node (the pinned Node 24) or an npm script");
  for (const [, script = ''] of command.matchAll(/\bnpm run ([\w:-]+)/g)) {
    if (!(script in SCRIPTS)) problems.push(`npm run ${script}: package.json has no such script`);
  }
  const tool = /\bnpm (?:run (send|replay)|(start))\b(.*)$/.exec(command);
  if (tool) {
    const [, runScript, start, rest = ''] = tool;
    const spec = SPECS[runScript ?? start ?? ''];
    const flags = [...rest.matchAll(/(?:^|\s)--([a-z][\w-]*)/g)].map(([, flag = '']) => flag);
    if (flags.length > 0 && !/^\s+--(\s|$)/.test(rest)) problems.push('passes flags without -- (npm keeps them for itself)');
    for (const flag of flags) {
      if (spec && flag !== 'help' && !(flag in spec.flags)) problems.push(`--${flag}: ${spec.command} takes no such flag`);
    }
  }
  for (const [, path = ''] of command.matchAll(/(?:^|\s)((?:\.\/)?(?:events|infra|lib|bench|functions|docs)\/[\w./*-]+)/g)) {
    const files = path.includes('*') ? [dirname(path)] : [path];
    for (const file of files) if (!existsSync(join(SERVICE_DIR, file))) problems.push(`${file} does not exist`);
  }
  return problems;
}

describe('the Markdown files', () => {
  it('are found', () => {
    expect(FILES).toContain('README.md');
    expect(FILES.filter((file) => file.startsWith('docs/')).length).toBeGreaterThan(3);
  });

  it.each(FILES.map((file) => [file]))(
    '%s: every relative link names a file of the repository, and a heading of it that exists',
    (file) => {
      const markdown = readFileSync(join(SERVICE_DIR, file), 'utf8');
      const broken: string[] = [];
      for (const target of linksOf(markdown)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
        const [path = '', anchor] = target.split('#');
        const resolved = path === '' ? join(SERVICE_DIR, file) : normalize(join(SERVICE_DIR, dirname(file), decodeURIComponent(path)));
        const inside = relative(SERVICE_DIR, resolved);
        if (inside.startsWith('..') || !existsSync(resolved)) {
          broken.push(`${target}: ${inside.startsWith('..') ? 'outside the repository' : 'no such file'}`);
          continue;
        }
        if (
          anchor !== undefined &&
          statSync(resolved).isFile() &&
          resolved.endsWith('.md') &&
          !anchorsOf(readFileSync(resolved, 'utf8')).has(anchor)
        ) {
          broken.push(`${target}: ${relative(SERVICE_DIR, resolved)} has no heading #${anchor}`);
        }
      }
      expect(broken).toEqual([]);
    },
  );

  it.each(FILES.map((file) => [file]))('%s: names no file outside the repository', (file) => {
    const markdown = readFileSync(join(SERVICE_DIR, file), 'utf8');
    expect(markdown.match(/\.\.\/shared\/|\/work\/|protocols\.md|contract §/g) ?? []).toEqual([]);
  });

  it.each(FILES.map((file) => [file]))('%s: every command runs as written', (file) => {
    const markdown = readFileSync(join(SERVICE_DIR, file), 'utf8');
    const problems = commandsOf(markdown).flatMap((command) => problemsOf(command).map((problem) => `${command}: ${problem}`));
    expect(problems).toEqual([]);
  });
});

describe('the docs checks themselves', () => {
  it('find what they are for', () => {
    expect(problemsOf('npx sls deploy --stage prod')).toEqual(['names no --region (without it the CLI deploys or reads another region)']);
    expect(problemsOf('node --import tsx bench/ci-event-size.ts')).toEqual([
      "runs the machine's node: use node_modules/.bin/node (the pinned Node 24) or an npm script",
    ]);
    expect(problemsOf('npm run replay --dry-run')).toEqual(['passes flags without -- (npm keeps them for itself)']);
    expect(problemsOf('npm run replay -- --dryrun')).toEqual(['--dryrun: npm run replay takes no such flag']);
    expect(problemsOf('npm run nope')).toEqual(['npm run nope: package.json has no such script']);
    expect(problemsOf('npm run send -- events/thain/nope.http')).toEqual(['events/thain/nope.http does not exist']);
    expect(linksOf('[a](b.md#c) `[d](e)`\n```\n[f](g)\n```')).toEqual(['b.md#c']);
    expect([...anchorsOf('# The `npm start` run\n## Deploy\n## Deploy')]).toEqual(['the-npm-start-run', 'deploy', 'deploy-1']);
  });
});
