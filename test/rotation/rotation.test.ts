import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { MasterKey } from '../../src/control/crypto';
import { ROTATION_FAULT_POINTS } from '../../src/faults';
import type { CliResult } from '../harness/cli';
import { AppLoad } from '../harness/load';
import { testServer, tryAs } from '../harness/pg';
import { pgcredProcess } from '../harness/process';
import { createProject, type Project } from '../harness/project';

function envVar(path: string, name: string): string {
  const line = readFileSync(path, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}=`));
  if (!line) throw new Error(`${name} not in ${path}`);
  return line.slice(name.length + 1);
}

describe('rotation', () => {
  let p: Project;
  let analyst: string;
  let env: string;
  const outputs: string[] = [];
  const record = (result: CliResult | { stdout: string; stderr: string }) => {
    outputs.push(result.stdout, result.stderr);
    return result;
  };

  beforeAll(async () => {
    p = await createProject('rotate', ({ url, name }) => {
      analyst = name('analyst');
      return `version: 1
databases:
  - name: sunny
    url: ${url}
    credentials:
      - { name: ${analyst}, permission: read-only, rotation: { grace: 20s } }
apps:
  - { name: web, envFile: ./run/web.env }
  - { name: worker, envFile: ./run/worker.env }
attachments:
  - { database: sunny, credential: ${analyst}, app: web }
  - { database: sunny, credential: ${analyst}, app: worker, as: REPORTING }
`;
    });
    env = join(p.dir, 'run', 'web.env');
    record(await p.ok('apply', '--yes'));
    const owner = new Client({ connectionString: await p.urlOf('default') });
    await owner.connect();
    await owner.query('CREATE TABLE public.items (id int); INSERT INTO public.items VALUES (1), (2)');
    await owner.end();
  });
  afterAll(() => p.cleanup());

  it('rotates under load with no failed transaction, showing both usernames meanwhile', async () => {
    const before = envVar(env, 'DATABASE_URL');
    const load = new AppLoad(env, 'DATABASE_URL', 'SELECT count(*) FROM public.items', 8);
    while (load.transactions < 100) await new Promise((r) => setTimeout(r, 50));

    const listings: string[] = [];
    let rotating = true;
    const watcher = (async () => {
      while (rotating) {
        listings.push(record(await p.ok('credentials')).stdout);
        await new Promise((r) => setTimeout(r, 400));
      }
    })();
    const rotation = record(await p.ok('credentials:rotate', '--name', analyst, '--confirm', 'sunny'));
    rotating = false;
    await watcher;
    const counted = load.transactions;
    await new Promise((r) => setTimeout(r, 500));
    await load.stop();

    expect(rotation.stderr).toContain(`Rotating ${analyst} on ⛁ sunny... done`);
    expect(load.failures).toEqual([]);
    expect(counted).toBeGreaterThan(200);
    // A listing taken at the journaled step shows the temporary username as enabling: take one from the rotating step.
    const during = listings.find((l) => new RegExp(`${analyst}-rotating +active`).test(l));
    expect(during).toBeDefined();
    expect(during).toMatch(new RegExp(`${analyst} +rotating`));
    expect(during).toMatch(new RegExp(`${analyst}-rotating +active +\\d+ connections?`));
    expect(during).toMatch(
      new RegExp(`${analyst} +waiting for no connections to be revoked +\\d+ connections?`),
    );

    // Afterwards: the old password is refused, the temporary username is gone, and the apps' URLs work.
    expect(await tryAs(before, 'SELECT 1')).toMatchObject({ ok: false, code: '28P01' });
    expect(
      await p.db.sql('SELECT rolname FROM pg_roles WHERE rolname = $1', [`${analyst}-rotating`]),
    ).toEqual([]);
    const after = envVar(env, 'DATABASE_URL');
    expect(after).not.toBe(before);
    expect(after.startsWith(`postgres://${analyst}:`)).toBe(true);
    expect(await tryAs(after, 'SELECT count(*) FROM public.items')).toMatchObject({ ok: true });
    expect(await tryAs(envVar(join(p.dir, 'run', 'worker.env'), 'REPORTING_URL'), 'SELECT 1')).toMatchObject({
      ok: true,
    });
    const listing = record(await p.ok('credentials')).stdout;
    expect(listing).toMatch(new RegExp(`${analyst} +active`));
    expect((await p.run('drift')).status).toBe(0);
  }, 120_000);

  it('--force ends the credential’s sessions at once, and the new URL works', async () => {
    const held = new Client({ connectionString: envVar(env, 'DATABASE_URL') });
    held.on('error', () => undefined);
    await held.connect();
    await held.query('SELECT 1');
    const result = record(
      await p.ok('credentials:rotate', '--name', analyst, '--force', '--confirm', 'sunny'),
    );
    expect(result.stderr).toMatch(/Terminated 1 connection of /);
    await expect(held.query('SELECT 1')).rejects.toThrow();
    await held.end().catch(() => undefined);
    expect(await tryAs(envVar(env, 'DATABASE_URL'), 'SELECT 1')).toMatchObject({ ok: true });
  });

  it('--no-wait returns at once; reconcile finishes the rotation', async () => {
    const started = record(
      await p.ok('credentials:rotate', '--name', analyst, '--no-wait', '--grace', '2s', '--confirm', 'sunny'),
    );
    expect(started.stderr).toContain('started');
    expect(record(await p.ok('credentials')).stdout).toContain(
      'Usernames currently active for this credential:',
    );
    for (let i = 0; i < 40; i++) {
      const r = record(await p.ok('reconcile'));
      if (r.stderr.includes('is complete')) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(record(await p.ok('credentials')).stdout).not.toContain('Usernames currently active');
    expect(await tryAs(envVar(env, 'DATABASE_URL'), 'SELECT 1')).toMatchObject({ ok: true });
  }, 60_000);

  it.each(ROTATION_FAULT_POINTS)(
    'killed with SIGKILL at %s, then reconcile: the rotation completes and nothing is lost',
    async (point) => {
      const killed = await pgcredProcess(
        p,
        ['credentials:rotate', '--name', analyst, '--grace', '2s', '--confirm', 'sunny'],
        {
          PGCRED_FAULT: point,
        },
      );
      record(killed);
      expect(killed.signal).toBe('SIGKILL');
      for (let i = 0; i < 40; i++) {
        const open = await p.db.sql('SELECT 1 FROM pgcred.rotations WHERE finished_at IS NULL');
        if (open.length === 0) break;
        record(await p.ok('reconcile'));
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      expect(await p.db.sql('SELECT credential FROM pgcred.rotations WHERE finished_at IS NULL')).toEqual([]);
      expect(
        await p.db.sql('SELECT rolname FROM pg_roles WHERE rolname = $1', [`${analyst}-rotating`]),
      ).toEqual([]);
      expect(await p.db.sql('SELECT rolname FROM pg_roles WHERE rolname = $1', [analyst])).toHaveLength(1);
      const vars = await p.db.sql('SELECT app, name FROM pgcred.config_vars ORDER BY app, name');
      expect(vars).toEqual([
        { app: 'web', name: 'DATABASE_URL' },
        { app: 'worker', name: 'REPORTING_URL' },
      ]);
      expect(await tryAs(envVar(env, 'DATABASE_URL'), 'SELECT count(*) FROM public.items')).toMatchObject({
        ok: true,
      });
      expect(
        await tryAs(envVar(join(p.dir, 'run', 'worker.env'), 'REPORTING_URL'), 'SELECT 1'),
      ).toMatchObject({ ok: true });
      const drift = await p.run('drift');
      expect(drift.stdout).toContain('No changes');
      expect(drift.status).toBe(0);
    },
    60_000,
  );

  it('rotates the default credential, which resets its connections', async () => {
    const result = record(await p.ok('credentials:rotate', '--confirm', 'sunny'));
    expect(result.stderr).toContain('Rotating default on ⛁ sunny... done');
    expect(await tryAs(await p.urlOf('default'), 'SELECT 1')).toMatchObject({ ok: true });
  });

  it('never lets a password reach output, audit records, releases or the server log', async () => {
    const key = MasterKey.parse(String(p.env.PGCRED_MASTER_KEY), 'test');
    const secrets = await p.db.sql('SELECT database, username, password FROM pgcred.secrets');
    const journal = await p.db.sql('SELECT database, credential, new_password FROM pgcred.rotations');
    const passwords = [
      ...secrets.map((s) => key.decrypt(String(s.password), `${s.database}/${s.username}`)),
      ...journal.map((r) => key.decrypt(String(r.new_password), `${r.database}/rotation/${r.credential}`)),
    ];
    expect(passwords.length).toBeGreaterThanOrEqual(3);
    const audit = JSON.stringify(await p.db.sql('SELECT * FROM pgcred.audit'));
    const releases = JSON.stringify(await p.db.sql('SELECT * FROM pgcred.releases'));
    const apps = JSON.stringify(await p.db.sql('SELECT * FROM pgcred.apps'));
    const serverLog = readFileSync(join(testServer().baseDir, 'server.log'), 'utf8');
    const haystacks = { outputs: outputs.join('\n'), audit, releases, apps, serverLog };
    for (const [where, text] of Object.entries(haystacks)) {
      for (const password of passwords) {
        if (text.includes(password)) throw new Error(`a password appears in ${where}`);
      }
    }
    expect(audit).toContain('rotation:finish');
    expect(outputs.join('').length).toBeGreaterThan(1000);
  });
});
