import { join } from 'node:path';
import { Client } from 'pg';
import { loadConfigFile } from '../../src/config/load';
import { MasterKey } from '../../src/control/crypto';
import { ControlStore } from '../../src/control/store';
import { catalogSql, inspect } from '../../src/reconciler/inspect';
import { applyDatabase } from '../../src/reconciler/reconcile';
import { type CliResult, pgcred } from '../harness/cli';
import { dropRoles, tryAs, uniqueName, withClient } from '../harness/pg';
import { createProject, type Project } from '../harness/project';

/** A real client that runs `between` (on another connection) once, right after the query it names. */
class InterleavingClient extends Client {
  between?: { readonly after: string; readonly run: () => Promise<void> };
  override query(...args: unknown[]): never {
    const result = (super.query as (...a: unknown[]) => Promise<unknown>)(...args);
    const hook = this.between;
    if (!hook || args[0] !== hook.after) return result as never;
    this.between = undefined;
    return result.then(async (value) => {
      await hook.run();
      return value;
    }) as never;
  }
}

/** pgcred's apply lock, as another apply holds it: a session lock on the key reconcile.ts uses. */
const APPLY_LOCK = [0x70676372, 0x61706c79];

/** Holds the apply lock from a connection of its own until release(). */
async function holdApplyLock(url: string): Promise<{ client: Client; release: () => Promise<void> }> {
  const client = new Client({ connectionString: url });
  await client.connect();
  await client.query('SELECT pg_advisory_lock($1, $2)', APPLY_LOCK);
  return {
    client,
    release: async () => {
      await client.query('SELECT pg_advisory_unlock($1, $2)', APPLY_LOCK);
      await client.end();
    },
  };
}

/** Until another session waits for the apply lock: the positive marker that an apply is queued behind it. */
async function untilSomeoneWaits(client: Client): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const { rows } = await client.query(
      `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = $1 AND objid = $2`,
      APPLY_LOCK,
    );
    if (rows.length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('no apply waited for the lock');
}

/** Statements a migration retries: catalog rows another session updated first. */
const RETRIED = /tuple concurrently updated|deadlock detected|could not serialize/;

async function retried(client: Client, sql: string): Promise<number> {
  for (let retries = 0; ; retries++) {
    try {
      await client.query(sql);
      return retries;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (!RETRIED.test((error as Error).message) || retries >= 20) throw error;
    }
  }
}

describe('two applies started together', () => {
  let p: Project;
  let names: string[];

  beforeAll(async () => {
    p = await createProject('race', ({ url, name }) => {
      names = Array.from({ length: 8 }, (_, i) => name(`r${i}`));
      return `version: 1
databases:
  - name: sunny
    url: ${url}
    credentials:
${names.map((n, i) => `      - { name: ${n}, permission: ${i % 2 ? 'read-write' : 'read-only'} }`).join('\n')}
`;
    });
    await p.db.sql('CREATE SCHEMA a; CREATE SCHEMA b; CREATE TABLE a.t (id int); CREATE TABLE b.t (id int)');
  });
  afterAll(() => p.cleanup());

  it('both end correctly: one applies, the other waits and finds nothing to do', async () => {
    const [first, second] = await Promise.all([
      pgcred(['apply', '--yes'], { cwd: p.dir, env: p.env }),
      pgcred(['apply', '--yes'], { cwd: p.dir, env: p.env }),
    ]);
    expect([first.status, second.status]).toEqual([0, 0]);
    const all = first.stderr + second.stderr;
    expect(all).not.toContain('tuple concurrently updated');
    expect(all.match(/Applied \d+ changes to sunny in one transaction\./g)).toHaveLength(1);
    expect(all).toContain('sunny already matches the declaration.');
    const drift = await p.run('drift');
    // The tables belong to the superuser, which pgcred does not manage: a notice, not drift.
    expect(drift.status).toBe(0);
    expect(drift.stdout).toContain('0 changes');
    expect(await tryAs(await p.urlOf(names[0]!), 'SELECT * FROM a.t')).toMatchObject({ ok: true });
  });

  it('a failure halfway rolls everything back and names the change and the reason', async () => {
    // An event trigger makes every GRANT fail, after the plan has already created roles.
    await p.db.sql(`CREATE FUNCTION public.no_grants() RETURNS event_trigger LANGUAGE plpgsql AS $$
                    BEGIN RAISE EXCEPTION 'grants are frozen for maintenance'; END $$`);
    await p.db.sql(
      "CREATE EVENT TRIGGER freeze_grants ON ddl_command_start WHEN TAG IN ('GRANT') EXECUTE FUNCTION public.no_grants()",
    );
    const newcomer = p.name('newcomer');
    p.writeConfig(`version: 1
databases:
  - name: sunny
    url: \${DATABASE_ADMIN_URL}
    credentials:
${names.map((n) => `      - { name: ${n}, permission: read-only }`).join('\n')}
      - { name: ${newcomer}, grants: [ { privileges: [USAGE], on: schema, objects: [a] } ] }
`);
    const before = await p.db.sql('SELECT rolname FROM pg_roles ORDER BY 1');
    const result = await p.run('apply', '--yes');
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /apply of sunny failed at "newcomer_\w+: gains USAGE on schema a" \(GRANT USAGE ON SCHEMA .*\): grants are frozen for maintenance\. Nothing was changed\./,
    );
    // CREATE ROLE ran before the failing GRANT; the rollback took it back.
    expect(await p.db.sql('SELECT rolname FROM pg_roles ORDER BY 1')).toEqual(before);
    await p.db.sql('DROP EVENT TRIGGER freeze_grants; DROP FUNCTION public.no_grants()');
    await p.ok('apply', '--yes');
    expect(await p.db.sql('SELECT 1 AS found FROM pg_roles WHERE rolname = $1', [newcomer])).toEqual([
      { found: 1 },
    ]);
  });
});

