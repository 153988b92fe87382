import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SingleBar } from 'cli-progress';
import { type Command, Option } from 'commander';
import { clusterOf } from '../model/cluster';
import type { DatabaseSpec } from '../model/config';
import { showName } from '../model/names';
import { CredentialError } from '../reconciler/credentials';
import { PlanRefusedError } from '../reconciler/reconcile';
import type { CommandContext } from './context';
import { type Io, UserError } from './io';

/**
 * A fleet: the databases of one file, over one or more clusters. plan, apply, drift
 * and reconcile run one job per database, at most `parallel` at a time, each isolated:
 * a database that is unreachable, refused or failing gets its own error line and the
 * others go on. What each job says is printed in the file's order, whatever order the
 * jobs finish in.
 */

export const DEFAULT_PARALLEL = 4;
export const MAX_PARALLEL = 64;

export function parseParallel(value: string, flag = '--parallel'): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 1 || n > MAX_PARALLEL)
    throw new UserError(
      `${flag}: ${showName(value)} is not a whole number from 1 to ${MAX_PARALLEL} (databases at a time)`,
    );
  return n;
}

const collect = (value: string, previous: string[] = []) => [
  ...previous,
  ...value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== ''),
];

/** The selection and concurrency options that plan, apply, drift and reconcile share. */
export function addFleetOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--database <name>',
        'only this database of the file (repeat or separate with commas)',
      ).argParser(collect),
    )
    .addOption(
      new Option(
        '--cluster <name>',
        'only databases on this cluster (its `cluster`, else HOST:PORT; repeatable)',
      ).argParser(collect),
    )
    .addOption(
      new Option('--tag <tag>', 'only databases with this tag (repeatable: any of them)').argParser(collect),
    )
    .addOption(
      new Option('--parallel <n>', 'databases worked on at a time')
        .argParser((value) => parseParallel(value))
        .default(DEFAULT_PARALLEL),
    )
    .addOption(
      new Option(
        '--per-cluster <n>',
        'databases of one cluster worked on at a time, its connection budget (default: --parallel)',
      ).argParser((value) => parseParallel(value, '--per-cluster')),
    );
}

export interface FleetSelection {
  readonly database?: readonly string[];
  readonly cluster?: readonly string[];
  readonly tag?: readonly string[];
  readonly parallel: number;
  readonly perCluster?: number;
}

export { clusterOf };

/**
 * The databases a selection names, in the file's order. `--database` names databases
 * (as the positional argument does); `--cluster` and `--tag` keep those on a named
 * cluster or with a named tag. A name, cluster or tag the file does not know is bad
 * input: one line, before anything connects.
 */
export function selectDatabases(
  ctx: CommandContext,
  all: readonly DatabaseSpec[],
  selection: FleetSelection,
): DatabaseSpec[] {
  let chosen = [...all];
  const file = ctx.configPath;
  if (selection.database && selection.database.length > 0) {
    const names = new Set(selection.database);
    for (const name of names) {
      if (!all.some((db) => db.name === name))
        throw new UserError(
          `--database: unknown database ${showName(name)}: ${file} declares ${all.map((db) => db.name).join(', ') || 'none'}`,
        );
    }
    chosen = chosen.filter((db) => names.has(db.name));
  }
  if (selection.cluster && selection.cluster.length > 0) {
    const known = [...new Set(all.map(clusterOf))];
    for (const cluster of selection.cluster) {
      if (!known.includes(cluster))
        throw new UserError(
          `--cluster: no database of ${file} is on cluster ${showName(cluster)} (clusters: ${known.join(', ')})`,
        );
    }
    chosen = chosen.filter((db) => selection.cluster!.includes(clusterOf(db)));
  }
  if (selection.tag && selection.tag.length > 0) {
    const known = [...new Set(all.flatMap((db) => db.tags ?? []))].sort();
    for (const tag of selection.tag) {
      if (!known.includes(tag))
        throw new UserError(
          `--tag: no database of ${file} has tag ${showName(tag)} (tags: ${known.join(', ') || 'none'})`,
        );
    }
    chosen = chosen.filter((db) => (db.tags ?? []).some((tag) => selection.tag!.includes(tag)));
  }
  if (chosen.length === 0)
    throw new UserError(`no database of ${file} matches ${describeSelection(selection)} together`);
  return chosen;
}

