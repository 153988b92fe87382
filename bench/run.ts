/**
 * pgcred's cost, side by side with what a user would otherwise run.
 *
 *   npm run bench                      S, M and L; writes BENCHMARKS.md and bench/results.json
 *   BENCH_SIZES=L npm run bench         one size; the others' last results are kept beside it
 *   BENCH_CASES=cold,drift npm run bench  some cases; the others' last results are kept beside them
 *   BENCH_RUNS=5 BENCH_HAND_RUNS=1 BENCH_HAND_LIMIT_S=300 BENCH_CASES=drift,rotate npm run bench
 *
 * Every run starts a copy of a stopped template cluster, so no run pays for the
 * catalog bloat an earlier one left. pgcred runs as its CLI, as a user runs it;
 * the baselines run as psql scripts. See BENCHMARKS.md for what each case does.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import type { PostgresServer } from '../src/embedded/server';
import { generatePassword } from '../src/model/password';
import { scramVerifier } from '../src/postgres/scram';
import { inspect } from '../src/reconciler/inspect';
import {
  groupedAdd,
  groupedChange,
  groupedCreate,
  groupedDestroy,
  handWrittenAdd,
  handWrittenChange,
  handWrittenCreate,
  handWrittenDestroy,
  handWrittenRotate,
  levelRoleAdd,
  levelRoleChange,
  levelRoleCreate,
  levelRoleDestroy,
} from './baselines';
import { keepAsTemplate, removeTemplate, startCopy, startFresh, type Template } from './cluster';
import {
  type BenchCredential,
  changedLevel,
  configYaml,
  credentials,
  DATABASE,
  OWNER,
  ownedObjects,
  relationCounts,
  relationNames,
  SIZES,
  type Size,
  schemaNames,
  schemaSql,
} from './fixture';
import { floorProcess, Project, psql, type Sample } from './processes';
import type { CaseResult, Measured } from './report';
import { type BenchRun, type SizeRun, writeReport } from './write-report';

const SELECTED = (process.env.BENCH_SIZES ?? 'S,M,L').split(',').map((s) => s.trim().toUpperCase());
/** Runs of each pgcred case and grouped baseline: 3, or 2 at L, where one run of a case takes minutes. */
const runsOf = (size: Size) =>
  process.env.BENCH_RUNS !== undefined ? Number(process.env.BENCH_RUNS) : size.name === 'L' ? 2 : 3;
/** Cases to run, by a word of their name (cold, drift, level, add, rotate, prune, credentials:destroy); default all. */
const CASES = process.env.BENCH_CASES?.split(',').map((c) => c.trim().toLowerCase());
const wanted = (name: string) => !CASES || CASES.some((c) => name.toLowerCase().includes(c));
/**
 * Runs of the hand-written script, and when it is stopped: it dominates the
 * benchmark's own time, so L runs it once and stops it after 5 minutes (its targets
 * are at M, where it runs as often as pgcred, for up to 10 minutes).
 */
const handRunsOf = (size: Size) =>
  process.env.BENCH_HAND_RUNS !== undefined
    ? Number(process.env.BENCH_HAND_RUNS)
    : size.name === 'L'
      ? 1
      : runsOf(size);
const handLimitOf = (size: Size) =>
  Number(process.env.BENCH_HAND_LIMIT_S ?? (size.name === 'L' ? 300 : 600)) * 1000;

const FLOOR_SQL = 'SELECT count(*) FROM pg_class, aclexplode(relacl)';
const END_STATE_SQL = readFileSync(join(__dirname, 'sql', 'end_state.sql'), 'utf8');

type EndState = Record<string, string | number>;

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
}

