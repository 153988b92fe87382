'use strict';
/**
 * The whole-process floor for `pgcred drift`: a Node process that only connects
 * with pg and runs the catalog-scan floor query, then exits.
 */
const { Client } = require('pg');

async function main() {
  const client = new Client({ connectionString: process.argv[2] });
  await client.connect();
  const { rows } = await client.query('SELECT count(*) FROM pg_class, aclexplode(relacl)');
  await client.end();
  process.stdout.write(`${rows[0].count}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
});
