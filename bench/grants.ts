/**
 * Grouped grants against the script a user would write from the seed, in the same
 * process on the same private PostgreSQL, reported as a ratio.
 *
 *   npm run bench            (BENCH_SCHEMAS, BENCH_TABLES, BENCH_CREDENTIALS change the size)
 *
 * Baseline: for each credential, the seed's GRANT USAGE / GRANT ... ON ALL TABLES IN
 * SCHEMA / ALTER DEFAULT PRIVILEGES, in one transaction. pgcred: `apply` of the same
 * levels, which names every grantee of a privilege set in one statement per schema set.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { parseConfig } from '../src/config/load';
import { MasterKey } from '../src/control/crypto';
import { ControlStore } from '../src/control/store';
import { startPostgres } from '../src/embedded/server';
import { inspect } from '../src/reconciler/inspect';
import { applyDatabase } from '../src/reconciler/reconcile';

const SCHEMAS = Number(process.env.BENCH_SCHEMAS ?? 20);
const TABLES = Number(process.env.BENCH_TABLES ?? 100);
const CREDENTIALS = Number(process.env.BENCH_CREDENTIALS ?? 30);

async function sql(url: string, text: string): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  await c.query(text);
  await c.end();
}

async function makeDatabase(serverUrl: (db?: string) => string, name: string): Promise<string> {
  await sql(serverUrl(), `CREATE DATABASE ${name}`);
  const url = serverUrl(name);
  await sql(
    url,
    `DO $$ BEGIN
       FOR s IN 1..${SCHEMAS} LOOP
         EXECUTE format('CREATE SCHEMA s%s', s);
         FOR t IN 1..${TABLES} LOOP EXECUTE format('CREATE TABLE s%s.t%s (id int)', s, t); END LOOP;
       END LOOP;
     END $$`,
  );
  return url;
}

async function main(): Promise<void> {
  const server = await startPostgres();
  try {
    const names = Array.from({ length: CREDENTIALS }, (_, i) => `bench_c${i}`);
    const levels = names.map((n, i) => ({ name: n, level: i % 2 ? 'read-write' : 'read-only' }));
    console.error(
      `PostgreSQL ${server.majorVersion}: ${SCHEMAS} schemas x ${TABLES} tables, ${CREDENTIALS} credentials`,
    );

    // Baseline: the per-credential script, one transaction.
    const baselineUrl = await makeDatabase(server.url, 'baseline');
    await sql(baselineUrl, names.map((n) => `CREATE ROLE ${n} LOGIN`).join(';'));
    const schemaList = Array.from({ length: SCHEMAS }, (_, s) => `s${s + 1}`).join(', ');
    const script = levels
      .flatMap(({ name, level }) => {
        const privileges = level === 'read-only' ? 'SELECT' : 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE';
        return [
          `GRANT CONNECT ON DATABASE baseline TO ${name}`,
          `GRANT USAGE ON SCHEMA ${schemaList} TO ${name}`,
          ...Array.from(
            { length: SCHEMAS },
            (_, s) => `GRANT ${privileges} ON ALL TABLES IN SCHEMA s${s + 1} TO ${name}`,
          ),
          `ALTER DEFAULT PRIVILEGES GRANT ${privileges} ON TABLES TO ${name}`,
        ];
      })
      .join(';\n');
    let start = performance.now();
    // BENCH_SKIP_BASELINE=1 for sizes where the per-credential script does not finish (50 x 200 x 60).
    const skipBaseline = process.env.BENCH_SKIP_BASELINE === '1';
    if (!skipBaseline) await sql(baselineUrl, `BEGIN;\n${script};\nCOMMIT`);
    const baseline = skipBaseline ? Number.NaN : performance.now() - start;

    // pgcred: the same levels from a file, applied in one transaction.
    const url = await makeDatabase(server.url, 'grouped');
    const config = parseConfig(
      `version: 1\ndatabases:\n  - name: grouped\n    url: "${url}"\n    credentialLimit: ${CREDENTIALS}\n    credentials:\n${levels
        .map(({ name, level }) => `      - { name: ${name}_p, permission: ${level} }`)
        .join('\n')}\n`,
    );
    const control = await ControlStore.open(url, MasterKey.parse(randomBytes(32).toString('hex'), 'bench'));
    const ctx = { config, control, progress: () => undefined };
    start = performance.now();
    const result = await applyDatabase(ctx, config.databases[0]!, {});
    const grouped = performance.now() - start;

    // Inspection: 10 tables against all of them, same credentials.
    const small = await makeSmall(server.url);
    const timeInspect = async (target: string) => {
      const c = new Client({ connectionString: target });
      await c.connect();
      const t = performance.now();
      await inspect(c);
      const ms = performance.now() - t;
      await c.end();
      return ms;
    };
    const inspectSmall = await timeInspect(small);
    const inspectLarge = await timeInspect(url);
    await control.close();

    const report = {
      postgres: server.majorVersion,
      size: { schemas: SCHEMAS, tables: SCHEMAS * TABLES, credentials: CREDENTIALS },
      baselinePerCredentialMs: Math.round(baseline),
      pgcredApplyMs: Math.round(grouped),
      pgcredStatements: result.plan.statements.length,
      baselineStatements: script.split(';\n').length,
      speedup: Number((baseline / grouped).toFixed(1)),
      inspectMs: {
        tables10: Math.round(inspectSmall),
        [`tables${SCHEMAS * TABLES}`]: Math.round(inspectLarge),
      },
      inspectRatio: Number((inspectLarge / inspectSmall).toFixed(1)),
    };
    console.log(JSON.stringify(report, null, 2));
  } finally {
    await server.stop();
  }
}

async function makeSmall(serverUrl: (db?: string) => string): Promise<string> {
  await sql(serverUrl(), 'CREATE DATABASE small');
  const url = serverUrl('small');
  await sql(
    url,
    `DO $$ BEGIN FOR t IN 1..10 LOOP EXECUTE format('CREATE TABLE t%s (id int)', t); END LOOP; END $$`,
  );
  return url;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