async function withClient<T>(
  server: PostgresServer,
  fn: (c: Client) => Promise<T>,
  db = DATABASE,
): Promise<T> {
  const client = new Client({ connectionString: server.url(db) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function endState(server: PostgresServer): Promise<EndState> {
  return withClient(server, async (c) => (await c.query(END_STATE_SQL)).rows[0]);
}

/** The digests of the form (who holds what directly, the roles as written); the rest are access. */
const EFFECTIVE = ['effective_relations', 'effective_other'];

function compare(pgcred: EndState | undefined, other: EndState): Measured['endState'] {
  if (!pgcred) return undefined;
  const keys = Object.keys(pgcred);
  if (keys.every((k) => pgcred[k] === other[k])) return 'same';
  log(`    end state differs from pgcred's in ${keys.filter((k) => pgcred[k] !== other[k]).join(', ')}`);
  if (EFFECTIVE.every((k) => pgcred[k] === other[k])) return 'same access';
  if (pgcred.effective_relations === other.effective_relations) return 'same access on relations';
  return 'different';
}

/** The worst of the runs' end states. */
const END_STATES: readonly NonNullable<Measured['endState']>[] = [
  'different',
  'same access on relations',
  'same access',
  'same',
];

/** The fixture: built once per size, then copied for every run. */
async function buildFixture(size: Size): Promise<Template> {
  const server = await startFresh();
  await withClient(
    server,
    async (c) => {
      await c.query(`CREATE ROLE ${OWNER} LOGIN`);
      await c.query(`CREATE DATABASE ${DATABASE} OWNER ${OWNER}`);
    },
    'postgres',
  );
  const schemas = schemaNames(size);
  const started = performance.now();
  // Two connections for two cores.
  await Promise.all(
    [0, 1].map((lane) =>
      withClient(server, async (c) => {
        await c.query(`SET ROLE ${OWNER}`);
        for (let i = lane; i < schemas.length; i += 2) await c.query(schemaSql(schemas[i]!, size));
      }),
    ),
  );
  log(`${size.name}: fixture built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return keepAsTemplate(server);
}

interface Timed {
  sample: Sample;
  state?: EndState;
  cut: boolean;
}

/** One measured run on a fresh copy: prepare (untimed), run, read the end state (untimed). */
async function onCopy(
  template: Template,
  run: (server: PostgresServer) => Promise<Sample>,
  prepare?: (server: PostgresServer) => Promise<void>,
  checkEndState = true,
): Promise<Timed> {
  const server = await startCopy(template);
  try {
    if (prepare) await prepare(server);
    // The copy's files (and the run before's) are written out first: at M the copy is some
    // hundreds of MB, and its writeback would land in whichever run came next.
    execFileSync('sync');
    // Every run starts with the catalogs in the server's caches, as on a server in use.
    await withClient(server, (c) => c.query(FLOOR_SQL));
    try {
      const sample = await run(server);
      return { sample, ...(checkEndState ? { state: await endState(server) } : {}), cut: false };
    } catch (error) {
      if ((error as { cut?: boolean }).cut)
        return { sample: (error as { sample: Sample }).sample, cut: true };
      throw error;
    }
  } finally {
    await server.stop();
  }
}

class Collector {
  readonly samples: Sample[] = [];
  readonly states: EndState[] = [];
  cut = 0;
  constructor(readonly label: string) {}
  add(t: Timed): void {
    this.samples.push(t.sample);
    if (t.state) this.states.push(t.state);
    if (t.cut) this.cut++;
    log(`  ${this.label}: ${(t.sample.ms / 1000).toFixed(2)} s${t.cut ? ' (stopped at the limit)' : ''}`);
  }
  result(reference?: EndState): Measured {
    const states = this.states.map((s) => compare(reference, s));
    const endState = END_STATES.find((e) => states.includes(e));
    return {
      label: this.label,
      samples: this.samples,
      ...(this.cut ? { cut: this.cut } : {}),
      ...(endState ? { endState } : {}),
    };
  }
}

/** A baseline: a psql script, on the case's template or on one of its own. */
interface Baseline {
  readonly label: string;
  readonly script: string;
  /** Where it starts: the per-credential baselines start from the state they applied themselves. */
  readonly template?: Template;
  /** 'hand': statement by statement, run hand-runs times and stopped at the limit; 'sql': one transaction. */
  readonly kind: 'sql' | 'hand';
}

const LEVEL_ROLE_SQL = 'level-role SQL (psql, one transaction)';
const LEVEL_ROLE_SQL_IN_SCHEMA = 'level-role SQL by ON ALL ... IN SCHEMA (psql, one transaction)';
const PER_CREDENTIAL_SQL = 'per-credential grouped SQL (psql, one transaction)';
const HAND_WRITTEN = 'hand-written script (psql)';

/**
 * A case measured on fresh copies of its template: pgcred and each baseline,
 * interleaved so that no one of them gets the machine's quiet minutes.
 */
async function measureCase(
  size: Size,
  name: string,
  template: Template,
  runs: {
    pgcred: (server: PostgresServer) => Promise<Sample>;
    baselines: readonly Baseline[];
    prepare?: (server: PostgresServer) => Promise<void>;
    before?: () => void;
    after?: () => void;
  },
): Promise<CaseResult> {
  log(`${size.name} ${name}`);
  const pgcred = new Collector('pgcred');
  const collectors = runs.baselines.map((b) => new Collector(b.label));
  const RUNS = runsOf(size);
  const HAND_RUNS = handRunsOf(size);
  for (let i = 0; i < Math.max(RUNS, HAND_RUNS); i++) {
    if (i < RUNS) {
      runs.before?.();
      // The end state is read after the first run of each: it takes a while at L, and
      // the runs of one kind do the same thing.
      pgcred.add(await onCopy(template, runs.pgcred, runs.prepare, i === 0));
      runs.after?.();
    }
    for (const [b, baseline] of runs.baselines.entries()) {
      if (i >= (baseline.kind === 'hand' ? HAND_RUNS : RUNS)) continue;
      const run = (s: PostgresServer) =>
        baseline.kind === 'hand'
          ? psql(s, baseline.script, false, handLimitOf(size))
          : psql(s, baseline.script, true);
      collectors[b]!.add(await onCopy(baseline.template ?? template, run, runs.prepare, i === 0));
    }
  }
  const reference = pgcred.states[0];
  return {
    size: size.name,
    name,
    measured: [
      pgcred.result(),
      ...collectors.filter((c) => c.samples.length > 0).map((c) => c.result(reference)),
    ],
  };
}

async function driftCase(size: Size, applied: Template, project: Project): Promise<CaseResult> {
  log(`${size.name} no-op drift`);
  const RUNS = runsOf(size);
  const server = await startCopy(applied);
  try {
    // As in onCopy: the copy's writeback (1.9 GB at L) must not land in the runs.
    execFileSync('sync');
    const drift = new Collector('pgcred');
    const floorProc = new Collector('Node + pg, floor query only (process)');
    const inspection = new Collector('inspection (in process)');
    const floor = new Collector('floor query (in process)');
    // One of each first, so that every measured run finds warm caches.
    await project.pgcred(server, ['drift']);
    await floorProcess(server);
    for (let i = 0; i < RUNS; i++) {
      drift.add({ sample: await project.pgcred(server, ['drift']), cut: false });
      floorProc.add({ sample: await floorProcess(server), cut: false });
    }
    await withClient(server, async (c) => {
      await inspect(c);
      await c.query(FLOOR_SQL);
      for (let i = 0; i < RUNS; i++) {
        let t = performance.now();
        await inspect(c);
        inspection.add({ sample: { ms: performance.now() - t, roundTrips: 0, statements: 0 }, cut: false });
        t = performance.now();
        await c.query(FLOOR_SQL);
        floor.add({ sample: { ms: performance.now() - t, roundTrips: 1, statements: 1 }, cut: false });
      }
    });
    return {
      size: size.name,
      name: 'no-op drift',
      measured: [drift.result(), floorProc.result(), inspection.result(), floor.result()],
    };
  } finally {
    await server.stop();
  }
}

/** Each credential owns a table and a sequence of its own, which destroy must hand over. */
async function giveOwnedObjects(server: PostgresServer, creds: readonly BenchCredential[]): Promise<void> {
  await withClient(server, async (c) => {
    for (const cred of creds) {
      const { table, sequence } = ownedObjects(cred.name);
      await c.query(`CREATE TABLE ${table} (id int)`);
      await c.query(`ALTER TABLE ${table} OWNER TO ${cred.name}`);
      await c.query(`CREATE SEQUENCE ${sequence}`);
      await c.query(`ALTER SEQUENCE ${sequence} OWNER TO ${cred.name}`);
    }
  });
}

/** The credential the add-one case declares besides the 60. */
const ADDED: BenchCredential = { name: 'bench_61', level: 'read-write' };

async function benchSize(size: Size): Promise<CaseResult[]> {
  const creds = credentials();
  const changed = creds.map((c) => ({ name: c.name, level: changedLevel(c.level) }));
  const schemas = schemaNames(size);
  const project = new Project(randomBytes(32).toString('hex'));
  const passwords = new Map([...creds, ADDED].map((c) => [c.name, generatePassword()]));
  passwords.set(OWNER, generatePassword());
  const verifiers = new Map([...creds, ADDED].map((c) => [c.name, scramVerifier(passwords.get(c.name)!)]));
  const results: CaseResult[] = [];
  const fixture = await buildFixture(size);
  let applied: Template | undefined;
  let perCredential: Template | undefined;
  try {
    project.writeConfig(configYaml(creds));
    if (wanted('cold apply'))
      results.push(
        await measureCase(size, 'cold apply', fixture, {
          pgcred: (s) => project.pgcred(s, ['apply', '--yes']),
          baselines: [
            {
              label: LEVEL_ROLE_SQL,
              script: levelRoleCreate(creds, schemas, verifiers, relationNames(size)),
              kind: 'sql',
            },
            // The same end state granted by ON ALL ... IN SCHEMA, as the level-role SQL was first
            // written: what naming the relations saves at each size.
            {
              label: LEVEL_ROLE_SQL_IN_SCHEMA,
              script: levelRoleCreate(creds, schemas, verifiers),
              kind: 'sql',
            },
            { label: PER_CREDENTIAL_SQL, script: groupedCreate(creds, schemas, verifiers), kind: 'sql' },
            { label: HAND_WRITTEN, script: handWrittenCreate(creds, schemas, passwords), kind: 'hand' },
          ],
        }),
      );

    // The applied state every later case starts from.
    const server = await startCopy(fixture);
    await project.pgcred(server, ['apply', '--yes']);
    // pgcred knows every password, the default credential's included, as it would
    // after a first rotation: otherwise drift reports the unknown one.
    await project.pgcred(server, ['credentials:rotate', DATABASE, '--confirm', DATABASE]);
    await project.pgcred(server, ['drift']);
    applied = await keepAsTemplate(server);
    // What the per-credential baselines start from: the same credentials, granted their
    // levels directly, as the per-credential grouped SQL leaves them.
    const direct = await startCopy(fixture);
    await psql(direct, groupedCreate(creds, schemas, verifiers), true);
    perCredential = await keepAsTemplate(direct);
    removeTemplate(fixture);

    if (wanted('no-op drift')) results.push(await driftCase(size, applied, project));

    if (wanted('level change'))
      results.push(
        await measureCase(size, 'level change (all 60)', applied, {
          pgcred: (s) => project.pgcred(s, ['apply', '--yes']),
          before: () => project.writeConfig(configYaml(changed)),
          after: () => project.writeConfig(configYaml(creds)),
          baselines: [
            { label: LEVEL_ROLE_SQL, script: levelRoleChange(creds, changed), kind: 'sql' },
            {
              label: PER_CREDENTIAL_SQL,
              script: groupedChange(creds, changed, schemas),
              template: perCredential,
              kind: 'sql',
            },
            {
              label: HAND_WRITTEN,
              script: handWrittenChange(changed, schemas),
              template: perCredential,
              kind: 'hand',
            },
          ],
        }),
      );

    if (wanted('add one read-write credential'))
      results.push(
        await measureCase(size, 'add one read-write credential', applied, {
          pgcred: (s) => project.pgcred(s, ['apply', '--yes']),
          before: () => project.writeConfig(configYaml([...creds, ADDED])),
          after: () => project.writeConfig(configYaml(creds)),
          baselines: [
            { label: LEVEL_ROLE_SQL, script: levelRoleAdd(ADDED, verifiers), kind: 'sql' },
            {
              label: PER_CREDENTIAL_SQL,
              script: groupedAdd(ADDED, schemas, verifiers),
              template: perCredential,
              kind: 'sql',
            },
            {
              label: HAND_WRITTEN,
              script: handWrittenAdd(ADDED, schemas, passwords),
              template: perCredential,
              kind: 'hand',
            },
          ],
        }),
      );

    const everyone = [...creds.map((c) => c.name), OWNER];
    const rotateScript = handWrittenRotate(everyone, passwords);
    if (wanted('rotate --all --force'))
      results.push(
        await measureCase(size, 'rotate --all --force', applied, {
          pgcred: (s) =>
            project.pgcred(s, ['credentials:rotate', DATABASE, '--all', '--force', '--confirm', DATABASE]),
          baselines: [
            {
              label: 'ALTER ROLE ... PASSWORD per credential (psql, one transaction)',
              script: rotateScript,
              kind: 'sql',
            },
            { label: 'ALTER ROLE ... PASSWORD per credential (psql)', script: rotateScript, kind: 'hand' },
          ],
        }),
      );

    if (wanted('destroy (all 60, owning objects)'))
      results.push(
        await measureCase(size, 'destroy (all 60, owning objects)', applied, {
          pgcred: (s) => project.pgcred(s, ['apply', '--prune', '--yes']),
          before: () => project.writeConfig(configYaml([])),
          after: () => project.writeConfig(configYaml(creds)),
          prepare: (s) => giveOwnedObjects(s, creds),
          baselines: [
            { label: LEVEL_ROLE_SQL, script: levelRoleDestroy(creds), kind: 'sql' },
            {
              label: PER_CREDENTIAL_SQL,
              script: groupedDestroy(creds, schemas),
              template: perCredential,
              kind: 'sql',
            },
            { label: HAND_WRITTEN, script: handWrittenDestroy(creds), template: perCredential, kind: 'hand' },
          ],
        }),
      );

    // What users run to destroy one credential: the prune diff scoped to it.
    const one = creds[0]!;
    if (wanted('credentials:destroy (one, owning objects)'))
      results.push(
        await measureCase(size, 'credentials:destroy (one, owning objects)', applied, {
          pgcred: (s) =>
            project.pgcred(s, ['credentials:destroy', DATABASE, '--name', one.name, '--confirm', DATABASE]),
          prepare: (s) => giveOwnedObjects(s, [one]),
          baselines: [
            { label: LEVEL_ROLE_SQL, script: levelRoleDestroy([one]), kind: 'sql' },
            {
              label: PER_CREDENTIAL_SQL,
              script: groupedDestroy([one], schemas),
              template: perCredential,
              kind: 'sql',
            },
            { label: HAND_WRITTEN, script: handWrittenDestroy([one]), template: perCredential, kind: 'hand' },
          ],
        }),
      );
  } finally {
    if (applied) removeTemplate(applied);
    if (perCredential) removeTemplate(perCredential);
    removeTemplate(fixture);
    project.remove();
  }
  return results;
}

/** BENCH_REPORT_ONLY=1 writes BENCHMARKS.md again from bench/results.json, e.g. after editing bench/notes.md. */
function reportOnly(): void {
  const run = JSON.parse(readFileSync(join(__dirname, 'results.json'), 'utf8')) as BenchRun;
  writeFileSync(join(__dirname, '..', 'BENCHMARKS.md'), writeReport(run).markdown);
}

async function main(): Promise<void> {
  if (process.env.BENCH_REPORT_ONLY === '1') return reportOnly();
  const sizes = SIZES.filter((s) => SELECTED.includes(s.name));
  if (sizes.length === 0)
    throw new Error(`BENCH_SIZES names no size of ${SIZES.map((s) => s.name).join(', ')}`);
  const resultsFile = join(__dirname, 'results.json');
  // Sizes not run this time keep their last results: each size's ratios come from one
  // run, and L takes the better part of an hour.
  const previous: BenchRun | undefined = existsSync(resultsFile)
    ? JSON.parse(readFileSync(resultsFile, 'utf8'))
    : undefined;
  const kept = (previous?.sizes ?? []).filter(
    (s) => !SELECTED.includes(s.name) && Array.isArray(previous?.results),
  );
  const sizeRuns: SizeRun[] = [];
  const results: CaseResult[] = [];
  for (const size of sizes) {
    const started = new Date().toISOString();
    results.push(...(await benchSize(size)));
    sizeRuns.push({
      ...size,
      ...relationCounts(size),
      credentials: 60,
      runs: runsOf(size),
      handRuns: handRunsOf(size),
      handLimitMs: handLimitOf(size),
      started,
      finished: new Date().toISOString(),
    });
  }
  const server = await startFresh();
  const postgres = await withClient(
    server,
    async (c) => (await c.query('SHOW server_version')).rows[0].server_version,
    'postgres',
  );
  await server.stop();
  const order = (name: string) => SIZES.findIndex((s) => s.name === name);
  const run: BenchRun = {
    postgres,
    machine: {
      cpus: cpus().length,
      cpu: cpus()[0]?.model ?? 'unknown',
      memoryGb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
    },
    sizes: [...kept, ...sizeRuns].sort((a, b) => order(a.name) - order(b.name)),
    results: [
      ...(previous?.results ?? []).filter(
        (r) =>
          kept.some((k) => k.name === r.size) ||
          // BENCH_CASES runs part of a size: its other cases keep their last results.
          (CASES !== undefined && !results.some((now) => now.size === r.size && now.name === r.name)),
      ),
      ...results,
    ].sort((a, b) => order(a.size) - order(b.size)),
  };
  writeFileSync(resultsFile, `${JSON.stringify(run, null, 2)}\n`);
  const report = writeReport(run);
  writeFileSync(join(__dirname, '..', 'BENCHMARKS.md'), report.markdown);
  for (const t of report.targets) log(`${t.met ? 'met   ' : 'MISSED'} ${t.what}: ${t.measured}`);
  log(`wrote BENCHMARKS.md and bench/results.json (${results.length} cases run now)`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