function describeSelection(selection: FleetSelection): string {
  const parts: string[] = [];
  for (const name of selection.database ?? []) parts.push(`--database ${name}`);
  for (const name of selection.cluster ?? []) parts.push(`--cluster ${name}`);
  for (const name of selection.tag ?? []) parts.push(`--tag ${name}`);
  return parts.join(' ');
}

export type FleetStatus = 'ok' | 'drifted' | 'error';

export interface FleetOutcome<T> {
  readonly spec: DatabaseSpec;
  readonly cluster: string;
  /** The job's result; absent when it failed. */
  readonly value?: T;
  /** What failed, in one line that never holds a URL. */
  readonly error?: string;
}

/** One line for a database's failure: a refusal's reasons, a connection error in words. */
export function errorLine(error: unknown): string {
  if (error instanceof PlanRefusedError) return error.reasons.join('; ');
  if (error instanceof CredentialError && error.refusal) return error.refusal.message;
  const message = (error as Error)?.message ?? String(error);
  return message.split('\n').filter(Boolean).join('; ');
}

export interface FleetRun<T> {
  readonly parallel: number;
  /**
   * Whether one database's failure is caught and reported as its own line (a fleet), or
   * thrown as it is (one database: the command fails with its message, as it always did).
   * Default: a fleet when there is more than one database.
   */
  readonly isolate?: boolean;
  /** At most this many databases of one cluster at a time (its connection budget); default: parallel. */
  readonly perCluster?: number;
  /** Whether a finished job drifted, for the progress display. */
  readonly drifted?: (value: T) => boolean;
  /** Progress and error lines go here, in the file's order (default: the command's stderr). */
  readonly say?: (line: string) => void;
}

/**
 * Runs `job` for each database, at most `parallel` at a time. A job's lines (its `say`)
 * are held until every database before it in the file has finished, then printed with
 * its error line, if it failed: the output reads the same whatever the timing.
 */
export async function runFleet<T>(
  ctx: CommandContext,
  specs: readonly DatabaseSpec[],
  run: FleetRun<NoInfer<T>>,
  job: (spec: DatabaseSpec, say: (line: string) => void) => Promise<T>,
): Promise<FleetOutcome<T>[]> {
  const write = run.say ?? ((line: string) => ctx.io.stderr(`${line}\n`));
  const outcomes: (FleetOutcome<T> | undefined)[] = specs.map(() => undefined);
  const held: string[][] = specs.map(() => []);
  const progress = new FleetProgress(ctx.io, specs.length);
  let flushed = 0;
  const flush = () => {
    if (progress.active) return; // printed once the bar is gone
    while (flushed < specs.length && outcomes[flushed]) {
      for (const line of held[flushed]!) write(line);
      const outcome = outcomes[flushed]!;
      if (outcome.error !== undefined) write(` ▸    ${outcome.spec.name}: ${outcome.error}`);
      flushed += 1;
    }
  };
  // One at a time, lines can be printed as they come: the order is the file's anyway.
  const direct = !progress.active && (specs.length === 1 || run.parallel === 1);
  // Jobs start in the file's order, skipping a database whose cluster has used its budget.
  const clusters = specs.map(clusterOf);
  const perCluster = run.perCluster ?? run.parallel;
  const pending = specs.map((_, i) => i);
  const running = new Map<string, number>();
  let waiting: (() => void)[] = [];
  const wakeAll = () => {
    const woken = waiting;
    waiting = [];
    for (const wake of woken) wake();
  };
  const worker = async () => {
    for (;;) {
      if (pending.length === 0) return;
      const at = pending.findIndex((i) => (running.get(clusters[i]!) ?? 0) < perCluster);
      if (at < 0) {
        await new Promise<void>((resolve) => waiting.push(resolve));
        continue;
      }
      const index = pending.splice(at, 1)[0]!;
      const spec = specs[index]!;
      const cluster = clusters[index]!;
      running.set(cluster, (running.get(cluster) ?? 0) + 1);
      let outcome: FleetOutcome<T>;
      try {
        const value = await job(spec, (line) => (direct ? write(line) : held[index]!.push(line)));
        outcome = { spec, cluster, value };
      } catch (error) {
        if (!(run.isolate ?? specs.length > 1)) {
          pending.length = 0; // no new jobs; the ones running finish
          throw error;
        }
        outcome = { spec, cluster, error: errorLine(error) };
      } finally {
        running.set(cluster, running.get(cluster)! - 1);
        wakeAll();
      }
      outcomes[index] = outcome;
      progress.tick(
        outcome.error !== undefined,
        outcome.error === undefined && !!run.drifted?.(outcome.value as T),
      );
      flush();
    }
  };
  await Promise.all(Array.from({ length: Math.min(run.parallel, specs.length) }, worker));
  progress.stop();
  flush();
  return outcomes as FleetOutcome<T>[];
}

