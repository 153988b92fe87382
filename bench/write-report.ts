import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CASE_HEADER,
  type CaseResult,
  caseRows,
  type Measured,
  markdownTable,
  medianMs,
  ratio,
  seconds,
  type Target,
} from './report';

export interface SizeRun {
  readonly name: string;
  readonly schemas: number;
  /** All the size's tables (not per schema). */
  readonly tables: number;
  readonly views: number;
  readonly sequences: number;
  readonly credentials: number;
  readonly runs: number;
  readonly handRuns: number;
  readonly handLimitMs: number;
  readonly started: string;
  readonly finished: string;
}

/** What `npm run bench:fleet` measured: bench/fleet-results.json. */
export interface FleetRun {
  readonly started: string;
  readonly finished: string;
  readonly postgres: string;
  readonly machine: { cpus: number; cpu: string; memoryGb: number; node: string };
  /** os.loadavg() (1, 5, 15 minutes) before the measured cases and after each, by when. */
  readonly loadAverage: Readonly<Record<string, { one: number; five: number; fifteen: number }>>;
  readonly clusters: number;
  readonly databasesPerCluster: number;
  readonly tablesPerDatabase: number;
  readonly credentialsPerDatabase: number;
  readonly levels: readonly string[];
  readonly settings: Readonly<Record<string, string>>;
  readonly setup: { buildMs: number; applyMs: number };
  readonly drift: {
    databases: number;
    parallel: number;
    ms: number;
    maxRssKb: number;
    roundTrips: number;
    statements: number;
  };
  /** `drift --database` one process after another, over `databases` of the fleet; scaledMs is for all. */
  readonly sequential: { databases: number; ms: number; scaledMs: number; maxRssKb: number };
  readonly terraform?: {
    databases: number;
    credentials: number;
    applyMs: number;
    planMs: number;
    /** `plan -refresh=false`: Terraform's and the provider's plan work, with no reads. */
    planNoRefreshMs?: number;
  };
}

export interface BenchRun {
  readonly postgres: string;
  readonly machine: { cpus: number; cpu: string; memoryGb: number; node: string };
  readonly sizes: readonly SizeRun[];
  readonly results: readonly CaseResult[];
}

function find(run: BenchRun, size: string, name: string): CaseResult | undefined {
  return run.results.find((r) => r.size === size && r.name === name);
}

function who(c: CaseResult | undefined, label: string): Measured | undefined {
  return c?.measured.find((m) => m.label === label || m.label.startsWith(label));
}

/**
 * Destroying all 60 credentials at L took 150 s before level roles (BENCHMARKS.md of
 * 2026-11-28, 150.5 s, when every credential held its level on every relation). It is a
 * figure from an earlier run, not from this one: the one target that is not a ratio
 * between runs of the same process.
 */
export const DESTROY_BEFORE_LEVEL_ROLES_MS = 150_000;

