#!/usr/bin/env node
// npm run provider:install: builds pgcred's Terraform provider and lays it into a
// filesystem mirror with a Terraform CLI config, so `terraform init` works offline:
//
//   .terraform-mirror/registry.terraform.io/pgcred/pgcred/0.1.0/<os>_<arch>/terraform-provider-pgcred_v0.1.0
//   .terraform-mirror/terraform.rc      (export TF_CLI_CONFIG_FILE=<this file>)
//   .terraform-mirror/build/            (the compiled provider the launcher runs)
//
// The launcher only names the build, so rebuilding does not change the package
// Terraform hashes into .terraform.lock.hcl.
const { spawnSync } = require('node:child_process');
const { chmodSync, mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join, resolve } = require('node:path');

const ROOT = resolve(__dirname, '..');
const MIRROR = join(ROOT, '.terraform-mirror');
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
const ADDRESS = 'registry.terraform.io/pgcred/pgcred';
const ARCH = { x64: 'amd64', arm64: 'arm64', ia32: '386' };

function build() {
  const tsc = require.resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', join(__dirname, 'provider.tsconfig.json')], {
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    process.stderr.write('provider:install: the TypeScript build failed\n');
    process.exit(1);
  }
}

function shellQuote(text) {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function install() {
  const platform = `${process.platform}_${ARCH[process.arch] ?? process.arch}`;
  const dir = join(MIRROR, ADDRESS, VERSION, platform);
  mkdirSync(dir, { recursive: true });
  const launcher = join(dir, `terraform-provider-pgcred_v${VERSION}`);
  // exec: node replaces the shell, so no orphan keeps Terraform's pipes open.
  writeFileSync(
    launcher,
    `#!/bin/sh\n# pgcred's Terraform provider, installed by npm run provider:install\nexec ${shellQuote(process.execPath)} ${shellQuote(join(MIRROR, 'build', 'provider', 'main.js'))} "$@"\n`,
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

build();
const { launcher, cliConfig } = install();
process.stdout.write(
  `Installed ${ADDRESS} ${VERSION}:\n  ${launcher}\nUse it with:\n  export TF_CLI_CONFIG_FILE=${cliConfig}\n`,
);