/** The fleet's exit status: 1 if any database errored, else 2 if any drifted, else 0. */
export function fleetExit<T>(outcomes: readonly FleetOutcome<T>[], drifted: (value: T) => boolean): number {
  if (outcomes.some((o) => o.error !== undefined)) return 1;
  if (outcomes.some((o) => drifted(o.value as T))) return 2;
  return 0;
}

/**
 * Databases done, drifted and failed, on stderr, while a fleet runs: a live bar on a
 * terminal, nothing otherwise (a CI log reads the report).
 */
class FleetProgress {
  private bar?: SingleBar;
  private done = 0;
  private drifted = 0;
  private failed = 0;

  constructor(io: Io, total: number) {
    if (total > 1 && io.interactive && process.stderr.isTTY) {
      // Required here, like the table below: a run on one database never loads them.
      const { Presets, SingleBar } = require('cli-progress') as typeof import('cli-progress');
      this.bar = new SingleBar(
        {
          format: 'Databases [{bar}] {value}/{total} done, {drifted} drifted, {failed} failed',
          hideCursor: true,
          clearOnComplete: true,
          stream: process.stderr,
        },
        Presets.shades_classic,
      );
      this.bar.start(total, 0, { drifted: 0, failed: 0 });
    }
  }

  get active(): boolean {
    return this.bar !== undefined;
  }

  tick(failed: boolean, drifted: boolean): void {
    this.done += 1;
    if (failed) this.failed += 1;
    if (drifted) this.drifted += 1;
    this.bar?.update(this.done, { drifted: this.drifted, failed: this.failed });
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

/** The summary a fleet's text report leads with: one row of counts, no colors. */
export function summaryTable(columns: readonly [string, number][]): string {
  const Table = require('cli-table3') as typeof import('cli-table3');
  const table = new Table({
    head: columns.map(([name]) => name),
    style: { head: [], border: [], compact: false },
  });
  table.push(columns.map(([, count]) => String(count)));
  return `${table.toString()}\n`;
}

/** Serialises work that must not interleave (a prompt on the terminal) between a fleet's jobs. */
export function serial(): <T>(work: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>) => {
    const result = tail.then(work);
    tail = result.catch(() => undefined);
    return result;
  };
}

/**
 * What an apply over a fleet has finished, so an interrupted run (a crash, a
 * deploy's timeout, Ctrl-C) can be resumed with `--resume` rather than begun again:
 * `.pgcred/fleet-run.json` beside the file, written after each database, removed when
 * a run ends with every database applied. It holds database names only.
 */
export class RunJournal {
  private constructor(
    private readonly path: string,
    private readonly command: string,
    private readonly done: Set<string>,
  ) {}

  static pathFor(configPath: string): string {
    return join(dirname(configPath), '.pgcred', 'fleet-run.json');
  }

  /** A new run: forgets what an earlier one finished. */
  static begin(configPath: string, command: string): RunJournal {
    const journal = new RunJournal(RunJournal.pathFor(configPath), command, new Set());
    journal.write();
    return journal;
  }

  /** The interrupted run of `command` on this file; bad input when there is none. */
  static resume(configPath: string, command: string): RunJournal {
    const path = RunJournal.pathFor(configPath);
    let saved: { command?: unknown; done?: unknown };
    try {
      saved = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      throw new UserError(
        `--resume: no interrupted ${command} of ${configPath} to resume (${path} is missing)`,
      );
    }
    if (saved.command !== command || !Array.isArray(saved.done))
      throw new UserError(
        `--resume: ${path} is not the journal of an interrupted ${command}; run without --resume`,
      );
    return new RunJournal(path, command, new Set(saved.done.map(String)));
  }

  has(name: string): boolean {
    return this.done.has(name);
  }

  get size(): number {
    return this.done.size;
  }

  finished(name: string): void {
    this.done.add(name);
    this.write();
  }

  /** The run is over with nothing left to do. */
  end(): void {
    rmSync(this.path, { force: true });
  }

  private write(): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const temp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify({ command: this.command, done: [...this.done] }, null, 2)}\n`, {
      mode: 0o600,
    });
    renameSync(temp, this.path);
  }
}
