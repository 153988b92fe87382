import { readFileSync, statSync } from 'node:fs';
import type { Config } from '../model/config';
import { InvalidInputError } from '../model/problem';
import { MAX_CONFIG_BYTES, parseConfig } from './load';
import { validateAgainstSchema } from './schema';

export interface Manifest {
  readonly manifestVersion: 1;
  readonly generatedBy: string;
  readonly stack: string;
  readonly terraform?: { readonly provider?: 'postgresql' | 'pgcred' };
  readonly config: unknown;
}

/**
 * The manifest that `cdktf synth` writes beside cdk.tf.json: the same model as
 * pgcred.yaml, so one synth serves both `cdktf deploy` and the reconciler.
 */
export function loadManifest(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): { manifest: Manifest; config: Config } {
  let text: string;
  try {
    if (statSync(path).size > MAX_CONFIG_BYTES) {
      throw new InvalidInputError([
        { path: '', message: `${path}: larger than the ${MAX_CONFIG_BYTES}-byte limit` },
      ]);
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof InvalidInputError) throw error;
    throw new InvalidInputError([{ path: '', message: `${path}: no such manifest (run cdktf synth first)` }]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError([{ path: '', message: `${path}: not JSON (${(error as Error).message})` }]);
  }
  const problems = validateAgainstSchema('manifest.schema.json', raw);
  if (problems.length > 0) throw new InvalidInputError(problems, path);
  const manifest = raw as Manifest;
  try {
    return { manifest, config: parseConfig(JSON.stringify(manifest.config), { env, file: path }) };
  } catch (error) {
    if (error instanceof InvalidInputError) {
      throw new InvalidInputError(
        error.problems.map((p) => ({ path: p.path ? `config.${p.path}` : p.path, message: p.message })),
        path,
      );
    }
    throw error;
  }
}

export function manifestText(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
