/**
 * A fleet: many small databases over several clusters, as a platform team runs them.
 *
 *   npm run bench:fleet                                        5 clusters x 100 databases
 *   BENCH_FLEET_CLUSTERS=2 BENCH_FLEET_DATABASES=10 npm run bench:fleet   a quick run, to debug
 *   BENCH_FLEET_CASES=drift,terraform npm run bench:fleet      also the Terraform no-op plan
 *   BENCH_FLEET_SEQUENTIAL=50                                   databases the one-at-a-time case samples
 *   BENCH_FLEET_TF_DATABASES=100                                databases of the Terraform case
 *   BENCH_FLEET_PROFILE=/tmp/prof                               profile instead: a fleet drift's CPU profile
 *                                                               and slowest queries in that directory; no report
 *
 * Setup (untimed): the servers, one template database per cluster copied with CREATE
 * DATABASE ... TEMPLATE, one pgcred.yaml declaring them all and one `pgcred apply --yes`.
 * Then, in one run: `pgcred drift` over the fleet in one process, and `pgcred drift
 * --database <name>` one process after another, as a cron job per database would. It
 * writes bench/fleet-results.json and BENCHMARKS.md's "Fleet" section.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { type PostgresServer, startPostgres } from '../src/embedded/server';
import type { PermissionLevelName } from '../src/model/permission-level';
import { terraformEnv } from '../test/provider/terraform-cli';
import { run } from './processes';
import { type BenchRun, type FleetRun, writeReport } from './write-report';

const ROOT = join(__dirname, '..');
const CLUSTERS = Number(process.env.BENCH_FLEET_CLUSTERS ?? 5);
const DATABASES = Number(process.env.BENCH_FLEET_DATABASES ?? 100);
const TABLES = 10;
const CASES = (process.env.BENCH_FLEET_CASES ?? 'drift').split(',').map((c) => c.trim().toLowerCase());
/**
 * The one-at-a-time case runs this many databases, spread over the clusters, and is
 * scaled to the fleet: 500 processes one after another would take most of the run.
 */
const SEQUENTIAL = Math.min(Number(process.env.BENCH_FLEET_SEQUENTIAL ?? 100), CLUSTERS * DATABASES);
const TF_DATABASES = Number(process.env.BENCH_FLEET_TF_DATABASES ?? 100);
/** A profile's figures are not the benchmark's: the profiler slows what it watches. */
const PROFILE = process.env.BENCH_FLEET_PROFILE;

// Small servers, as many as a fleet host runs side by side: the fleet's cost is per
// database, not per buffer. Autovacuum is off so that no vacuum the build set off
// shares the two cores with a measured run.
const SETTINGS = {
  shared_buffers: '32MB',
  max_connections: '50',
  autovacuum: 'off',
};

/** Five credentials a database, a mix of levels; their usernames get the database's prefix. */
const CREDENTIALS: readonly { name: string; level: PermissionLevelName }[] = [
  { name: 'app', level: 'read-write' },
  { name: 'worker', level: 'read-write' },
  { name: 'analyst', level: 'read-only' },
  { name: 'reporter', level: 'read-only' },
  { name: 'monitor', level: 'none' },
];

const TEMPLATE = 'fleet_template';
const TEMPLATE_OWNER = 'fleet_template_owner';
const CONTROL = 'pgcred_control';

