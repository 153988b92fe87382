/**
 * The processes a run times: pgcred as a user runs it (its CLI, with the probe that
 * counts round trips and peak memory), psql running a script, and the Node process
 * that only runs the floor query.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { PostgresServer } from '../src/embedded/server';
import { DATABASE } from './fixture';

// CommonJS, so that the probe (loaded with node --require) shares the same counter.
const { countStatements } = require('./statements.cjs') as { countStatements: (sql: string) => number };

export { countStatements };

const ROOT = join(__dirname, '..');

export interface Sample {
  readonly ms: number;
  readonly roundTrips: number;
  readonly statements: number;
  /** Peak resident memory of the measured process; psql's is not measured. */
  readonly maxRssKb?: number;
}

export interface Finished {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  readonly timedOut: boolean;
}

/** Runs a process to its end, collecting what it prints and how long it took. */
export function run(
  command: string,
  args: string[],
  options: { cwd?: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
) {
  return new Promise<Finished>((resolve, reject) => {
    const start = performance.now();
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let timedOut = false;
    const timer = options.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, options.timeoutMs)
      : undefined;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (status) => {
      if (timer) clearTimeout(timer);
      resolve({ status, stdout, stderr, ms: performance.now() - start, timedOut });
    });
  });
}

/** A directory holding pgcred.yaml, as an infra repo would. */
export class Project {
  readonly dir = mkdtempSync(join(tmpdir(), 'pgcred-bench-'));
  constructor(readonly masterKey: string) {}

  writeConfig(yaml: string): void {
    writeFileSync(join(this.dir, 'pgcred.yaml'), yaml);
  }

  /** Runs `pgcred <args>` against the server and returns what it cost; `expect` is the exit code it must give. */
  async pgcred(server: PostgresServer, args: string[], expect = 0): Promise<Sample> {
    const probe = join(this.dir, 'probe.json');
    rmSync(probe, { force: true });
    const done = await run(
      process.execPath,
      ['--require', join(__dirname, 'probe.cjs'), join(ROOT, 'bin', 'pgcred.js'), ...args],
      {
        cwd: this.dir,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          DATABASE_ADMIN_URL: server.url(DATABASE),
          PGCRED_MASTER_KEY: this.masterKey,
          PGCRED_BENCH_PROBE: probe,
        },
      },
    );
    if (done.status !== expect) {
      throw new Error(
        `pgcred ${args.join(' ')} exited ${done.status}, not ${expect}:\n${done.stderr}${done.stdout}`,
      );
    }
    const counts = JSON.parse(readFileSync(probe, 'utf8')) as Omit<Sample, 'ms'>;
    return { ms: done.ms, ...counts };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** psql runs a script the way a user would paste it; `singleTransaction` wraps it in one transaction. */
/** Thrown when a script is stopped at its time limit; the sample's time is the limit. */
export class Cut extends Error {
  readonly cut = true;
  constructor(readonly sample: Sample) {
    super(`stopped after ${Math.round(sample.ms / 1000)} s`);
  }
}

export async function psql(
  server: PostgresServer,
  script: string,
  singleTransaction: boolean,
  timeoutMs?: number,
): Promise<Sample> {
  const dir = mkdtempSync(join(tmpdir(), 'pgcred-bench-sql-'));
  const file = join(dir, 'script.sql');
  writeFileSync(file, script);
  try {
    const args = [
      '-X',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      '-h',
      server.host,
      '-p',
      String(server.port),
      '-U',
      server.user,
      '-d',
      DATABASE,
    ];
    if (singleTransaction) args.push('--single-transaction');
    args.push('-f', file);
    const done = await run('psql', args, {
      env: { PATH: process.env.PATH, PGPASSWORD: server.password },
      ...(timeoutMs ? { timeoutMs } : {}),
    });
    const statements = countStatements(script) + (singleTransaction ? 2 : 0);
    if (done.timedOut) throw new Cut({ ms: done.ms, roundTrips: statements, statements });
    if (done.status !== 0)
      throw new Error(`psql exited ${done.status}: ${done.stderr.trim().split('\n').slice(0, 3).join(' ')}`);
    return { ms: done.ms, roundTrips: statements, statements };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `node floor-client.cjs`: connect with pg, run the floor query, exit. */
export async function floorProcess(server: PostgresServer): Promise<Sample> {
  const done = await run(process.execPath, [join(__dirname, 'floor-client.cjs'), server.url(DATABASE)], {
    env: { PATH: process.env.PATH },
  });
  if (done.status !== 0) throw new Error(`the floor process failed: ${done.stderr.trim()}`);
  return { ms: done.ms, roundTrips: 1, statements: 1 };
}
