import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  chownSync,
  copyFileSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { quoteLiteral } from '../model/identifiers';
import { makeBaseDir, osUser, type PostgresServer, startPostgres } from './server';

/**
 * A real streaming replica of a private server, on loopback: what Heroku calls a
 * follower. The embedded binaries have no pg_basebackup, so this is the base backup
 * by hand, as PostgreSQL documents it: a physical replication slot keeps the WAL,
 * the low-level backup API brackets a copy of the data directory, and the standby
 * starts with standby.signal and primary_conninfo. Promoting it (pg_promote) makes
 * a fork: an independent, writable copy.
 */
export interface Standby {
  readonly server: PostgresServer;
  /** The primary's replication slot that keeps WAL for this standby. */
  readonly slot: string;
  /** Stops the standby and drops its slot on the primary. */
  stop(): Promise<void>;
}

/** Files the copy leaves out: the running server's own, and WAL, which the standby streams. */
const SKIPPED = new Set(['postmaster.pid', 'postmaster.opts', 'standby.signal', 'recovery.signal']);
const EMPTIED = new Set([
  'pg_wal',
  'pg_replslot',
  'pg_stat_tmp',
  'pg_dynshmem',
  'pg_notify',
  'pg_serial',
  'pg_snapshots',
  'pg_subtrans',
]);

/** Copies a data directory that the server is writing to: files that vanish meanwhile are skipped (the WAL replays them). */
function copyDataDir(from: string, to: string, top = true): void {
  mkdirSync(to, { recursive: true, mode: 0o700 });
  let entries: string[];
  try {
    entries = readdirSync(from);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) {
    if (top && SKIPPED.has(entry)) continue;
    const source = join(from, entry);
    const target = join(to, entry);
    try {
      const stat = lstatSync(source);
      if (stat.isSymbolicLink()) symlinkSync(readlinkSync(source), target);
      else if (stat.isDirectory()) {
        if (top && EMPTIED.has(entry)) mkdirSync(target, { mode: 0o700 });
        else copyDataDir(source, target, false);
      } else copyFileSync(source, target);
    } catch (error) {
      if ((error as { code?: string }).code !== 'ENOENT') throw error;
    }
  }
}

function chownTree(path: string, ids: { uid: number; gid: number }): void {
  chownSync(path, ids.uid, ids.gid);
  if (lstatSync(path).isDirectory()) for (const entry of readdirSync(path)) chownTree(join(path, entry), ids);
}

export async function startStandby(primary: PostgresServer): Promise<Standby> {
  const slot = `pgcred_standby_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: primary.url(), application_name: 'pgcred standby setup' });
  await admin.connect();
  const baseDir = makeBaseDir();
  try {
    await admin.query('SELECT pg_create_physical_replication_slot($1, true)', [slot]);
    // PostgreSQL 15 renamed the backup functions and dropped exclusive backups.
    const modern = primary.majorVersion >= 15;
    await admin.query(
      modern ? 'SELECT pg_backup_start($1, true)' : 'SELECT pg_start_backup($1, true, false)',
      [slot],
    );
    const dataDir = join(baseDir, 'data');
    copyDataDir(primary.dataDir, dataDir);
    mkdirSync(join(dataDir, 'pg_wal', 'archive_status'), { recursive: true, mode: 0o700 });
    const { rows } = await admin.query(
      modern
        ? 'SELECT labelfile, spcmapfile FROM pg_backup_stop(true)'
        : 'SELECT labelfile, spcmapfile FROM pg_stop_backup(false, true)',
    );
    writeFileSync(join(dataDir, 'backup_label'), rows[0].labelfile, { mode: 0o600 });
    if (rows[0].spcmapfile)
      writeFileSync(join(dataDir, 'tablespace_map'), rows[0].spcmapfile, { mode: 0o600 });
    writeFileSync(join(dataDir, 'standby.signal'), '', { mode: 0o600 });
    const conninfo = `host=${primary.host} port=${primary.port} user=${primary.user} password=${primary.password} application_name=${slot}`;
    appendFileSync(
      join(dataDir, 'postgresql.auto.conf'),
      `primary_conninfo = ${quoteLiteral(conninfo)}\nprimary_slot_name = ${quoteLiteral(slot)}\nhot_standby = on\n`,
    );
    const ids = osUser();
    if (ids) chownTree(dataDir, ids);
  } catch (error) {
    await admin.query('SELECT pg_drop_replication_slot($1)', [slot]).catch(() => undefined);
    await admin.end().catch(() => undefined);
    throw error;
  }
  await admin.end();
  const server = await startPostgres({
    binDir: primary.binDir,
    existing: { baseDir, password: primary.password },
  });
  return {
    server,
    slot,
    stop: async () => {
      await server.stop();
      const client = new Client({ connectionString: primary.url() });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query(
          'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1',
          [slot],
        );
      } catch {
        // the primary is gone already
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
}

/** Waits until the standby has replayed everything the primary has written so far. */
export async function waitForReplay(
  primary: PostgresServer,
  standby: PostgresServer,
  timeoutMs = 30_000,
): Promise<void> {
  const query = async (server: PostgresServer, sql: string, params: unknown[] = []) => {
    const client = new Client({ connectionString: server.url() });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows[0];
    } finally {
      await client.end();
    }
  };
  // The insert position: with synchronous_commit off, a commit may not be written out yet.
  const { lsn } = await query(primary, 'SELECT pg_current_wal_insert_lsn()::text AS lsn');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { caught } = await query(
      standby,
      'SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false) AS caught',
      [lsn],
    );
    if (caught) return;
    if (Date.now() > deadline)
      throw new Error(`the standby did not replay up to ${lsn} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