/** The issue's targets, each checked against this run's own measurements. */
export function targets(run: BenchRun): Target[] {
  const out: Target[] = [];
  for (const size of ['M', 'L']) {
    const c = find(run, size, 'cold apply');
    if (!c) continue;
    const pgcred = medianMs(who(c, 'pgcred'));
    const perCredential = medianMs(who(c, 'per-credential grouped SQL'));
    const levelRole = medianMs(who(c, 'level-role SQL'));
    out.push({
      what: `cold apply at ${size}: at most 0.4x the per-credential grouped SQL`,
      measured: `${ratio(pgcred, perCredential)} (${seconds(pgcred)} against ${seconds(perCredential)})`,
      met: pgcred / perCredential <= 0.4,
    });
    out.push({
      what: `cold apply at ${size}: at most 1.2x the level-role SQL`,
      measured: `${ratio(pgcred, levelRole)} (${seconds(pgcred)} against ${seconds(levelRole)})`,
      met: pgcred / levelRole <= 1.2,
    });
  }
  const changeL = medianMs(who(find(run, 'L', 'level change (all 60)'), 'pgcred'));
  const changeS = medianMs(who(find(run, 'S', 'level change (all 60)'), 'pgcred'));
  if (Number.isFinite(changeL)) {
    out.push({
      what: 'level change of all 60 at L: under 2 s for the whole command',
      measured: seconds(changeL),
      met: changeL < 2000,
    });
    if (Number.isFinite(changeS))
      out.push({
        what: 'level change of all 60: flat from S to L (L within 2x of S)',
        measured: `${ratio(changeL, changeS)} (${seconds(changeL)} at L, ${seconds(changeS)} at S)`,
        met: changeL / changeS <= 2,
      });
  }
  const addL = medianMs(who(find(run, 'L', 'add one read-write credential'), 'pgcred'));
  if (Number.isFinite(addL))
    out.push({
      what: 'adding one read-write credential at L: under 2 s for the whole command',
      measured: seconds(addL),
      met: addL < 2000,
    });
  const destroyL = medianMs(who(find(run, 'L', 'destroy (all 60, owning objects)'), 'pgcred'));
  if (Number.isFinite(destroyL))
    out.push({
      what: `destroy of all 60 at L (each owning a table and a sequence): at most 0.1x the ${seconds(DESTROY_BEFORE_LEVEL_ROLES_MS)} it took before level roles`,
      measured: `${ratio(destroyL, DESTROY_BEFORE_LEVEL_ROLES_MS)} (${seconds(destroyL)})`,
      met: destroyL / DESTROY_BEFORE_LEVEL_ROLES_MS <= 0.1,
    });
  for (const size of ['M', 'L']) {
    const c = find(run, size, 'no-op drift');
    if (!c) continue;
    const process = medianMs(who(c, 'pgcred'));
    const floorProcess = medianMs(who(c, 'Node + pg'));
    out.push({
      what: `no-op drift at ${size}: the pgcred drift process at most 2x a Node process running the floor query`,
      measured: `${ratio(process, floorProcess)} (${seconds(process)} against ${seconds(floorProcess)})`,
      met: process / floorProcess <= 2,
    });
  }
  const names = [...new Set(run.results.map((r) => r.name))];
  const first = run.sizes[0];
  const last = run.sizes[run.sizes.length - 1];
  if (first && last && first !== last) {
    for (const name of names) {
      const a = who(find(run, first.name, name), 'pgcred')?.samples[0];
      const b = who(find(run, last.name, name), 'pgcred')?.samples[0];
      if (!a || !b) continue;
      out.push({
        what: `${name}: round trips constant from ${first.name} to ${last.name}`,
        measured: `${a.roundTrips} at ${first.name}, ${b.roundTrips} at ${last.name}`,
        met: a.roundTrips === b.roundTrips,
      });
      out.push({
        what: `${name}: statements grow with schemas, not tables (${first.schemas} to ${last.schemas} schemas, ${first.tables.toLocaleString('en-US')} to ${last.tables.toLocaleString('en-US')} tables)`,
        measured: `${a.statements} at ${first.name}, ${b.statements} at ${last.name}`,
        met: b.statements - a.statements <= last.schemas - first.schemas,
      });
    }
  }
  const large = run.sizes.find((s) => s.name === 'L');
  if (large) {
    const rss = run.results
      .filter((r) => r.size === 'L')
      .flatMap((r) => r.measured.filter((m) => m.label === 'pgcred').flatMap((m) => m.samples))
      .map((s) => s.maxRssKb ?? 0);
    const peak = Math.max(...rss) / 1024;
    out.push({
      what: 'peak memory of a pgcred process at L under 300 MB',
      measured: `${Math.round(peak)} MB`,
      met: peak < 300,
    });
  }
  return out;
}

/** The fleet's targets (issue "Fleets", item 4), against its own run. */
export function fleetTargets(fleet: FleetRun): Target[] {
  const { drift, sequential } = fleet;
  const peakMb = drift.maxRssKb / 1024;
  const out: Target[] = [
    {
      what: `fleet drift (${drift.databases} databases, one process, --parallel ${drift.parallel}): at most 0.25x the same databases one \`drift --database\` process after another`,
      measured: `${ratio(drift.ms, sequential.scaledMs)} (${seconds(drift.ms)} against ${seconds(sequential.scaledMs)})`,
      met: drift.ms / sequential.scaledMs <= 0.25,
    },
    {
      what: `fleet drift of ${drift.databases} databases under 60 s`,
      measured: seconds(drift.ms),
      met: drift.ms < 60_000,
    },
    {
      what: 'peak memory of the fleet drift process under 500 MB',
      measured: `${Math.round(peakMb)} MB`,
      met: peakMb < 500,
    },
  ];
  if (fleet.terraform)
    out.push({
      what: `Terraform no-op plan (\`plan -detailed-exitcode\`), ${fleet.terraform.databases} databases x ${fleet.terraform.credentials / fleet.terraform.databases} credentials: under 30 s`,
      measured: seconds(fleet.terraform.planMs),
      met: fleet.terraform.planMs < 30_000,
    });
  return out;
}

