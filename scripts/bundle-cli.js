#!/usr/bin/env node
/**
 * Writes the CLI as one file, dist/cli/main.bundle.js, which bin/pgcred.js loads:
 * pgcred's own modules with yaml, js-yaml and commander, the packages every command loads.
 * Node resolves, reads and compiles each CommonJS file on its own, and a no-op drift
 * loaded some 150 of them (76 of pgcred's, 72 of yaml's): one file starts each
 * command about 20 ms sooner. Every other package stays outside, loaded where it is
 * used as before, so the bundle does not hold the dashboard's server or the importer's
 * TypeScript; pg stays outside too, so that there is one pg in the process. Run by
 * `npm run build` after tsc and build-validators.js; the library (dist/index.js) and
 * the Terraform provider load dist/ as tsc wrote it. code-cache.js then writes the
 * bundle's V8 code cache beside it.
 */
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { build } = require('esbuild');

const root = join(__dirname, '..');
const dist = process.argv[2] ?? join(root, 'dist');
const entry = join(dist, 'cli', 'main.js');
if (!existsSync(entry)) throw new Error(`${entry}: run tsc first`);

const inside = new Set(['yaml', 'js-yaml', 'commander']);

/** Every package but those three is loaded from node_modules, as before. */
const packagesOutside = {
  name: 'packages-outside',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      const name = args.path.startsWith('@')
        ? args.path.split('/').slice(0, 2).join('/')
        : args.path.split('/')[0];
      return inside.has(name) ? undefined : { path: args.path, external: true };
    });
  },
};

const outfile = join(dist, 'cli', 'main.bundle.js');

build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  plugins: [packagesOutside],
  // A package built outside the repository (test/provider/installed-package.ts) finds them there.
  nodePaths: process.env.NODE_PATH ? process.env.NODE_PATH.split(':') : [],
  logLevel: 'warning',
})
  .then(() =>
    execFileSync(process.execPath, [join(__dirname, 'code-cache.js'), outfile], { stdio: 'inherit' }),
  )
  .catch((error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  });
