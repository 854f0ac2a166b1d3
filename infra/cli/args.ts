import { parseArgs } from 'node:util';

/** One flag of a command. */
export interface FlagSpec {
  /** `string` takes a value (`--source thain`), `boolean` does not (`--dry-run`). */
  readonly type: 'string' | 'boolean';
  /** May be given more than once (`--label a=1 --label b=2`). */
  readonly multiple?: boolean;
  /** The value's placeholder in the help (`<name>`). */
  readonly value?: string;
  /** One line of help. */
  readonly help: string;
}

/** A command line as a tool takes it. */
export interface CommandSpec {
  /** `npm run replay`: how the user runs it. */
  readonly command: string;
  /** What follows the command in the usage line (`[flags] <file.http>...`). */
  readonly usage: string;
  /** What the command does, a few lines. */
  readonly about: string;
  readonly flags: Readonly<Record<string, FlagSpec>>;
  /** Whether it takes arguments that are not flags (files). */
  readonly positionals?: boolean;
}

/** A command line that cannot be run: its message is one line that says what to type instead. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** What a flag was given: its value, its values (`multiple`), true (a boolean flag), or nothing. */
export type FlagValue = string | boolean | ReadonlyArray<string | boolean> | undefined;

/** The flags given and the other arguments. */
export interface ParsedArgs {
  readonly values: Readonly<Record<string, FlagValue>>;
  readonly positionals: readonly string[];
  /** `--help` was given: print {@link helpText} and do nothing else. */
  readonly help: boolean;
}

/**
 * Reads a command line strictly: an unknown flag (`--dryrun`, `-n`), a flag without its value, or an
 * argument where none is taken is a {@link UsageError}, never a run that does something else. A flag
 * that npm took for itself (`npm run replay --dry-run`, without `--`) is found in npm's environment
 * (`npm_config_dry_run`) and refused the same way, with the line to type instead.
 * @param env the environment npm ran the script with (`npm_config_*`)
 */
export function readArgs(spec: CommandSpec, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedArgs {
  const flags = Object.keys(spec.flags);
  for (const flag of [...flags, 'help']) {
    for (const name of new Set([flag.replaceAll('-', '_'), flag.replaceAll('-', '')])) {
      if (env[`npm_config_${name}`] !== undefined) {
        throw new UsageError(
          `npm took --${flag} for itself: put -- between the command and its flags (${spec.command} -- --${flag}${spec.flags[flag]?.type === 'string' ? ' <value>' : ''})`,
        );
      }
    }
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        ...Object.fromEntries(
          Object.entries(spec.flags).map(([name, flag]) => [name, { type: flag.type, multiple: flag.multiple ?? false }]),
        ),
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: spec.positionals ?? false,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message.split('.')[0] : String(error);
    throw new UsageError(`${message}; ${spec.command} -- --help lists what it takes`);
  }
  return { values: parsed.values, positionals: parsed.positionals, help: parsed.values.help === true };
}

/** The `--help` text: usage, what it does, and every flag. */
export function helpText(spec: CommandSpec): string {
  const flags = Object.entries(spec.flags).map(([name, flag]) => [`--${name}${flag.value ? ` ${flag.value}` : ''}`, flag.help] as const);
  const width = Math.max(...flags.map(([left]) => left.length), '--help'.length);
  return [
    `usage: ${spec.command} -- ${spec.usage}`,
    '',
    spec.about,
    '',
    ...flags.map(([left, help]) => `  ${left.padEnd(width)}  ${help}`),
    `  ${'--help'.padEnd(width)}  this text`,
    '',
  ].join('\n');
}

/** A string flag's value(s) as a list. */
export function listOf(value: FlagValue): string[] {
  if (typeof value === 'string') return [value];
  return typeof value === 'object' ? value.filter((item) => typeof item === 'string') : [];
}

/** A string flag's single value. */
export function stringOf(value: FlagValue): string | undefined {
  return listOf(value).at(-1);
}

/** Ends a command with one line on stderr, `<command>: <reason>`, and exit code 1. */
export function fail(spec: CommandSpec, reason: string): never {
  process.stderr.write(`${spec.command}: ${reason}\n`);
  process.exit(1);
}

/**
 * Reads a command's line, or ends the command: `--help` prints {@link helpText} (exit code 0), a line
 * it does not take is one line that says so (exit code 1).
 */
export function commandLine(spec: CommandSpec, argv: readonly string[] = process.argv.slice(2)): ParsedArgs {
  let args: ParsedArgs;
  try {
    args = readArgs(spec, argv);
  } catch (error) {
    return fail(spec, error instanceof Error ? error.message : String(error));
  }
  if (args.help) {
    process.stdout.write(helpText(spec));
    process.exit(0);
  }
  return args;
}
