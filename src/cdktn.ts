/**
 * The entry point for CDK Terrain (cdktn) apps: import it before anything else of
 * pgcred's (`import 'pgcred/dist/cdktn'`, or `../../src/cdktn` in this repo).
 *
 * pgcred's constructs, and the @cdktf/provider-postgresql bindings they use, require
 * `cdktf`: in a cdktn app that loads a second copy of the core classes (App,
 * TerraformStack, TerraformResource, tokens) and often of `constructs` beside the
 * app's own. The copies mostly recognise each other through their Symbol.for brands,
 * but `instanceof`, aspects and token resolution cross between two module graphs in
 * ways nobody tests. This entry point sends every `cdktf` and `cdktf/…` request to the
 * app's `cdktn` (its continuation, same module layout) and every `constructs` request
 * to the app's `constructs`, so the tree holds one copy of each and cdktn synthesizes
 * all of it. No second set of bindings is generated or kept: there is no
 * @cdktn/provider-postgresql, and generating one offline would need the provider's
 * schema from a registry.
 */
import { existsSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

interface ResolvingModule {
  _resolveFilename(request: string, parent: unknown, isMain: boolean, options?: unknown): string;
}

const INSTALLED = Symbol.for('pgcred.cdktn-alias');

/** Where the app's packages resolve from: the directory of the app's entry, else the working directory. */
function appDirectory(): string {
  const main = require.main?.filename;
  return main && existsSync(main) ? dirname(main) : process.cwd();
}

/**
 * Installs the alias once per process and returns the cdktn it points at, so a
 * caller (or a test) can check that `require('cdktf') === require('cdktn')`.
 */
export function useCdktn(from: string = appDirectory()): { cdktn: string; constructs: string } {
  const appRequire = createRequire(join(from, 'noop.js'));
  let cdktn: string;
  let constructs: string;
  try {
    cdktn = appRequire.resolve('cdktn');
    constructs = appRequire.resolve('constructs');
  } catch {
    throw new Error(
      `pgcred/cdktn: cdktn and constructs must be installed in the app (npm install cdktn constructs), looked from ${from}`,
    );
  }
  const state = globalThis as { [INSTALLED]?: { cdktn: string; constructs: string } };
  if (state[INSTALLED]) return state[INSTALLED];
  const mod = Module as unknown as ResolvingModule;
  const original = mod._resolveFilename;
  mod._resolveFilename = function (request, parent, isMain, options) {
    if (request === 'cdktf') return cdktn;
    if (request.startsWith('cdktf/')) return appRequire.resolve(`cdktn/${request.slice('cdktf/'.length)}`);
    if (request === 'constructs') return constructs;
    return original.call(this, request, parent, isMain, options);
  };
  state[INSTALLED] = { cdktn, constructs };
  return state[INSTALLED];
}

useCdktn();
