#!/usr/bin/env node
// npm run provider:install (in this repository) or npx pgcred-provider-install (where
// pgcred is installed as a package): lays pgcred's Terraform provider into a filesystem
// mirror with a Terraform CLI config, so `terraform init` works offline.
//
// Installed as a package, the provider is the package's own build (dist/provider):
// nothing is compiled, and the mirror goes to ./.terraform-mirror in the directory
// the command runs in (or the directory given as its argument):
//
//   .terraform-mirror/registry.terraform.io/pgcred/pgcred/<version>/<os>_<arch>/terraform-provider-pgcred_v<version>
//   .terraform-mirror/terraform.rc      (export TF_CLI_CONFIG_FILE=<this file>)
//
// In this repository it builds the provider from src/ into the repository's mirror:
//
//   .terraform-mirror/registry.terraform.io/pgcred/pgcred/0.1.0/<os>_<arch>/terraform-provider-pgcred_v0.1.0
//   .terraform-mirror/terraform.rc      (export TF_CLI_CONFIG_FILE=<this file>)
//   .terraform-mirror/build/<id>/       (one compiled provider per install)
//   .terraform-mirror/build/current     (a symlink to the newest, which the launcher runs)
//
// The launcher only names build/current, so rebuilding does not change the package
// Terraform hashes into .terraform.lock.hcl. Each install compiles into a fresh
// directory and then swaps the symlink in one rename: a provider Terraform starts
// meanwhile, or one still running from the previous build, never reads a half-written
// file (node resolves the symlink once, and loads the rest from the same build).
const { spawnSync } = require('node:child_process');
const {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} = require('node:fs');
const { join, resolve } = require('node:path');

const ROOT = resolve(__dirname, '..');
// A checkout has the sources; an installed package has only its build.
const FROM_SOURCES = existsSync(join(ROOT, 'src', 'provider', 'main.ts'));
const MIRROR = process.argv[2]
  ? resolve(process.argv[2], '.terraform-mirror')
  : FROM_SOURCES
    ? join(ROOT, '.terraform-mirror')
    : resolve('.terraform-mirror');
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
const ADDRESS = 'registry.terraform.io/pgcred/pgcred';
const ARCH = { x64: 'amd64', arm64: 'arm64', ia32: '386' };

const BUILDS = join(MIRROR, 'build');
const KEEP_MS = 24 * 3600_000;

function build() {
  const id = `${Date.now().toString(36)}-${process.pid}`;
  const outDir = join(BUILDS, id);
  const tsc = require.resolve('typescript/bin/tsc');
  const result = spawnSync(
    process.execPath,
    [tsc, '-p', join(__dirname, 'provider.tsconfig.json'), '--outDir', outDir],
    { stdio: 'inherit' },
  );
  if (result.status !== 0) {
    rmSync(outDir, { recursive: true, force: true });
    process.stderr.write('provider:install: the TypeScript build failed\n');
    process.exit(1);
  }
  const link = join(BUILDS, `current.${process.pid}`);
  rmSync(link, { force: true });
  symlinkSync(id, link);
  renameSync(link, join(BUILDS, 'current'));
  // Old builds go after a day: a provider started from one (a long rotation) may still need it.
  for (const entry of readdirSync(BUILDS)) {
    if (entry === id || entry.startsWith('current')) continue;
    const path = join(BUILDS, entry);
    if (Date.now() - statSync(path).mtimeMs > KEEP_MS) rmSync(path, { recursive: true, force: true });
  }
}

function shellQuote(text) {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function install(main) {
  const platform = `${process.platform}_${ARCH[process.arch] ?? process.arch}`;
  const dir = join(MIRROR, ADDRESS, VERSION, platform);
  mkdirSync(dir, { recursive: true });
  const launcher = join(dir, `terraform-provider-pgcred_v${VERSION}`);
  // exec: node replaces the shell, so no orphan keeps Terraform's pipes open.
  writeFileSync(
    launcher,
    // The first lines as before: a launcher that reads the same keeps the lock file's checksum.
    `#!/bin/sh\n# pgcred's Terraform provider, installed by ${FROM_SOURCES ? 'npm run provider:install' : 'pgcred-provider-install'}\nexec ${shellQuote(process.execPath)} ${shellQuote(main)} "$@"\n`,
  );
  chmodSync(launcher, 0o755);
  const cliConfig = join(MIRROR, 'terraform.rc');
  writeFileSync(
    cliConfig,
    [
      '# Terraform CLI config written by npm run provider:install: export TF_CLI_CONFIG_FILE=<this file>',
      'provider_installation {',
      '  filesystem_mirror {',
      `    path    = ${JSON.stringify(MIRROR)}`,
      `    include = [${JSON.stringify(ADDRESS)}]`,
      '  }',
      '  direct {',
      `    exclude = [${JSON.stringify(ADDRESS)}]`,
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  return { launcher, cliConfig };
}

let main;
if (FROM_SOURCES) {
  build();
  main = join(BUILDS, 'current', 'provider', 'main.js');
} else {
  main = join(ROOT, 'dist', 'provider', 'main.js');
  if (!existsSync(main)) {
    process.stderr.write(`provider:install: ${main} is missing: this pgcred package was not built\n`);
    process.exit(1);
  }
}
const { launcher, cliConfig } = install(main);
process.stdout.write(
  `Installed ${ADDRESS} ${VERSION}:\n  ${launcher}\nUse it with:\n  export TF_CLI_CONFIG_FILE=${cliConfig}\n`,
);
