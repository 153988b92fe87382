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

/** The targets, each checked against this run's own measurements. */
export function targets(run: BenchRun): Target[] {
  const out: Target[] = [];
  for (const name of ['cold apply', 'level change (all 60)']) {
    const c = find(run, 'M', name);
    if (!c) continue;
    const pgcred = medianMs(who(c, 'pgcred'));
    const hand = who(c, 'hand-written');
    const grouped = medianMs(who(c, 'grouped SQL'));
    out.push({
      what: `${name} at M: at least 10x faster than the hand-written script`,
      measured: `${hand?.cut ? 'more than ' : ''}${ratio(medianMs(hand), pgcred)} (${seconds(medianMs(hand))} against ${seconds(pgcred)})`,
      met: medianMs(hand) / pgcred >= 10,
    });
    out.push({
      what: `${name} at M: within 1.2x of the grouped SQL`,
      measured: `${ratio(pgcred, grouped)} (${seconds(pgcred)} against ${seconds(grouped)})`,
      met: pgcred / grouped <= 1.2,
    });
  }
  for (const size of run.sizes) {
    const c = find(run, size.name, 'no-op drift');
    if (!c) continue;
    const inspection = medianMs(who(c, 'inspection'));
    const floor = medianMs(who(c, 'floor query'));
    out.push({
      what: `no-op drift at ${size.name}: inspection within 2x of the catalog-scan floor`,
      measured: `${ratio(inspection, floor)} (${seconds(inspection)} against ${seconds(floor)})`,
      met: inspection / floor <= 2,
    });
    const process = medianMs(who(c, 'pgcred'));
    const floorProcess = medianMs(who(c, 'Node + pg'));
    out.push({
      what: `no-op drift at ${size.name}: the pgcred drift process within 2x of a Node process running the floor query`,
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

export function writeReport(run: BenchRun): { markdown: string; targets: Target[] } {
  const checked = targets(run);
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
      ['size', 'run', 'pgcred and grouped SQL', 'hand-written script'],
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
    '"End state": `same` when roles, memberships, comments and every privilege on the database, schemas, relations',
    'and default privileges equal what pgcred left; `relations` when only the privileges on relations do (the',
    'hand-written script grants default privileges per schema and leaves PUBLIC its defaults).',
    '',
    notes,
    '',
  ].join('\n');
  return { markdown, targets: checked };
}