describe('inspection reads one snapshot', () => {
  let p: Project;
  let names: string[];

  beforeAll(async () => {
    p = await createProject('snap', ({ url, name }) => {
      names = [name('reader'), name('writer')];
      return `version: 1
databases:
  - name: sunny
    url: ${url}
    credentials:
      - { name: ${names[0]}, permission: read-only }
      - { name: ${names[1]}, permission: read-write }
`;
    });
    await p.db.sql('CREATE SCHEMA base; CREATE TABLE base.t (id int)');
    await p.ok('apply', '--yes');
  });
  afterAll(() => p.cleanup());

  it('sees a schema, a table and a role renamed during inspection as they were when it began', async () => {
    const [before, after] = [uniqueName('before'), uniqueName('after')];
    await p.db.sql(
      `CREATE ROLE "${before}"; CREATE SCHEMA owned AUTHORIZATION "${before}";
       CREATE TABLE owned.t (id int); GRANT SELECT ON owned.t TO "${before}"`,
    );
    const client = new InterleavingClient({ connectionString: p.db.url });
    await client.connect();
    try {
      // After the first catalog query: a later query that read the latest catalog would see these.
      client.between = {
        after: catalogSql('server'),
        run: () =>
          p.db
            .sql(
              `CREATE SCHEMA midway; CREATE TABLE midway.t (id int); ALTER ROLE "${before}" RENAME TO "${after}"`,
            )
            .then(() => undefined),
      };
      const live = await inspect(client);
      expect(client.between).toBeUndefined(); // the interleaving ran
      expect(live.schemas.map((s) => s.name)).not.toContain('midway');
      expect(live.relationTotals.map((t) => t.schema)).not.toContain('midway');
      expect(live.roles.has(before)).toBe(true);
      expect(live.roles.has(after)).toBe(false);
      expect(live.schemas.find((s) => s.name === 'owned')?.owner).toBe(before);
      expect(live.foreignOwnership.filter((o) => o.schema === 'owned').map((o) => o.owner)).toEqual(
        expect.arrayContaining([before]),
      );
      expect(
        live.relationPrivileges
          .filter((g) => g.schema === 'owned' && g.privilege === 'SELECT')
          .map((g) => g.grantee),
      ).toEqual(expect.arrayContaining([before]));
      expect(JSON.stringify(live)).not.toContain(after);
      // Control: read again, inspection sees the new names.
      const now = await inspect(client);
      expect(now.roles.has(after)).toBe(true);
      expect(now.schemas.map((s) => s.name)).toContain('midway');
      expect(client.getTransactionStatus()).toBe('I');
    } finally {
      await client.end();
      await p.db.sql(`DROP SCHEMA owned CASCADE; DROP SCHEMA midway CASCADE`);
      await dropRoles([before, after]);
    }
  });

  it('an apply that waited for the lock says so, and plans from what was committed while it waited', async () => {
    const holder = await holdApplyLock(p.db.url);
    let applying: Promise<CliResult> | undefined;
    try {
      applying = p.run('apply', '--yes');
      await untilSomeoneWaits(holder.client);
      // Committed after the apply began waiting: only a snapshot taken after the lock sees it.
      await holder.client.query(`ALTER ROLE "${names[0]}" CREATEDB`);
    } finally {
      await holder.release();
    }
    const applied = await applying!;
    expect(applied.status).toBe(0);
    expect(applied.stderr).toContain('Waiting for another pgcred apply on sunny to finish...');
    expect(applied.stderr).toMatch(/Applied \d+ changes? to sunny in one transaction\./);
    expect(await p.db.sql('SELECT rolcreatedb FROM pg_roles WHERE rolname = $1', [names[0]])).toEqual([
      { rolcreatedb: false },
    ]);
  });

  it('an apply that waits longer than its lock timeout gives up and changes nothing', async () => {
    const config = loadConfigFile(join(p.dir, 'pgcred.yaml'), { env: p.env });
    const control = await ControlStore.open(
      p.db.url,
      MasterKey.parse(p.env.PGCRED_MASTER_KEY!, 'the test key'),
    );
    const holder = await holdApplyLock(p.db.url);
    const progress: string[] = [];
    try {
      await p.db.sql(`ALTER ROLE "${names[1]}" CREATEDB`);
      await expect(
        applyDatabase({ config, control, progress: (line) => progress.push(line) }, config.databases[0]!, {
          lockTimeoutMs: 1_000,
        }),
      ).rejects.toThrow('another pgcred apply on sunny held its lock for more than 1 s; nothing was changed');
      expect(progress).toEqual(['Waiting for another pgcred apply on sunny to finish...']);
      expect(await p.db.sql('SELECT rolcreatedb FROM pg_roles WHERE rolname = $1', [names[1]])).toEqual([
        { rolcreatedb: true },
      ]);
    } finally {
      await holder.release();
      await control.close();
    }
    await p.ok('apply', '--yes');
  });

  it('plan, drift and apply run beside a migration creating schemas and tables; then apply, and drift exits 0', async () => {
    let stop = false;
    let created = 0;
    let retries = 0;
    const migration = withClient(p.db.url, async (client) => {
      for (let i = 0; !stop && i < 400; i++) {
        retries += await retried(
          client,
          `BEGIN; CREATE SCHEMA m${i}; CREATE TABLE m${i}.t (id int); CREATE TABLE base.t${i} (id int);
           CREATE SEQUENCE m${i}.s; COMMIT`,
        );
        created++;
      }
    });
    const runs: { args: string[]; result: CliResult }[] = [];
    const run = async (...args: string[]) => {
      runs.push({ args, result: await pgcred(args, { cwd: p.dir, env: p.env }) });
    };
    try {
      for (let round = 0; round < 3; round++) {
        await Promise.all([
          run('plan'),
          run('drift'),
          run('apply', '--yes'),
          run('plan', '--format', 'json'),
        ]);
      }
    } finally {
      stop = true;
      await migration;
    }
    expect(created).toBeGreaterThan(0);
    for (const { args, result } of runs) {
      const allowed = args[0] === 'drift' ? [0, 2] : [0];
      if (!allowed.includes(result.status))
        throw new Error(
          `pgcred ${args.join(' ')} exited ${result.status}:\n${result.stderr}${result.stdout}`,
        );
      // A name read from the latest catalog instead of the snapshot shows as pg_get_userbyid's placeholder.
      expect(result.stdout + result.stderr).not.toMatch(/unknown \(OID=|tuple concurrently updated/);
    }
    const last = await p.ok('apply', '--yes');
    expect(last.stderr).toMatch(/Applied \d+ changes? to sunny in one transaction\./);
    const drift = await p.run('drift');
    expect(drift.stdout).toContain('0 changes');
    expect(drift.status).toBe(0);
    expect(await tryAs(await p.urlOf(names[0]!), `SELECT * FROM m${created - 1}.t, base.t0`)).toMatchObject({
      ok: true,
    });
    if (retries > 0) process.stderr.write(`the migration retried ${retries} statements\n`);
  }, 60_000);
});
