/**
 * Fresh servers for every measured run. A catalog that an earlier run bloated (dead
 * pg_shdepend and pg_class rows after a drop) slows everything after it, so each
 * run starts a copy of a stopped template cluster instead of reusing a database.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { makeBaseDir, type PostgresServer, startPostgres } from '../src/embedded/server';

/** A stopped cluster that runs are copied from. */
export interface Template {
  readonly baseDir: string;
  readonly password: string;
}

// Bench servers get the memory a small production server would; the harness
// defaults (128 MB shared_buffers) would make L's catalogs spill for every run alike.
// Autovacuum is off so that no run shares the machine with a vacuum an earlier step
// set off; every run starts from a vacuumed template instead.
const SETTINGS = {
  shared_buffers: '512MB',
  work_mem: '64MB',
  maintenance_work_mem: '256MB',
  autovacuum: 'off',
};

export async function startFresh(): Promise<PostgresServer> {
  return startPostgres({ settings: SETTINGS });
}

/** Stops a server and keeps its data directory as a template. */
export async function keepAsTemplate(server: PostgresServer): Promise<Template> {
  const baseDir = makeBaseDir();
  const client = new Client({ connectionString: server.url() });
  await client.connect();
  // VACUUM so that a template's visibility and statistics do not depend on when the
  // copy's first query comes; CHECKPOINT so that a copy starts without replaying WAL.
  await client.query('VACUUM ANALYZE');
  // A checkpoint with WAL recycling off deletes the WAL the build wrote (some GBs at
  // L) instead of keeping it for reuse, so every copy is smaller and quicker to make.
  await client.query('ALTER SYSTEM SET wal_recycle = off');
  await client.query('SELECT pg_reload_conf()');
  // Two checkpoints around a segment switch: the second removes what the first kept.
  await client.query('CHECKPOINT');
  await client.query('SELECT pg_switch_wal()');
  await client.query('CHECKPOINT');
  await client.query('ALTER SYSTEM RESET wal_recycle');
  await client.query('SELECT pg_reload_conf()');
  await client.end();
  // A fast shutdown by the postmaster's pid: the harness's stop would remove the data.
  const pidFile = join(server.dataDir, 'postmaster.pid');
  process.kill(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 'SIGINT');
  while (existsSync(pidFile)) await new Promise((resolve) => setTimeout(resolve, 50));
  renameSync(server.dataDir, join(baseDir, 'data'));
  await server.stop();
  return { baseDir, password: server.password };
}

/** Starts a copy of a template: its own data directory, its own port. */
export async function startCopy(template: Template): Promise<PostgresServer> {
  const baseDir = makeBaseDir();
  // cp keeps ownership when run as root, which PostgreSQL needs (it runs as postgres).
  execFileSync('cp', ['-a', join(template.baseDir, 'data'), join(baseDir, 'data')]);
  rmSync(join(baseDir, 'data', 'postmaster.pid'), { force: true });
  writeFileSync(join(baseDir, 'server.log'), '');
  const server = await startPostgres({
    existing: { baseDir, password: template.password },
    settings: SETTINGS,
  });
  return {
    ...server,
    stop: async () => {
      await server.stop();
      rmSync(baseDir, { recursive: true, force: true });
    },
  };
}

export function removeTemplate(template: Template): void {
  rmSync(template.baseDir, { recursive: true, force: true });
}
