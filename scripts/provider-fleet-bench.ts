/**
 * Times examples/terraform-fleet on a private PostgreSQL: N databases on one cluster,
 * each with the same three credential names (none, read-only, read-write) kept apart
 * by a username prefix, and one app: the first apply, then no-op plans at the given
 * -parallelism (`terraform plan -detailed-exitcode` exits 0).
 *
 *   npm run provider:install && npx tsx scripts/provider-fleet-bench.ts [databases] [parallelism]
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { startPostgres } from '../src/embedded/server';
import { terraformEnv } from '../test/provider/terraform-cli';
import { timedTerraform as terraform } from './timed-terraform';

const COUNT = Number(process.argv[2] ?? 20);
const PARALLELISM = Number(process.argv[3] ?? 10);
const ROOT = resolve(__dirname, '..');

async function main(): Promise<void> {
  const server = await startPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'pgcred-fleet-bench-'));
  const names = Array.from({ length: COUNT }, (_, i) => `fleet${i}`);
  try {
    const admin = new Client({ connectionString: server.url('postgres') });
    await admin.connect();
    for (const name of names) await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    for (const name of names) {
      const db = new Client({ connectionString: server.url(name) });
      await db.connect();
      // Some tables, so levels have something to cover.
      for (let i = 0; i < 5; i++) await db.query(`CREATE TABLE t${i} (id serial PRIMARY KEY, note text)`);
      await db.end();
    }
    const databases = Object.fromEntries(
      names.map((name) => [
        name,
        {
          url: server.url(name),
          username_prefix: `${name}_`,
          credentials: { auditor: 'none', analyst: 'read-only', writer: 'read-write' },
          apps: { [`app-${name}`]: 'analyst' },
        },
      ]),
    );
    copyFileSync(join(ROOT, 'examples', 'terraform-fleet', 'main.tf'), join(dir, 'main.tf'));
    writeFileSync(join(dir, 'fleet.auto.tfvars.json'), JSON.stringify({ databases }));
    const env = terraformEnv({
      PGCRED_MASTER_KEY: randomBytes(32).toString('hex'),
    });
    const parallelism = `-parallelism=${PARALLELISM}`;
    terraform(dir, env, ['init', '-input=false']);
    const apply = terraform(dir, env, ['apply', '-auto-approve', '-input=false', parallelism]);
    const plans = [0, 1, 2].map(() =>
      terraform(dir, env, ['plan', '-detailed-exitcode', '-input=false', parallelism]),
    );
    if (plans.some((p) => p.status !== 0)) throw new Error('a plan after apply was not empty');
    const sorted = plans.map((p) => p.ms).sort((a, b) => a - b);
    process.stdout.write(
      `${COUNT} databases x 3 credentials and 1 app, -parallelism=${PARALLELISM}:\n` +
        `  first apply:  ${(apply.ms / 1000).toFixed(2)} s\n` +
        `  no-op plan:   ${(sorted[1]! / 1000).toFixed(2)} s (median of 3: ${sorted.map((ms) => (ms / 1000).toFixed(2)).join(', ')})\n`,
    );
  } finally {
    // The server is private to this run: stopping it removes its data directory.
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
