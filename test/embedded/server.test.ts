import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { removeStaleServers, startPostgres } from '../../src/embedded/server';
import { testServer } from '../harness/pg';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the private PostgreSQL', () => {
  it('accepts only scram-sha-256 logins on loopback, and stops cleanly', async () => {
    const server = await startPostgres();
    try {
      const client = new Client({ connectionString: server.url() });
      await client.connect();
      const { rows } = await client.query(
        "SELECT current_setting('password_encryption') AS enc, current_setting('listen_addresses') AS listen",
      );
      await client.end();
      expect(rows[0]).toEqual({ enc: 'scram-sha-256', listen: '127.0.0.1' });
      const hba = readFileSync(join(server.dataDir, 'pg_hba.conf'), 'utf8');
      expect(hba).not.toMatch(/^\s*host\s.*\s(trust|md5|password)\s*$/m);
      const wrong = new Client({ connectionString: server.url().replace(server.password, 'wrong') });
      await expect(wrong.connect()).rejects.toMatchObject({ code: '28P01' });
    } finally {
      await server.stop();
    }
    expect(existsSync(server.baseDir)).toBe(false);
  });

  it('leaves nothing behind that breaks the next run when its owner is killed', async () => {
    // A separate process starts a server and is killed with SIGKILL, as a crashed run would be.
    const child = spawn(
      process.execPath,
      [
        '-r',
        require.resolve('tsx/cjs'),
        '-e',
        `require(${JSON.stringify(require.resolve('../../src/embedded/server'))}).startPostgres().then((s) => { console.log(JSON.stringify({ dir: s.baseDir })); setInterval(() => {}, 1000); });`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout!.once('data', (chunk) => resolve(String(chunk)));
      child.once('exit', () => reject(new Error('the child exited before starting its server')));
    });
    const { dir } = JSON.parse(line) as { dir: string };
    const postmaster = Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(alive(postmaster)).toBe(true);

    removeStaleServers();

    expect(existsSync(dir)).toBe(false);
    expect(alive(postmaster)).toBe(false);
    // The shared test server, whose owner is alive, was left alone.
    const shared = testServer();
    const client = new Client({
      host: shared.host,
      port: shared.port,
      user: 'postgres',
      password: shared.password,
      database: 'postgres',
    });
    await client.connect();
    await client.end();
  }, 60_000);
});
