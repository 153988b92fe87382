import { chmodSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MasterKey } from '../../src/control/crypto';
import { type CliResult, configDir, pgcred } from '../harness/cli';
import {
  createTestDatabase,
  dropRoles,
  type TestDatabase,
  testServer,
  tryAs,
  uniqueName,
} from '../harness/pg';

/**
 * Security, the way an attacker holding a credential would try it: log in and try
 * to write, create, escalate (SET ROLE, SECURITY DEFINER functions, temporary
 * tables) and read secrets. Then look for every secret in everything pgcred printed,
 * stored and logged, and check the modes of the files that hold secrets.
 */
describe('security: what a credential cannot do, and where secrets never go', () => {
  let db: TestDatabase;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const suffix = uniqueName('').slice(1);
  const analyst = `analyst_${suffix}`;
  const writer = `writer_${suffix}`;
  const nobody = `nobody_${suffix}`;
  const outputs: string[] = [];
  const urls = new Map<string, string>();
  let owner: string;

  const run = async (...args: string[]): Promise<CliResult> => {
    const result = await pgcred(args, { cwd: dir, env });
    outputs.push(result.stdout, result.stderr);
    return result;
  };
  const ok = async (...args: string[]): Promise<CliResult> => {
    const result = await run(...args);
    if (result.status !== 0) throw new Error(`pgcred ${args.join(' ')}: ${result.stderr}`);
    return result;
  };
  /** credentials:url prints a secret by design: its output is not searched. */
  const urlOf = async (name: string): Promise<string> => {
    const result = await pgcred(['credentials:url', '--name', name], { cwd: dir, env });
    const line = result.stdout.split('\n').find((l) => l.trim().startsWith('postgres://'));
    if (!line) throw new Error(result.stderr);
    return line.trim();
  };
  const asOwner = async (sql: string) => {
    const result = await tryAs(urls.get('default')!, sql);
    if (!result.ok) throw new Error(`${sql}: ${result.message}`);
    return result.rows;
  };

  beforeAll(async () => {
    db = await createTestDatabase('security');
    // Every statement run in this database reaches the server log, where no password may appear.
    await db.sql(`ALTER DATABASE "${db.name}" SET log_statement = 'all'`);
    dir = configDir(`version: 1
databases:
  - name: vault
    url: \${DATABASE_ADMIN_URL}
    credentials:
      - { name: ${analyst}, permission: read-only }
      - { name: ${writer}, permission: read-write }
      - { name: ${nobody}, permission: none }
apps:
  - { name: web, envFile: ./run/web.env }
attachments:
  - { database: vault, credential: ${analyst}, app: web }
`);
    // No PGCRED_MASTER_KEY: pgcred creates the key file itself.
    env = { DATABASE_ADMIN_URL: db.url };
    await ok('apply', '--yes');
    for (const name of ['default', analyst, writer, nobody]) urls.set(name, await urlOf(name));
    owner = new URL(urls.get('default')!).username;
    // The app's migrations, as the default credential: tables, a sequence, and
    // SECURITY DEFINER routines that write with the owner's privileges.
    await asOwner(`CREATE TABLE public.ledger (id serial PRIMARY KEY, cents int);
      INSERT INTO public.ledger (cents) VALUES (100);
      CREATE VIEW public.balance AS SELECT sum(cents) AS cents FROM public.ledger;
      CREATE FUNCTION public.transfer(amount int) RETURNS void LANGUAGE sql SECURITY DEFINER
        AS 'INSERT INTO public.ledger (cents) VALUES (amount)';
      CREATE PROCEDURE public.wipe() LANGUAGE sql SECURITY DEFINER AS 'DELETE FROM public.ledger';
      CREATE SCHEMA "odd ""schema""";
      CREATE FUNCTION "odd ""schema"""."Grant Me"() RETURNS text LANGUAGE sql SECURITY DEFINER
        AS 'SELECT current_user::text';
      CREATE FUNCTION public.harmless(a int) RETURNS int LANGUAGE sql AS 'SELECT a + 1';`);
    await ok('apply', '--yes');
  });

  afterAll(async () => {
    await db.drop();
    await dropRoles([analyst, writer, nobody, `${analyst}-rotating`, owner].filter(Boolean));
  });

  const denied = { ok: false, code: '42501' };

  it('read-only cannot write, create objects, or use temporary tables', async () => {
    const url = urls.get(analyst)!;
    expect(await tryAs(url, 'SELECT count(*) FROM public.ledger')).toMatchObject({ ok: true });
    for (const sql of [
      'INSERT INTO public.ledger (cents) VALUES (1)',
      'UPDATE public.ledger SET cents = 0',
      'DELETE FROM public.ledger',
      'TRUNCATE public.ledger',
      "SELECT nextval('public.ledger_id_seq')",
      'CREATE TABLE public.mine (id int)',
      'CREATE VIEW public.mine AS SELECT 1',
      'CREATE FUNCTION public.mine() RETURNS int LANGUAGE sql AS $$SELECT 1$$',
      'CREATE SCHEMA mine',
      'CREATE TEMP TABLE scratch (id int)',
      'ALTER TABLE public.ledger ADD COLUMN note text',
      'CREATE INDEX ON public.ledger (cents)',
    ]) {
      expect({ sql, ...(await tryAs(url, sql)) }).toMatchObject({ sql, ...denied });
    }
  });

  it('no credential can escalate: SET ROLE, SESSION AUTHORIZATION, role attributes, server files', async () => {
    for (const name of [analyst, writer, nobody]) {
      const url = urls.get(name)!;
      for (const sql of [
        `SET ROLE "${owner}"`,
        'SET ROLE postgres',
        'SET SESSION AUTHORIZATION postgres',
        `ALTER ROLE "${name}" CREATEDB`,
        `ALTER ROLE "${name}" SUPERUSER`,
        `GRANT "${owner}" TO "${name}"`,
        'SELECT rolpassword FROM pg_authid',
        "SELECT pg_read_file('postgresql.conf')",
        "COPY (SELECT 1) TO PROGRAM 'true'",
        "SELECT lo_import('/etc/hostname')",
      ]) {
        const result = await tryAs(url, sql);
        expect({ name, sql, ok: result.ok }).toEqual({ name, sql, ok: false });
      }
    }
  });

  it('SECURITY DEFINER routines the default credential owns cannot be called by any credential', async () => {
    for (const name of [analyst, writer, nobody]) {
      const url = urls.get(name)!;
      for (const sql of [
        'SELECT public.transfer(1000000)',
        'CALL public.wipe()',
        'SELECT "odd ""schema"""."Grant Me"()',
      ]) {
        expect({ name, sql, ...(await tryAs(url, sql)) }).toMatchObject({ name, sql, ...denied });
      }
    }
    // Ordinary functions stay callable; the ledger is untouched.
    expect(await tryAs(urls.get(analyst)!, 'SELECT public.harmless(1) AS two')).toEqual({
      ok: true,
      rows: [{ two: 2 }],
    });
    expect(await asOwner('SELECT count(*)::int AS n FROM public.ledger')).toEqual([{ n: 1 }]);
  });

  it('a SECURITY DEFINER function created after apply is drift, and the next apply revokes it', async () => {
    expect((await run('drift')).status).toBe(0);
    await asOwner(`CREATE FUNCTION public.refund(amount int) RETURNS void LANGUAGE sql SECURITY DEFINER
      AS 'INSERT INTO public.ledger (cents) VALUES (-amount)'`);
    // Until then PUBLIC may call it: that window is what drift reports.
    expect(await tryAs(urls.get(analyst)!, 'SELECT public.refund(1)')).toMatchObject({ ok: true });
    const drift = await run('drift');
    expect(drift.status).toBe(2);
    expect(drift.stdout).toContain(
      `loses EXECUTE on SECURITY DEFINER function public.refund(amount integer): it runs as ${owner}, so whoever calls it acts as ${owner}`,
    );
    expect(drift.stdout).toContain(
      'REVOKE EXECUTE ON FUNCTION "public"."refund"(amount integer) FROM PUBLIC;',
    );
    await ok('apply', '--yes');
    expect(await tryAs(urls.get(analyst)!, 'SELECT public.refund(1)')).toMatchObject(denied);
    expect((await run('drift')).status).toBe(0);
  });

  it('none reads nothing: no table, view, sequence, definer routine or control-store row', async () => {
    const url = urls.get(nobody)!;
    expect(await tryAs(url, 'SELECT 1 AS one')).toEqual({ ok: true, rows: [{ one: 1 }] });
    for (const sql of [
      'SELECT * FROM public.ledger',
      'SELECT * FROM public.balance',
      'SELECT last_value FROM public.ledger_id_seq',
      'SELECT * FROM pgcred.secrets',
      'SELECT * FROM pgcred.config_vars',
      'CREATE TEMP TABLE scratch (id int)',
    ]) {
      expect({ sql, ...(await tryAs(url, sql)) }).toMatchObject({ sql, ...denied });
    }
  });

  it('a GRANT by a credential that holds no grant option changes nothing', async () => {
    const before = await db.sql("SELECT relacl::text FROM pg_class WHERE relname = 'ledger'");
    await tryAs(urls.get(writer)!, `GRANT SELECT ON public.ledger TO "${nobody}"`);
    expect(await db.sql("SELECT relacl::text FROM pg_class WHERE relname = 'ledger'")).toEqual(before);
    expect(await tryAs(urls.get(nobody)!, 'SELECT * FROM public.ledger')).toMatchObject(denied);
  });

  it('env files and the key file are 0600 in 0700 directories; a key file others can read is refused', async () => {
    const mode = (path: string) => statSync(path).mode & 0o777;
    expect(mode(join(dir, 'run', 'web.env'))).toBe(0o600);
    expect(mode(join(dir, 'run'))).toBe(0o700);
    const keyFile = join(dir, '.pgcred', 'master.key');
    expect(mode(keyFile)).toBe(0o600);
    expect(mode(join(dir, '.pgcred'))).toBe(0o700);
    chmodSync(keyFile, 0o644);
    try {
      const refused = await run('credentials');
      expect(refused.status).toBe(1);
      expect(refused.stderr.trim()).toBe(
        `▸    key file ${keyFile} is open to other users (mode 644): run chmod 600 ${keyFile}`,
      );
    } finally {
      chmodSync(keyFile, 0o600);
    }
  });

  it('no secret appears in output, plans, errors, audit records, releases or the server log', async () => {
    // More output to search: every format of plan and drift, a rotation, masked config, a failing apply.
    for (const format of ['text', 'markdown', 'json']) {
      await run('plan', '--format', format);
      await run('drift', '--format', format);
    }
    await ok('credentials:rotate', '--name', analyst, '--force', '--confirm', 'vault');
    await ok('credentials:rotate', '--confirm', 'vault');
    await ok('credentials');
    await ok('config', '--app', 'web');
    // A hand-changed password and a revoked grant; apply resets one and fails at the other.
    await db.sql(`ALTER ROLE "${writer}" PASSWORD 'changed-by-hand'`);
    // The level's privileges are its level role's: revoked from it by hand, apply grants them back.
    await db.sql('REVOKE SELECT ON public.ledger FROM "pgcred:read-only:vault"');
    const planned = await run('plan');
    expect(planned.stdout).toContain(`ALTER ROLE "${writer}" PASSWORD :'password';`);
    await db.sql(`CREATE FUNCTION public.no_grants() RETURNS event_trigger LANGUAGE plpgsql AS $$
                  BEGIN RAISE EXCEPTION 'grants are frozen'; END $$;
                  CREATE EVENT TRIGGER freeze_grants ON ddl_command_start WHEN TAG IN ('GRANT')
                  EXECUTE FUNCTION public.no_grants()`);
    const failed = await run('apply', '--yes');
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain('grants are frozen. Nothing was changed.');
    await db.sql('DROP EVENT TRIGGER freeze_grants; DROP FUNCTION public.no_grants()');
    await ok('apply', '--yes');
    // A wrong admin password: the error names the database, never the URL.
    const wrong = await pgcred(['drift'], {
      cwd: dir,
      env: {
        ...env,
        DATABASE_ADMIN_URL: db.url.replace(testServer().password, 'Wr0ngPassw0rdWr0ngPassw0rd'),
      },
    });
    outputs.push(wrong.stdout, wrong.stderr);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('password authentication failed');

    const key = MasterKey.parse(readFileSync(join(dir, '.pgcred', 'master.key'), 'utf8').trim(), 'test');
    const secrets = await db.sql('SELECT database, username, password FROM pgcred.secrets');
    const journal = await db.sql('SELECT database, credential, new_password FROM pgcred.rotations');
    const passwords = [
      testServer().password,
      'Wr0ngPassw0rdWr0ngPassw0rd',
      ...secrets.map((s) => key.decrypt(String(s.password), `${s.database}/${s.username}`)),
      ...journal.map((r) => key.decrypt(String(r.new_password), `${r.database}/rotation/${r.credential}`)),
    ];
    expect(passwords.length).toBeGreaterThanOrEqual(7);
    const haystacks: Record<string, string> = {
      output: outputs.join('\n'),
      audit: JSON.stringify(await db.sql('SELECT * FROM pgcred.audit')),
      releases: JSON.stringify(await db.sql('SELECT * FROM pgcred.releases')),
      apps: JSON.stringify(await db.sql('SELECT * FROM pgcred.apps')),
      meta: JSON.stringify(await db.sql('SELECT * FROM pgcred.meta')),
      serverLog: readFileSync(join(testServer().baseDir, 'server.log'), 'utf8'),
    };
    // The log did record this database's statements, so the search below can find something.
    expect(haystacks.serverLog).toContain(`COMMENT ON ROLE "${analyst}"`);
    for (const [where, text] of Object.entries(haystacks)) {
      for (const password of passwords) {
        if (text.includes(password)) throw new Error(`a password appears in ${where}`);
      }
    }
    expect(haystacks.audit).toContain('rotation:start');
  });
});