function fleetSection(fleet: FleetRun, checked: readonly Target[]): string {
  // What a profile found, written by hand beside the figures, as bench/notes.md is for the cases above.
  const notesFile = join(__dirname, 'fleet-notes.md');
  const fleetNotes = existsSync(notesFile) ? readFileSync(notesFile, 'utf8').trim() : '';
  const counts = new Map<string, number>();
  for (const level of fleet.levels) counts.set(level, (counts.get(level) ?? 0) + 1);
  const { drift, sequential } = fleet;
  const sampled =
    sequential.databases === drift.databases
      ? `all ${drift.databases} databases`
      : `${sequential.databases} of the ${drift.databases} databases (every ${drift.databases / sequential.databases}th, over all clusters), ${seconds(sequential.ms)}, scaled linearly to ${drift.databases}`;
  const rows: string[][] = [
    [
      `\`pgcred drift\` over the fleet, one process (--parallel ${drift.parallel}, exit 0, every database in sync)`,
      seconds(drift.ms),
      `${Math.round(drift.maxRssKb / 1024)} MB`,
      `${drift.roundTrips} round trips, ${drift.statements} statements`,
    ],
    [
      `\`pgcred drift --database <name>\`, one process after another`,
      seconds(sequential.scaledMs),
      `${Math.round(sequential.maxRssKb / 1024)} MB (the largest process)`,
      sampled,
    ],
  ];
  if (fleet.terraform)
    rows.push([
      `\`terraform plan -detailed-exitcode\` (exit 0), ${fleet.terraform.databases} databases of one cluster, ${fleet.terraform.credentials} \`pgcred_credential\``,
      seconds(fleet.terraform.planMs),
      '',
      `the second plan after \`terraform apply\` (${seconds(fleet.terraform.applyMs)}, untimed)${fleet.terraform.planNoRefreshMs !== undefined ? `; \`plan -refresh=false\`: ${seconds(fleet.terraform.planNoRefreshMs)}` : ''}`,
    ]);
  return [
    '## Fleet',
    '',
    `\`npm run bench:fleet\` (${fleet.started.slice(0, 16).replace('T', ' ')} UTC, ${((Date.parse(fleet.finished) - Date.parse(fleet.started)) / 60_000).toFixed(0)} min;`,
    'raw figures in [bench/fleet-results.json](bench/fleet-results.json)): one file declaring',
    `${fleet.clusters} clusters x ${fleet.databasesPerCluster} databases, each database with ${fleet.tablesPerDatabase} tables and ${fleet.credentialsPerDatabase} credentials`,
    `(${[...counts].map(([level, n]) => `${n} ${level}`).join(', ')}), their usernames made distinct per cluster by`,
    '`usernamePrefix`; a control store database on the first cluster. Each cluster is its own embedded PostgreSQL',
    `${fleet.postgres} (${Object.entries(fleet.settings)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}), all on this machine, sharing its ${fleet.machine.cpus} cores`,
    `with the pgcred processes. Setup (untimed): the databases copied from one template per cluster with \`CREATE`,
    `DATABASE ... TEMPLATE\` in ${seconds(fleet.setup.buildMs)}, then one \`pgcred apply --yes\` over the fleet in ${seconds(fleet.setup.applyMs)};`,
    'one untimed fleet drift warms the caches before the measured one.',
    '',
    markdownTable(
      ['target', 'measured', ''],
      checked.map((t) => [t.what, t.measured, t.met ? 'met' : '**missed**']),
    ),
    '',
    markdownTable(['what', 'wall time', 'peak memory', ''], rows),
    '',
    `Machine load average (1, 5, 15 min): ${Object.entries(fleet.loadAverage)
      .map(([at, l]) => `${[l.one, l.five, l.fifteen].map((x) => x.toFixed(2)).join(', ')} ${at}`)
      .join('; ')}.`,
    ...(fleetNotes ? ['', fleetNotes] : []),
  ].join('\n');
}