function log(line: string): void {
  process.stderr.write(`[bench:fleet ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

async function withClient<T>(url: string, work: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const pad = (n: number) => String(n).padStart(3, '0');
const clusterName = (c: number) => `fleet-${c}`;
/** The database's name, in the file and on its server; distinct over the fleet, as the file needs. */
const dbName = (c: number, d: number) => `c${c}_d${pad(d)}`;
/** Distinct on one cluster, which is all roles need; the same on every cluster. */
const prefixOf = (d: number) => `d${pad(d)}_`;
const ownerOf = (d: number) => `d${pad(d)}_owner`;
const passwordVar = (c: number) => `FLEET_PW_${c}`;

/** One cluster: its template of ten tables, then its databases copied from it. */
async function buildCluster(c: number, server: PostgresServer, extra: readonly string[] = []): Promise<void> {
  await withClient(server.url(), async (pg) => {
    await pg.query(`CREATE ROLE ${TEMPLATE_OWNER} NOLOGIN`);
    await pg.query(`CREATE DATABASE ${TEMPLATE}`);
    if (c === 1) await pg.query(`CREATE DATABASE ${CONTROL}`);
  });
  await withClient(server.url(TEMPLATE), async (pg) => {
    await pg.query(`GRANT CREATE ON SCHEMA public TO ${TEMPLATE_OWNER}`);
    await pg.query(`SET ROLE ${TEMPLATE_OWNER}`);
    for (let t = 1; t <= TABLES; t++)
      await pg.query(
        `CREATE TABLE public.t${pad(t)} (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n int, note text)`,
      );
    await pg.query('RESET ROLE');
    await pg.query(`REVOKE CREATE ON SCHEMA public FROM ${TEMPLATE_OWNER}`);
  });
  const names = [
    ...Array.from({ length: DATABASES }, (_, i) => ({ db: dbName(c, i + 1), owner: ownerOf(i + 1) })),
    ...extra.map((db) => ({ db, owner: `${db}_owner` })),
  ];
  await withClient(server.url(), async (pg) => {
    for (const { db, owner } of names) {
      await pg.query(`CREATE ROLE ${owner} LOGIN`);
      await pg.query(`CREATE DATABASE ${db} TEMPLATE ${TEMPLATE} OWNER ${owner}`);
      // A database of its own cluster: no other role may connect through PUBLIC, so
      // pgcred hardens it as it would a new server's (the 499 others' credentials are
      // login roles of these clusters).
      await pg.query(`REVOKE CONNECT, TEMPORARY ON DATABASE ${db} FROM PUBLIC`);
    }
  });
  // The copies' tables belong to the template's owner: each database's owner, its
  // default credential, owns them, as when the apps' migrations create them.
  for (const { db, owner } of names)
    await withClient(server.url(db), (pg) => pg.query(`REASSIGN OWNED BY ${TEMPLATE_OWNER} TO ${owner}`));
  await withClient(server.url(), async (pg) => {
    await pg.query('VACUUM ANALYZE');
    await pg.query('CHECKPOINT');
  });
}

function configYaml(servers: readonly PostgresServer[]): string {
  const url = (c: number, db: string) =>
    `"postgres://postgres:\${${passwordVar(c)}}@127.0.0.1:${servers[c - 1]!.port}/${db}"`;
  const lines = ['version: 1', `control: { url: ${url(1, CONTROL)} }`, 'databases:'];
  for (let c = 1; c <= servers.length; c++) {
    for (let d = 1; d <= DATABASES; d++) {
      lines.push(
        `  - name: ${dbName(c, d)}`,
        `    url: ${url(c, dbName(c, d))}`,
        `    cluster: ${clusterName(c)}`,
        `    tags: [${clusterName(c)}, ${d % 2 ? 'odd' : 'even'}]`,
        `    owner: ${ownerOf(d)}`,
        `    usernamePrefix: ${prefixOf(d)}`,
        '    credentials:',
        ...CREDENTIALS.map((cr) => `      - { name: ${cr.name}, permission: ${cr.level} }`),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

interface Measured {
  readonly ms: number;
  readonly maxRssKb?: number;
  readonly roundTrips?: number;
  readonly statements?: number;
}

class Fleet {
  readonly dir = mkdtempSync(join(tmpdir(), 'pgcred-bench-fleet-'));
  readonly masterKey = randomBytes(32).toString('hex');
  readonly env: NodeJS.ProcessEnv;

  constructor(servers: readonly PostgresServer[]) {
    this.env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PGCRED_MASTER_KEY: this.masterKey,
      ...Object.fromEntries(servers.map((s, i) => [passwordVar(i + 1), s.password])),
    };
    writeFileSync(join(this.dir, 'pgcred.yaml'), configYaml(servers));
  }

  /** `pgcred <args>` with the probe (round trips, peak memory); fails unless it exits `expect`. */
  async pgcred(
    args: readonly string[],
    expect = 0,
    profile?: string,
  ): Promise<Measured & { stdout: string; stderr: string }> {
    const probe = join(this.dir, 'probe.json');
    rmSync(probe, { force: true });
    const done = await run(
      process.execPath,
      [
        ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []),
        '--require',
        join(__dirname, 'probe.cjs'),
        join(ROOT, 'bin', 'pgcred.js'),
        ...args,
      ],
      {
        cwd: this.dir,
        env: { ...this.env, PGCRED_BENCH_PROBE: probe, ...(profile ? { PGCRED_BENCH_TRACE: '1' } : {}) },
      },
    );
    if (done.status !== expect) {
      // Only the tail: a fleet's report is long, and it holds no secret either way.
      const tail = `${done.stderr}${done.stdout}`.trim().split('\n').slice(-20).join('\n');
      throw new Error(`pgcred ${args.join(' ')} exited ${done.status}, not ${expect}:\n${tail}`);
    }
    const counts = JSON.parse(readFileSync(probe, 'utf8')) as Omit<Measured, 'ms'>;
    return { ms: done.ms, ...counts, stdout: done.stdout, stderr: done.stderr };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The Terraform case: the provider over databases of one cluster, `plan` with nothing to do. */
async function terraformCase(
  server: PostgresServer,
  names: readonly string[],
): Promise<FleetRun['terraform']> {
  const install = await run(process.execPath, [join(ROOT, 'scripts', 'provider-install.js')], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
  });
  if (install.status !== 0) throw new Error(`provider:install failed:\n${install.stderr}`);
  const dir = mkdtempSync(join(tmpdir(), 'pgcred-bench-tf-'));
  try {
    const credentials = CREDENTIALS.map((cr, n) => ({ suffix: n + 1, level: cr.level }));
    // Credential names are the usernames here (no prefix in the provider): one set per database.
    writeFileSync(
      join(dir, 'main.tf'),
      `terraform {
  required_providers {
    pgcred = { source = "pgcred/pgcred" }
  }
}

variable "password" {
  type      = string
  sensitive = true
}

locals {
  databases   = toset(${JSON.stringify(names)})
  credentials = ${JSON.stringify(Object.fromEntries(credentials.map((c) => [String(c.suffix), c.level])))}
  pairs = merge([
    for db in local.databases : {
      for n, level in local.credentials : "\${db}/\${n}" => { database = db, name = "c\${db}_\${n}", permission = level }
    }
  ]...)
}

provider "pgcred" {
  control_url = "postgres://postgres:\${var.password}@127.0.0.1:${server.port}/${CONTROL}_tf"
  dynamic "database" {
    for_each = local.databases
    content {
      name  = database.value
      url   = "postgres://postgres:\${var.password}@127.0.0.1:${server.port}/\${database.value}"
      owner = "\${database.value}_owner"
    }
  }
}

resource "pgcred_credential" "c" {
  for_each   = local.pairs
  database   = each.value.database
  name       = each.value.name
  permission = each.value.permission
}
`,
    );
    const env = terraformEnv({
      TF_VAR_password: server.password,
      PGCRED_MASTER_KEY: randomBytes(32).toString('hex'),
    });
    const terraform = async (args: string[], expect: number) => {
      const done = await run('terraform', [args[0]!, '-no-color', ...args.slice(1)], { cwd: dir, env });
      if (done.status !== expect)
        throw new Error(
          `terraform ${args.join(' ')} exited ${done.status}, not ${expect}:\n${`${done.stdout}${done.stderr}`.trim().split('\n').slice(-20).join('\n')}`,
        );
      return done;
    };
    await terraform(['init', '-input=false'], 0);
    log(`terraform apply: ${names.length} databases x ${CREDENTIALS.length} credentials (untimed)`);
    const apply = await terraform(['apply', '-auto-approve', '-input=false'], 0);
    log(`terraform apply took ${(apply.ms / 1000).toFixed(1)} s`);
    await terraform(['plan', '-detailed-exitcode', '-input=false'], 0); // warm, as a CI runner's second plan
    const plan = await terraform(['plan', '-detailed-exitcode', '-input=false'], 0);
    log(`terraform no-op plan: ${(plan.ms / 1000).toFixed(1)} s`);
    // Without refresh the provider reads nothing: what is left is Terraform's own work
    // and the provider's plan calls, so the difference is what the reads cost.
    const noRefresh = await terraform(['plan', '-refresh=false', '-detailed-exitcode', '-input=false'], 0);
    log(`terraform plan -refresh=false: ${(noRefresh.ms / 1000).toFixed(1)} s`);
    if (PROFILE) {
      // Whether the refresh waits on Terraform's ten requests at a time or on the provider.
      const wide = await terraform(['plan', '-parallelism=40', '-detailed-exitcode', '-input=false'], 0);
      log(`terraform plan -parallelism=40: ${(wide.ms / 1000).toFixed(1)} s`);
    }
    return {
      databases: names.length,
      credentials: names.length * CREDENTIALS.length,
      applyMs: apply.ms,
      planMs: plan.ms,
      planNoRefreshMs: noRefresh.ms,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every `step`-th database, over all clusters alike. */
function sample(all: readonly string[], n: number): string[] {
  if (n >= all.length) return [...all];
  const step = all.length / n;
  return Array.from({ length: n }, (_, i) => all[Math.floor(i * step)]!);
}

async function main(): Promise<void> {
  const started = new Date().toISOString();
  const load: Record<string, { one: number; five: number; fifteen: number }> = {};
  const noteLoad = (at: string) => {
    const [one, five, fifteen] = loadavg().map((x) => Math.round(x * 100) / 100);
    load[at] = { one: one!, five: five!, fifteen: fifteen! };
  };
  const terraform = CASES.includes('terraform');
  const tfNames = terraform ? Array.from({ length: TF_DATABASES }, (_, i) => `tf_d${pad(i + 1)}`) : [];
  const servers: PostgresServer[] = [];
  let fleet: Fleet | undefined;
  try {
    log(`starting ${CLUSTERS} clusters`);
    for (let c = 1; c <= CLUSTERS; c++) servers.push(await startPostgres({ settings: SETTINGS }));
    const buildStart = performance.now();
    // Two at a time, for two cores; the Terraform case's databases go on the last cluster.
    const queue = servers.map((_, i) => i + 1);
    await Promise.all(
      [0, 1].map(async () => {
        for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
          const extra = terraform && c === CLUSTERS ? tfNames : [];
          await buildCluster(c, servers[c - 1]!, extra);
          if (extra.length > 0)
            await withClient(servers[c - 1]!.url(), (pg) => pg.query(`CREATE DATABASE ${CONTROL}_tf`));
          log(`cluster ${c}: ${DATABASES + extra.length} databases built`);
        }
      }),
    );
    const buildMs = performance.now() - buildStart;
    const total = CLUSTERS * DATABASES;
    log(`built ${total} databases in ${(buildMs / 1000).toFixed(1)} s`);

    fleet = new Fleet(servers);
    log(`pgcred apply --yes over ${total} databases (untimed)`);
    const apply = await fleet.pgcred(['apply', '--yes']);
    log(`apply took ${(apply.ms / 1000).toFixed(1)} s`);
    // One untimed drift, so the timed one finds the caches that a fleet's next drift
    // finds; in JSON, to check that it saw every database, each in sync.
    const warm = await fleet.pgcred(['drift', '--format', 'json']);
    const records = (JSON.parse(warm.stdout) as { databases: { status: string }[] }).databases;
    const inSync = records.filter((r) => r.status === 'ok').length;
    if (records.length !== total || inSync !== total)
      throw new Error(`fleet drift: ${inSync} of ${records.length} in sync, expected ${total}`);
    log(`warm-up drift ${(warm.ms / 1000).toFixed(1)} s: ${inSync} databases in sync`);

    noteLoad('before the measured cases');
    // The text report, as a scheduled job runs it; exit 0 is every database in sync.
    log(`a. pgcred drift over ${total} databases, one process`);
    const drift = await fleet.pgcred(['drift']);
    log(`   ${(drift.ms / 1000).toFixed(1)} s, peak ${Math.round((drift.maxRssKb ?? 0) / 1024)} MB`);
    noteLoad('after the fleet drift');
    if (PROFILE) {
      const profiled = await fleet.pgcred(['drift'], 0, join(PROFILE, 'drift'));
      writeFileSync(join(PROFILE, 'drift-trace.txt'), profiled.stderr);
      log(`profiled fleet drift: ${(profiled.ms / 1000).toFixed(1)} s (profile and trace in ${PROFILE})`);
    }

    const all = servers.flatMap((_, i) => Array.from({ length: DATABASES }, (_, d) => dbName(i + 1, d + 1)));
    const chosen = sample(all, SEQUENTIAL);
    log(`b. pgcred drift --database <name>, ${chosen.length} processes one after another`);
    const seqStart = performance.now();
    let seqMaxRss = 0;
    for (const name of chosen) {
      const one = await fleet.pgcred(['drift', '--database', name]);
      seqMaxRss = Math.max(seqMaxRss, one.maxRssKb ?? 0);
    }
    const seqMs = performance.now() - seqStart;
    const scaledMs = (seqMs * total) / chosen.length;
    log(
      `   ${(seqMs / 1000).toFixed(1)} s for ${chosen.length}, ${(scaledMs / 1000).toFixed(1)} s scaled to ${total}`,
    );
    noteLoad('after the one-at-a-time drifts');

    const tf = terraform ? await terraformCase(servers[CLUSTERS - 1]!, tfNames) : undefined;
    if (tf) noteLoad('after the Terraform case');

    const result: FleetRun = {
      started,
      finished: new Date().toISOString(),
      postgres: await withClient(servers[0]!.url(), async (pg) => {
        const { rows } = await pg.query<{ v: string }>("SELECT current_setting('server_version') AS v");
        return rows[0]!.v;
      }),
      machine: {
        cpus: cpus().length,
        cpu: cpus()[0]?.model ?? 'unknown',
        memoryGb: Math.round(totalmem() / 2 ** 30),
        node: process.version,
      },
      loadAverage: load,
      clusters: CLUSTERS,
      databasesPerCluster: DATABASES,
      tablesPerDatabase: TABLES,
      credentialsPerDatabase: CREDENTIALS.length,
      levels: CREDENTIALS.map((c) => c.level),
      settings: SETTINGS,
      setup: { buildMs, applyMs: apply.ms },
      drift: {
        databases: total,
        parallel: 4,
        ms: drift.ms,
        maxRssKb: drift.maxRssKb ?? 0,
        roundTrips: drift.roundTrips ?? 0,
        statements: drift.statements ?? 0,
      },
      sequential: { databases: chosen.length, ms: seqMs, scaledMs, maxRssKb: seqMaxRss },
      ...(tf ? { terraform: tf } : {}),
    };
    if (PROFILE) {
      log(
        `profiled: ${JSON.stringify({ drift: result.drift, sequential: result.sequential, terraform: tf })}`,
      );
      return;
    }
    // Arrays of scalars on one line, as biome formats JSON (the lint runs over bench/).
    const json = JSON.stringify(result, null, 2).replace(
      /\[\n\s+([^[\]{}]*?)\n\s*\]/g,
      (_, inner: string) => `[${inner.split(/,\n\s*/).join(', ')}]`,
    );
    writeFileSync(join(__dirname, 'fleet-results.json'), `${json}\n`);
    const benchRun = JSON.parse(readFileSync(join(__dirname, 'results.json'), 'utf8')) as BenchRun;
    const report = writeReport(benchRun);
    writeFileSync(join(ROOT, 'BENCHMARKS.md'), report.markdown);
    for (const t of report.fleetTargets) log(`${t.met ? 'met   ' : 'MISSED'} ${t.what}: ${t.measured}`);
    log('wrote bench/fleet-results.json and BENCHMARKS.md');
  } finally {
    fleet?.remove();
    for (const server of servers) await server.stop();
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
