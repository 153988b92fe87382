/**
 * Times pgcred's Terraform provider with 60 credentials on a private PostgreSQL:
 * the first apply, then no-op plans (`terraform plan -detailed-exitcode` exits 0).
 * With apps (default 6), every credential is also attached to one of them
 * (pgcred_app with an env file, pgcred_attachment), as a real stack would be.
 *
 *   npm run provider:install && npx tsx scripts/provider-bench.ts [credentials] [apps]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { startPostgres } from '../src/embedded/server';
import { derivedOwnerName } from '../src/reconciler/diff';
import { terraformEnv } from '../test/provider/terraform-cli';
import { timedTerraform as terraform } from './timed-terraform';

const COUNT = Number(process.argv[2] ?? 60);
const APPS = Number(process.argv[3] ?? 6);

async function main(): Promise<void> {
  const server = await startPostgres();
  const database = `bench_${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'pgcred-bench-'));
  const names = Array.from({ length: COUNT }, (_, i) => `bench${i}_${randomBytes(3).toString('hex')}`);
  try {
    const admin = new Client({ connectionString: server.url('postgres') });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${database}"`);
    await admin.end();
    const db = new Client({ connectionString: server.url(database) });
    await db.connect();
    // Some tables and sequences, so levels have something to cover.
    for (let i = 0; i < 20; i++) await db.query(`CREATE TABLE t${i} (id serial PRIMARY KEY, note text)`);
    await db.end();

    const levels = ['none', 'read-only', 'read-write'];
    const resources = names.map((name, i) => ({
      [`c${i}`]: { database: 'bench', name, permission: levels[i % 3] },
    }));
    const apps = Array.from({ length: APPS }, (_, a) => ({
      [`app${a}`]: { name: `bench-app-${a}`, env_file: join(dir, 'run', `bench-app-${a}.env`) },
    }));
    const attachments = APPS
      ? names.map((_, i) => ({
          [`a${i}`]: {
            database: 'bench',
            credential: `\${pgcred_credential.c${i}.name}`,
            app: `\${pgcred_app.app${i % APPS}.name}`,
          },
        }))
      : [];
    writeFileSync(
      join(dir, 'main.tf.json'),
      JSON.stringify({
        terraform: { required_providers: { pgcred: { source: 'pgcred/pgcred', version: '0.1.0' } } },
        variable: { admin_url: { type: 'string', sensitive: true } },
        provider: { pgcred: { database: [{ name: 'bench', url: '${var.admin_url}' }] } },
        resource: {
          pgcred_credential: Object.assign({}, ...resources),
          ...(APPS
            ? { pgcred_app: Object.assign({}, ...apps), pgcred_attachment: Object.assign({}, ...attachments) }
            : {}),
        },
      }),
    );
    const env = terraformEnv({
      PGCRED_MASTER_KEY: randomBytes(32).toString('hex'),
      TF_VAR_admin_url: server.url(database),
    });
    terraform(dir, env, ['init', '-input=false']);
    const apply = terraform(dir, env, ['apply', '-auto-approve', '-input=false']);
    const plans = [0, 1, 2].map(() => terraform(dir, env, ['plan', '-detailed-exitcode', '-input=false']));
    if (plans.some((p) => p.status !== 0)) throw new Error('a plan after apply was not empty');
    const destroy = terraform(dir, env, ['destroy', '-auto-approve', '-input=false']);
    const sorted = plans.map((p) => p.ms).sort((a, b) => a - b);
    process.stdout.write(
      `${COUNT} credentials, 20 tables${APPS ? `, ${COUNT} attachments to ${APPS} apps` : ''}:\n` +
        `  first apply:  ${(apply.ms / 1000).toFixed(2)} s\n` +
        `  no-op plan:   ${(sorted[1]! / 1000).toFixed(2)} s (median of 3: ${sorted.map((ms) => (ms / 1000).toFixed(2)).join(', ')})\n` +
        `  destroy:      ${(destroy.ms / 1000).toFixed(2)} s\n`,
    );
  } finally {
    const admin = new Client({ connectionString: server.url('postgres') });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    for (const name of [...names, derivedOwnerName('bench')]) {
      await admin.query(`DROP ROLE IF EXISTS "${name}"`).catch(() => undefined);
    }
    await admin.end();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