function readFleet(): FleetRun | undefined {
  const file = join(__dirname, 'fleet-results.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as FleetRun) : undefined;
}

export function writeReport(
  run: BenchRun,
  fleet: FleetRun | undefined = readFleet(),
): { markdown: string; targets: Target[]; fleetTargets: Target[] } {
  const checked = targets(run);
  const fleetChecked = fleet ? fleetTargets(fleet) : [];
  const notesFile = join(__dirname, 'notes.md');
  const notes = existsSync(notesFile) ? readFileSync(notesFile, 'utf8').trim() : '';
  const markdown = [
    '# Benchmarks',
    '',
    'pgcred against what a user would otherwise run, in one benchmark process per size: every ratio below',
    'compares runs made minutes apart on the same machine and server. This file is written by `npm run bench`;',
    'the raw figures are in [bench/results.json](bench/results.json).',
    '',
    `PostgreSQL ${run.postgres} (embedded), Node ${run.machine.node}, ${run.machine.cpus} cores (${run.machine.cpu}),`,
    `${run.machine.memoryGb} GB.`,
    '',
    markdownTable(
      ['size', 'run', 'pgcred and the SQL baselines', 'hand-written script'],
      run.sizes.map((s) => [
        s.name,
        `${s.started.slice(0, 16).replace('T', ' ')} UTC, ${((Date.parse(s.finished) - Date.parse(s.started)) / 60_000).toFixed(0)} min`,
        `${s.runs} run${s.runs === 1 ? '' : 's'} of each case`,
        s.handRuns === 0
          ? 'not run'
          : `${s.handRuns} run${s.handRuns === 1 ? '' : 's'}, stopped after ${seconds(s.handLimitMs)} ("> limit")`,
      ]),
    ),
    '',
    '## Fixtures',
    '',
    markdownTable(
      ['size', 'schemas', 'tables', 'views', 'sequences', 'credentials'],
      run.sizes.map((s) => [
        s.name,
        String(s.schemas),
        s.tables.toLocaleString('en-US'),
        s.views.toLocaleString('en-US'),
        s.sequences.toLocaleString('en-US'),
        `${s.credentials} (20 none, 20 read-only, 20 read-write)`,
      ]),
    ),
    '',
    'Every table has an identity column (its sequence), and every tenth table a view. The database owner, the default',
    'credential, owns everything. Each run starts a copy of a stopped template cluster: a catalog that an earlier run',
    'bloated would slow the runs after it.',
    '',
    '## Targets',
    '',
    markdownTable(
      ['target', 'measured', ''],
      checked.map((t) => [t.what, t.measured, t.met ? 'met' : '**missed**']),
    ),
    '',
    '## Results',
    '',
    markdownTable(CASE_HEADER, run.results.flatMap(caseRows)),
    '',
    'Round trips and statements are those of the first run, counted inside the pgcred process (each `Client#query`',
    "is one round trip) or, for psql, one per statement. Peak memory is the pgcred process's maximum resident set.",
    'Who: **level-role SQL** is the best SQL for the end state pgcred leaves (two NOLOGIN level roles holding the',
    "levels' privileges, the credentials their members); **per-credential grouped SQL** is the best SQL granting",
    "each credential its level directly (pgcred's form before level roles), one statement per schema and privilege",
    'set naming all its grantees; the **hand-written script** is what the Heroku docs teach, per credential and',
    'schema. The per-credential baselines of a level change, an added credential and a destroy start from the state',
    'the per-credential grouped SQL applied; pgcred and the level-role SQL start from the state pgcred applied.',
    '',
    '"End state vs pgcred": `same` when the roles (attributes, comments, memberships with their grantor and',
    'INHERIT and SET options) and every privilege on the database, schemas, relations and default privileges are',
    'held exactly as pgcred left them; `same access` when the form differs but the access does not: every',
    "privilege, expanded from the role holding it to the credentials that hold or inherit it (`pg_has_role(..., 'USAGE')`),",
    'counted per schema, relation kind, credential and privilege, and likewise on schemas, the database and default',
    "privileges, equals what pgcred left; `same access on relations` when only the relations' access does (the",
    'hand-written script grants default privileges per schema and leaves PUBLIC its defaults); empty when the run was',
    'stopped at its limit.',
    '',
    notes,
    '',
    ...(fleet ? [fleetSection(fleet, fleetChecked), ''] : []),
  ].join('\n');
  return { markdown, targets: checked, fleetTargets: fleetChecked };
}
