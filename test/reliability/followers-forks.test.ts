import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { type PostgresServer, startPostgres } from '../../src/embedded/server';
import { type Standby, startStandby, waitForReplay } from '../../src/embedded/standby';
import { type CliResult, configDir, pgcred, testKey } from '../harness/cli';
import { testServer, tryAs, uniqueName } from '../harness/pg';

/**
 * Followers and forks on a real streaming replica: a primary of its own (same
 * binaries as the rest of the run), a standby made from a base backup, streaming
 * over loopback. Then `pgcred fork` promotes the standby into a fork.
 */
describe('followers and forks', () => {
  let primary: PostgresServer;
  let standby: Standby;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const suffix = uniqueName('').slice(1);
  const analyst = `analyst_${suffix}`;
  const writer = `writer_${suffix}`;
  const later = `later_${suffix}`;
  const forkOnly = `forkonly_${suffix}`;
  const dbName = 'shop';

  const query = async (url: string, sql: string) => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(sql)).rows;
    } finally {
      await client.end();
    }
  };
  const run = (...args: string[]): Promise<CliResult> => pgcred(args, { cwd: dir, env });
  const ok = async (...args: string[]) => {
    const result = await run(...args);
    if (result.status !== 0) throw new Error(`pgcred ${args.join(' ')}: ${result.stderr}${result.stdout}`);
    return result;
  };
  const urlOf = async (database: string, name: string) =>
    (await ok('credentials:url', database, '--name', name)).stdout
      .split('\n')
      .find((l) => l.trim().startsWith('postgres://'))!
      .trim();
  const config = (moonlight: string, sunnyCredentials: string[] = []) => `version: 1
databases:
  - name: sunny
    url: \${PRIMARY_URL}
    credentials:
      - { name: ${analyst}, permission: read-only }
      - { name: ${writer}, permission: read-write }
${sunnyCredentials.map((c) => `      - ${c}\n`).join('')}  - name: moonlight
    url: \${FOLLOWER_URL}
${moonlight}`;
  /** Roles, their attributes and the ACLs of the database, on a server: what "changes nothing" compares. */
  const snapshot = async (server: PostgresServer) =>
    query(
      server.url(dbName),
      `SELECT (SELECT json_agg(r ORDER BY r.rolname) FROM (SELECT rolname, rolpassword, rolsuper, rolcanlogin FROM pg_authid) r) AS roles,
              (SELECT json_agg(n.nspacl::text ORDER BY n.nspname) FROM pg_namespace n) AS schemas,
              (SELECT json_agg(c.relacl::text ORDER BY c.oid) FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace) AS tables,
              (SELECT datacl::text FROM pg_database WHERE datname = current_database()) AS database`,
    );
  const controlSnapshot = async () =>
    query(
      primary.url(dbName),
      `SELECT (SELECT count(*) FROM pgcred.secrets) AS secrets, (SELECT count(*) FROM pgcred.rotations) AS rotations,
              (SELECT count(*) FROM pgcred.attachments) AS attachments, (SELECT max(id) FROM pgcred.audit) AS audit`,
    );

  beforeAll(async () => {
    primary = await startPostgres({ binDir: testServer().binDir });
    await query(primary.url(), `CREATE DATABASE ${dbName}`);
    standby = await startStandby(primary);
    dir = configDir(config('    role: follower\n    source: sunny\n'));
    env = {
      PRIMARY_URL: primary.url(dbName),
      FOLLOWER_URL: standby.server.url(dbName),
      PGCRED_MASTER_KEY: testKey(),
    };
    await ok('apply', '--yes');
    await query(
      await urlOf('sunny', 'default'),
      `CREATE TABLE public.orders (id serial PRIMARY KEY, cents int); INSERT INTO public.orders (cents) VALUES (500)`,
    );
    await waitForReplay(primary, standby.server);
  }, 120_000);

  afterAll(async () => {
    await standby?.stop();
    await primary?.stop();
  });

  it('is a real streaming replica', async () => {
    expect(await query(standby.server.url(), 'SELECT pg_is_in_recovery() AS r')).toEqual([{ r: true }]);
    const [sender] = await query(primary.url(), 'SELECT state FROM pg_stat_replication');
    expect(sender).toEqual({ state: 'streaming' });
  });

  it('credentials made on the primary appear on the follower and log in there, read-only', async () => {
    const fresh = `fresh_${suffix}`;
    await ok('credentials:create', 'sunny', '--name', fresh, '--permission', 'read-only');
    await waitForReplay(primary, standby.server);
    for (const name of [analyst, writer, fresh]) {
      const url = await urlOf('moonlight', name);
      expect(new URL(url).port).toBe(String(standby.server.port));
      expect(await tryAs(url, 'SELECT cents FROM public.orders')).toEqual({
        ok: true,
        rows: [{ cents: 500 }],
      });
    }
    // Even read-write is read-only on a follower.
    const write = await tryAs(
      await urlOf('moonlight', writer),
      'INSERT INTO public.orders (cents) VALUES (1)',
    );
    expect(write).toMatchObject({ ok: false, code: '25006' });
    expect(
      await tryAs(await urlOf('sunny', writer), 'INSERT INTO public.orders (cents) VALUES (1)'),
    ).toMatchObject({
      ok: true,
    });
    await ok('credentials:destroy', 'sunny', '--name', fresh, '--confirm', 'sunny');
    await waitForReplay(primary, standby.server);
    expect(await query(standby.server.url(), `SELECT 1 FROM pg_roles WHERE rolname = '${fresh}'`)).toEqual(
      [],
    );
  });

  it('refuses every credential-changing command and apply against the follower, and changes nothing', async () => {
    const before = [await snapshot(primary), await snapshot(standby.server), await controlSnapshot()];
    const followerUrl = standby.server.url(dbName);
    const attempts: string[][] = [
      ['credentials:create', 'moonlight', '--name', `x_${suffix}`],
      ['credentials:permissions', 'moonlight', '--name', analyst, '--level', 'read-write'],
      ['credentials:destroy', 'moonlight', '--name', analyst, '--confirm', 'moonlight'],
      ['credentials:rotate', 'moonlight', '--name', analyst, '--confirm', 'moonlight'],
      ['credentials:rotate', 'moonlight', '--confirm', 'moonlight'],
      ['credentials:rotate', 'moonlight', '--all', '--confirm', 'moonlight'],
      ['credentials:repair-default', 'moonlight', '--confirm', 'moonlight'],
      ['apply', 'moonlight', '--yes'],
      // The follower named by URL: pgcred finds out from the server itself.
      ['credentials:create', followerUrl, '--name', `y_${suffix}`],
      ['credentials:permissions', followerUrl, '--name', analyst, '--level', 'none'],
      ['credentials:rotate', followerUrl, '--name', analyst, '--force', '--confirm', dbName],
      ['credentials:repair-default', followerUrl, '--confirm', dbName],
    ];
    for (const args of attempts) {
      const result = await run(...args);
      expect({ args, status: result.status, stderr: result.stderr.trim() }).toEqual({
        args,
        status: 1,
        stderr: '▸    This operation is not supported for follower databases.',
      });
    }
    // A standby declared as a primary by mistake: apply asks the server, and refuses.
    const misdeclared = configDir(`version: 1
databases:
  - { name: moonlight, url: "\${FOLLOWER_URL}", credentials: [ { name: ${analyst}, permission: read-write } ] }
`);
    const applied = await pgcred(['apply', '--yes'], {
      cwd: misdeclared,
      env: { ...env, PGCRED_CONTROL_URL: primary.url(dbName) },
    });
    expect(applied.status).toBe(1);
    expect(applied.stderr.trim().split('\n')).toEqual([
      '▸    This operation is not supported for follower databases.',
    ]);
    await waitForReplay(primary, standby.server);
    expect([await snapshot(primary), await snapshot(standby.server), await controlSnapshot()]).toEqual(
      before,
    );
  });

  it('checks a follower for drift against its primary’s declaration', async () => {
    expect((await run('drift', 'moonlight')).status).toBe(0);
    await query(primary.url(dbName), `GRANT INSERT ON public.orders TO "${analyst}"`);
    await waitForReplay(primary, standby.server);
    const drift = await run('drift', 'moonlight');
    expect(drift.status).toBe(2);
    expect(drift.stdout).toContain(`loses INSERT on all tables in schema public`);
    await ok('apply', 'sunny', '--yes');
    await waitForReplay(primary, standby.server);
    expect((await run('drift', 'moonlight')).status).toBe(0);
  });

  it('pgcred fork makes an independent, writable copy with the credentials of that moment', async () => {
    const analystOnPrimary = await urlOf('sunny', analyst);
    const refused = await run('fork', 'moonlight');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('To proceed, re-run this command with --confirm moonlight');
    const forked = await ok('fork', 'moonlight', '--confirm', 'moonlight');
    expect(forked.stderr).toContain('Promoting moonlight (a follower of sunny) to a fork... done');
    expect(forked.stdout).toContain(
      `moonlight is a fork of sunny now: it keeps the 2 credentials it had (${analyst}, ${writer})`,
    );
    expect(forked.stdout).toContain(`      - { name: ${analyst}, permission: read-only }`);
    expect(await query(standby.server.url(), 'SELECT pg_is_in_recovery() AS r')).toEqual([{ r: false }]);
    // Running it again changes nothing and still succeeds (a crash between steps is safe).
    expect((await ok('fork', 'moonlight', '--confirm', 'moonlight')).stdout).toContain(
      'keeps the 2 credentials',
    );
    // The file now says what the fork is, as the command told us.
    const forkDecl = `    role: fork\n    source: sunny\n    credentials:\n      - { name: ${analyst}, permission: read-only }\n      - { name: ${writer}, permission: read-write }\n      - { name: ${forkOnly}, permission: read-only }\n`;
    const fileWith = (sunny: string[] = []) => {
      writeFileSync(join(dir, 'pgcred.yaml'), config(forkDecl, sunny));
    };
    fileWith();
    await ok('apply', 'moonlight', '--yes');

    // Writable, with the credentials and passwords it had.
    const forkWriter = await urlOf('moonlight', writer);
    expect(new URL(forkWriter).port).toBe(String(standby.server.port));
    expect(
      await tryAs(forkWriter, 'INSERT INTO public.orders (cents) VALUES (7) RETURNING cents'),
    ).toMatchObject({
      ok: true,
    });
    const forkAnalyst = await urlOf('moonlight', analyst);
    expect(new URL(forkAnalyst).password).toBe(new URL(analystOnPrimary).password);
    expect(await tryAs(forkAnalyst, 'SELECT count(*) FROM public.orders')).toMatchObject({ ok: true });
    expect(
      await tryAs(await urlOf('moonlight', forkOnly), 'SELECT count(*) FROM public.orders'),
    ).toMatchObject({
      ok: true,
    });

    // Later changes on the primary do not reach the fork...
    fileWith([`{ name: ${later}, permission: read-only }`]);
    await ok('apply', 'sunny', '--yes');
    await ok('credentials:rotate', 'sunny', '--name', analyst, '--force', '--confirm', 'sunny');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await query(standby.server.url(), `SELECT 1 FROM pg_roles WHERE rolname = '${later}'`)).toEqual(
      [],
    );
    expect(await query(primary.url(), `SELECT 1 AS x FROM pg_roles WHERE rolname = '${forkOnly}'`)).toEqual(
      [],
    );
    expect(await tryAs(forkAnalyst, 'SELECT 1')).toMatchObject({ ok: true });
    expect(await tryAs(analystOnPrimary, 'SELECT 1')).toMatchObject({ ok: false, code: '28P01' });
    const rotatedOnPrimary = await urlOf('sunny', analyst);
    expect(await tryAs(rotatedOnPrimary, 'SELECT 1')).toMatchObject({ ok: true });

    // ...and the fork's credentials change on their own.
    await ok('credentials:rotate', 'moonlight', '--name', analyst, '--force', '--confirm', 'moonlight');
    const rotatedOnFork = await urlOf('moonlight', analyst);
    expect(rotatedOnFork).not.toBe(forkAnalyst);
    expect(await tryAs(rotatedOnFork, 'SELECT 1')).toMatchObject({ ok: true });
    expect(await tryAs(forkAnalyst, 'SELECT 1')).toMatchObject({ ok: false, code: '28P01' });
    expect(await tryAs(rotatedOnPrimary, 'SELECT 1')).toMatchObject({ ok: true });
    await ok('credentials:permissions', 'moonlight', '--name', writer, '--level', 'read-only');
    expect(await tryAs(forkWriter, 'INSERT INTO public.orders (cents) VALUES (8)')).toMatchObject({
      ok: false,
    });
    expect(
      await tryAs(await urlOf('sunny', writer), 'INSERT INTO public.orders (cents) VALUES (8)'),
    ).toMatchObject({
      ok: true,
    });
    await ok('apply', 'moonlight', '--yes');
    expect((await run('drift', 'sunny')).status).toBe(0);
    expect((await run('drift', 'moonlight')).status).toBe(0);
  }, 120_000);
});
