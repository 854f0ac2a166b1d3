// @ts-check
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { zip } from './zip.mjs';

/** The Lambda runtime the bundles target (keep in step with `provider.runtime`). */
export const NODE_TARGET = 'node24';

/**
 * ESM bundles that contain CommonJS (the AWS SDK) need `require`; this banner gives them one.
 * Bundled ESM with the SDK inside loads fastest of the layouts measured here.
 */
export const ESM_REQUIRE_BANNER = "import{createRequire}from'module';const require=createRequire(import.meta.url);";

/**
 * The esbuild options every function bundle is built with; the bench's floor bundle uses them too,
 * so the two are compared like for like.
 * @param {string} entry  a `functions/*.ts` file
 * @param {string} outfile  where the `.mjs` bundle goes
 * @returns {import('esbuild').BuildOptions & { metafile: true, write: false }}
 */
export function bundleOptions(entry, outfile) {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: NODE_TARGET,
    minify: true,
    treeShaking: true,
    legalComments: 'none',
    mainFields: ['module', 'main'],
    conditions: ['node', 'import'],
    banner: { js: ESM_REQUIRE_BANNER },
    metafile: true,
    write: false,
    logLevel: 'silent',
  };
}

/**
 * Bundles one Lambda function into `<outDir>/<name>.zip`, holding `<handler file>.mjs`, so the
 * handler string of `serverless.yml` (`functions/bk-job.handler`) resolves inside the artifact.
 * @param {{ name: string, handler: string, serviceDir: string, outDir: string }} options
 * @returns {Promise<{ name: string, artifact: string, bundleBytes: number, zipBytes: number, inputs: string[] }>}
 */
export async function bundleFunction({ name, handler, serviceDir, outDir }) {
  const modulePath = handler.slice(0, handler.lastIndexOf('.'));
  const entry = join(serviceDir, `${modulePath}.ts`);
  const result = await build(bundleOptions(entry, join(outDir, `${name}.mjs`)));
  const [output] = result.outputFiles;
  if (!output) throw new Error(`esbuild wrote nothing for ${name}`);
  const archive = zip([{ name: `${modulePath}.mjs`, data: Buffer.from(output.contents) }]);
  const artifact = join(outDir, `${name}.zip`);
  await mkdir(dirname(artifact), { recursive: true });
  await writeFile(artifact, archive);
  return {
    name,
    artifact,
    bundleBytes: output.contents.length,
    zipBytes: archive.length,
    inputs: Object.keys(result.metafile.inputs),
  };
}
