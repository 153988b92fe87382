#!/usr/bin/env node
/**
 * Writes dist/cli/main.bundle.js.cache, the V8 code cache bin/load-cli.js compiles the
 * bundle with. V8 caches the functions that have run by the time the cache is made, so
 * this runs what every command runs first, in a directory of its own: the help, then
 * a drift of a 60-credential file whose database refuses the connection (parsing,
 * validating and planning the file, opening connections, reporting the error). No
 * database is needed and nothing outside that directory is touched. Run by
 * scripts/bundle-cli.js; a cache V8 later rejects only costs the saving.
 */
const { mkdtempSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const bundle = process.argv[2];
if (!bundle) throw new Error('usage: code-cache.js DIST/cli/main.bundle.js');

const { loadBundle, loadPg } = require(join(__dirname, '..', 'bin', 'load-cli.js'));

// As bin/pgcred.js loads it.
loadPg();

const LEVELS = ['none', 'read-only', 'read-write'];
const credentials = Array.from({ length: 60 }, (_, i) => {
  const name = `warm_${String(i + 1).padStart(2, '0')}`;
  if (i % 10 === 9)
    return `      - name: ${name}\n        grants:\n          - { privileges: [SELECT], on: table, objects: [public.t] }\n`;
  const rotation = i % 7 === 0 ? ', rotation: { every: 90d, grace: 30m }' : '';
  return `      - { name: ${name}, permission: ${LEVELS[i % 3]}${rotation} }\n`;
}).join('');
const FILE = `version: 1
databases:
  - name: warm
    url: \${DATABASE_ADMIN_URL}
    plan: standard-0
    credentialLimit: 120
    credentials:
${credentials}apps:
  - { name: warm-app, envFile: ./warm-app.env }
attachments:
  - { database: warm, credential: warm_02, app: warm-app }
`;

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'pgcred-code-cache-'));
  const { exports: cli, script } = loadBundle(bundle, module);
  const cwd = process.cwd();
  const write = { out: process.stdout.write, err: process.stderr.write };
  try {
    writeFileSync(join(dir, 'pgcred.yaml'), FILE);
    process.chdir(dir);
    // Port 1 on loopback refuses at once; the timeout bounds any other answer.
    process.env.DATABASE_ADMIN_URL = 'postgres://warm:warm@127.0.0.1:1/warm';
    process.env.PGCRED_MASTER_KEY = '0'.repeat(64);
    process.env.PGCRED_CONNECT_TIMEOUT = '2';
    process.stdout.write = process.stderr.write = () => true;
    await cli.runCli(['--help']);
    await cli.runCli(['drift']);
    await cli.runCli(['plan']);
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  }
  // Written whole or not at all: a command never reads half a cache.
  writeFileSync(`${bundle}.cache.tmp`, script.createCachedData());
  renameSync(`${bundle}.cache.tmp`, `${bundle}.cache`);
}

main().catch((error) => {
  process.stderr.write(`code-cache.js: ${error.stack ?? error}\n`);
  process.exit(1);
});
