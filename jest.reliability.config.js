/**
 * `npm run test:reliability`: the long reliability families (test/reliability) at
 * full size: 50+ fault trials, the whole bad-input corpus under several commands.
 * `npm test` runs the same files with a few cases each.
 * PGCRED_TEST_PG_VERSION=14|15|16|17|18 picks the server, as for the other suites.
 */
process.env.PGCRED_RELIABILITY = 'long';

const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/test/reliability'],
  testTimeout: 900000,
};
