import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { loadServiceConfig, SERVICE_DIR } from '../../infra/local/service-config.ts';

/** The cold-start floor: the SDK clients a function needs (SQS, S3) bundled like a function, and nothing else. */
export const FLOOR_ENTRY = join(SERVICE_DIR, 'bench', 'floor', 'sdk-clients.ts');
/** Where the bench writes bundles it imports (gitignored `.build/`). */
export const BENCH_BUILD_DIR = join(SERVICE_DIR, '.build', 'bench');

interface BundleModule {
  bundleOptions(entry: string, outfile: string): BuildOptions & { metafile: true; write: false };
}

/** `infra/build/bundle.mjs`, the options every function is built with (plain JS, so loaded untyped). */
async function bundleModule(): Promise<BundleModule> {
  const url = new URL('../../infra/build/bundle.mjs', import.meta.url).href;
  return (await import(url)) as BundleModule;
}

/** A bundle built in memory, as `sls package` would build it. */
export interface BuiltBundle {
  readonly name: string;
  readonly entry: string;
  /** Where {@link writeBundle} puts it. */
  readonly outfile: string;
  readonly bytes: number;
  readonly contents: Uint8Array;
  /** Every input file (metafile), relative to the service root. */
  readonly inputs: readonly string[];
  readonly metafile: Metafile;
}

/** Builds one entry with `bundleOptions` (in memory: `write: false`). */
export async function buildBundle(name: string, entry: string): Promise<BuiltBundle> {
  const { bundleOptions } = await bundleModule();
  const outfile = join(BENCH_BUILD_DIR, `${name}.mjs`);
  // esbuild's metafile paths are relative to its working directory: build from the service root.
  const result = await build({ ...bundleOptions(entry, outfile), absWorkingDir: SERVICE_DIR });
  const output = result.outputFiles.find((file) => file.path.endsWith('.mjs'));
  if (!output) throw new Error(`esbuild wrote nothing for ${name}`);
  return {
    name,
    entry,
    outfile,
    bytes: output.contents.length,
    contents: output.contents,
    inputs: Object.keys(result.metafile.inputs),
    metafile: result.metafile,
  };
}

/** The floor bundle and one bundle per function of `serverless.yml`. */
export async function buildAllBundles(): Promise<{ floor: BuiltBundle; functions: BuiltBundle[] }> {
  const functions = loadServiceConfig().functions;
  const [floor, ...built] = await Promise.all([
    buildBundle('floor', FLOOR_ENTRY),
    ...functions.map((fn) => buildBundle(fn.name, join(SERVICE_DIR, `${fn.module}.ts`))),
  ]);
  if (!floor) throw new Error('no floor bundle');
  return { floor, functions: built };
}

export async function writeBundle(bundle: BuiltBundle): Promise<string> {
  await mkdir(dirname(bundle.outfile), { recursive: true });
  await writeFile(bundle.outfile, bundle.contents);
  return bundle.outfile;
}

/** Whether a bundle's inputs include a package (`fast-xml-parser`, `@aws-sdk/client-sqs`). */
export function includesPackage(bundle: BuiltBundle, name: string): boolean {
  return bundle.inputs.some((input) => input.includes(`node_modules/${name}/`));
}

/** The package an input belongs to (`@smithy/core`, `valibot`), or `(own code)` for the service's files. */
function packageOf(input: string): string {
  const at = input.lastIndexOf('node_modules/');
  if (at < 0) return '(own code)';
  const parts = input.slice(at + 'node_modules/'.length).split('/');
  return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? input);
}

/** Bytes in the output per package, largest first (from the metafile). */
export function bytesByPackage(bundle: BuiltBundle): Array<{ package: string; bytes: number }> {
  const totals = new Map<string, number>();
  for (const output of Object.values(bundle.metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = packageOf(input);
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...totals].map(([name, bytes]) => ({ package: name, bytes })).sort((a, b) => b.bytes - a.bytes);
}
