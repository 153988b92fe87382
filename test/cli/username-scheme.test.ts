import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { type CliResult, configDir, pgcred, testKey } from '../harness/cli';
import {
  adminUrl,
  createTestDatabase,
  dropLevelRolesOf,
  dropRoles,
  type TestDatabase,
  tryAs,
  uniqueName,
  userUrl,
  withClient,
} from '../harness/pg';

/**
 * The username scheme of a fleet (issue 18): a hundred databases on one cluster
 * cannot each have a role `analyst`, so a database's `usernamePrefix` makes the
 * credential `analyst` log in as `<prefix>analyst`, while everything people read
 * (plans, listings, credentials:url --name, attachments) keeps `analyst`.
 */
describe('username scheme: two databases on one cluster, each with its analyst', () => {
  const suffix = uniqueName('').slice(1);
  const n = (base: string) => `${base}_${suffix}`;
  // The file's database names are unique: level roles are named from them, and roles are cluster-wide.
  const db17 = n('db17');
  const db18 = n('db18');
  const prefix17 = `${db17}_`;
  const prefix18 = `${db18}_`;
  const user17 = `${prefix17}analyst`;
  const user18 = `${prefix18}analyst`;
  let a: TestDatabase;
  let b: TestDatabase;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const run = (...args: string[]): Promise<CliResult> => pgcred(args, { cwd: dir, env });
  const ok = async (...args: string[]): Promise<CliResult> => {
    const result = await run(...args);
    if (result.status !== 0)
      throw new Error(`pgcred ${args.join(' ')} exited ${result.status}:\n${result.stderr}${result.stdout}`);
    return result;
  };
  const urlOf = async (database: string, credential: string): Promise<string> => {
    const result = await ok('credentials:url', database, '--name', credential);
    const line = result.stdout.split('\n').find((l) => l.trim().startsWith('postgres://'));
    if (!line) throw new Error(`no URL in:\n${result.stdout}`);
    return line.trim();
  };
  const roleExists = async (name: string) =>
    (await withClient(a.url, (c) => c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])))
      .rowCount === 1;
  const file = (analyst17: boolean) => `version: 1
databases:
  - name: ${db17}
    url: \${DB17_URL}
    owner: ${n('owner17')}
    usernamePrefix: ${prefix17}
    credentials:
${analyst17 ? '      - { name: analyst, permission: read-only }\n' : ''}      - { name: legacy, permission: read-only }
  - name: ${db18}
    url: \${DB18_URL}
    owner: ${n('owner18')}
    usernamePrefix: ${prefix18}
    credentials:
      - { name: analyst, permission: read-write }
apps:
  - { name: web, envFile: ./run/web.env }
attachments:
  - { database: ${db18}, credential: analyst, app: web }
`;

  beforeAll(async () => {
    a = await createTestDatabase('users17');
    b = await createTestDatabase('users18');
    // A role that already exists under the prefixed name: adopted like any other.
    await withClient(a.url, (c) => c.query(`CREATE ROLE "${prefix17}legacy" LOGIN PASSWORD 'legacy-pw'`));
    dir = configDir(file(true));
    env = { DB17_URL: a.url, DB18_URL: b.url, PGCRED_MASTER_KEY: testKey() };
  });

  afterAll(async () => {
    await a.drop();
    await b.drop();
    for (const name of [db17, db18, n('cluster17'), n('cluster18')]) await dropLevelRolesOf(name);
    await dropRoles(
      [
        user17,
        user18,
        `${prefix18}temp`,
        `${db18}_v2_analyst`,
        `${prefix17}legacy`,
        n('owner17'),
        n('owner18'),
      ].flatMap((r) => [`${r}-rotating`, r]),
    );
  });

  it('plans under credential names and creates the prefixed usernames', async () => {
    const plan = await ok('plan', db17, '--format', 'json');
    const planOf = JSON.parse(plan.stdout).databases[0];
    const subjects = new Set(planOf.changes.map((c: { subject: string }) => c.subject));
    expect(subjects).toContain('analyst');
    expect(subjects).toContain('legacy');
    expect(subjects).not.toContain(user17);
    const adopt = planOf.changes.find((c: { action: string }) => c.action === 'adopt');
    expect(adopt).toMatchObject({ subject: 'legacy' });
    expect(planOf.sql.join('\n')).toContain(`CREATE ROLE "${user17}" WITH LOGIN`);
    expect(plan.stdout).not.toContain('legacy-pw');
    // The remedy names the credential as commands take it.
    expect(planOf.findings.find((f: { kind: string }) => f.kind === 'password-unknown')).toMatchObject({
      subject: 'legacy',
      remedy: expect.stringContaining(`credentials:password ${db17} --name legacy `),
    });

    const text = (await ok('plan', db17)).stdout;
    expect(text).toMatch(/^analyst$/m);
    expect(text).toContain(`(level role pgcred:read-only:${db17}, for analyst, legacy)`);

    await ok('apply', '--yes');
    expect(await roleExists(user17)).toBe(true);
    expect(await roleExists(user18)).toBe(true);
    expect(await roleExists('analyst')).toBe(false);
    expect((await run('drift')).status).toBe(0);
  }, 60_000);

  it('credentials:url --name analyst logs in as the prefixed username, at its own level, on its own database', async () => {
    for (const [database, table] of [
      [db17, 'public.items17'],
      [db18, 'public.items18'],
    ] as const) {
      const owner = new Client({ connectionString: await urlOf(database, 'default') });
      await owner.connect();
      await owner.query(`CREATE TABLE ${table} (id int); INSERT INTO ${table} VALUES (1)`);
      await owner.end();
    }
    const url17 = await urlOf(db17, 'analyst');
    const url18 = await urlOf(db18, 'analyst');
    expect(decodeURIComponent(new URL(url17).username)).toBe(user17);
    expect(decodeURIComponent(new URL(url18).username)).toBe(user18);
    expect(new URL(url17).password).not.toBe(new URL(url18).password);

    expect(await tryAs(url17, 'SELECT count(*)::int AS n FROM public.items17')).toMatchObject({
      ok: true,
      rows: [{ n: 1 }],
    });
    expect(await tryAs(url17, 'INSERT INTO public.items17 VALUES (2)')).toMatchObject({
      ok: false,
      code: '42501',
    });
    expect(await tryAs(url18, 'INSERT INTO public.items18 VALUES (2)')).toMatchObject({ ok: true });
    // Each analyst is its database's own: db17's cannot even connect to db18.
    const across = new URL(url17);
    across.pathname = `/${b.name}`;
    expect(await tryAs(across.toString(), 'SELECT 1')).toMatchObject({ ok: false, code: '42501' });
    // The attachment's config var holds the same login.
    const web = readFileSync(join(dir, 'run', 'web.env'), 'utf8');
    expect(web).toContain(`DATABASE_URL=postgres://${user18}:`);
  });

  it('listings and attachments name the credential, not its username', async () => {
    const listing = (await ok('credentials', db18)).stdout;
    expect(listing).toMatch(/^analyst +active/m);
    expect(listing).toContain('as DATABASE on web app');
    expect(listing).not.toContain(user18);
    const json = JSON.parse((await ok('credentials', db17, '--json')).stdout);
    const entries = Array.isArray(json) ? json : json.credentials;
    expect(entries.find((c: { name: string }) => c.name === 'analyst')).toMatchObject({
      name: 'analyst',
      username: user17,
      state: 'active',
    });
    expect(entries.find((c: { name: string }) => c.name === 'legacy')).toMatchObject({
      username: `${prefix17}legacy`,
    });
    expect((await run('drift')).status).toBe(0);
  });

  it('credentials:create, :permissions, :password and :destroy take the credential name and act on its username', async () => {
    const temp = `${prefix18}temp`;
    await ok('credentials:create', db18, '--name', 'temp', '--permission', 'read-only');
    expect(await roleExists(temp)).toBe(true);
    expect(await roleExists('temp')).toBe(false);
    const url = await urlOf(db18, 'temp');
    expect(decodeURIComponent(new URL(url).username)).toBe(temp);
    expect(await tryAs(url, 'INSERT INTO public.items18 VALUES (3)')).toMatchObject({
      ok: false,
      code: '42501',
    });
    await ok('credentials:permissions', db18, '--name', 'temp', '--level', 'read-write');
    expect(await tryAs(url, 'INSERT INTO public.items18 VALUES (3)')).toMatchObject({ ok: true });
    expect((await ok('credentials', db18)).stdout).toMatch(/^temp +active/m);
    // The adopted role's password, handed over, is checked against the prefixed role.
    const handed = await pgcred(['credentials:password', db17, '--name', 'legacy'], {
      cwd: dir,
      env,
      stdin: 'legacy-pw\n',
    });
    expect(handed.status).toBe(0);
    expect(handed.stdout).toContain(`pgcred now keeps the password of legacy (${prefix17}legacy)`);
    expect(handed.stdout + handed.stderr).not.toContain('legacy-pw');
    expect(await tryAs(await urlOf(db17, 'legacy'), 'SELECT 1')).toMatchObject({ ok: true });
    await ok('credentials:destroy', db18, '--name', 'temp', '--confirm', db18);
    expect(await roleExists(temp)).toBe(false);
    expect(await roleExists(user18)).toBe(true);
    expect((await run('drift')).status).toBe(0);
  }, 60_000);

  it('rotates: the temporary username is <prefix>analyst-rotating meanwhile, gone after, the URL works', async () => {
    // An app holding a connection keeps the rotation at its second step (grace 1 h).
    const held = new Client({ connectionString: await urlOf(db17, 'analyst') });
    held.on('error', () => undefined);
    await held.connect();
    await ok(
      'credentials:rotate',
      db17,
      '--name',
      'analyst',
      '--no-wait',
      '--grace',
      '1h',
      '--confirm',
      db17,
    );
    expect(await roleExists(`${user17}-rotating`)).toBe(true);
    const during = (await ok('credentials', db17)).stdout;
    expect(during).toMatch(/^analyst +rotating/m);
    expect(during).toContain(`${user17}-rotating`);
    const temporary = await urlOf(db17, 'analyst');
    expect(decodeURIComponent(new URL(temporary).username)).toBe(`${user17}-rotating`);
    expect(await tryAs(temporary, 'SELECT count(*) FROM public.items17')).toMatchObject({ ok: true });
    expect((await run('drift')).status).toBe(0);
    await held.end();

    let done = false;
    for (let i = 0; i < 60 && !done; i++) {
      done = (await ok('reconcile')).stderr.includes('is complete');
      if (!done) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(done).toBe(true);
    expect(await roleExists(`${user17}-rotating`)).toBe(false);
    const after = await urlOf(db17, 'analyst');
    expect(decodeURIComponent(new URL(after).username)).toBe(user17);
    expect(await tryAs(after, 'SELECT count(*) FROM public.items17')).toMatchObject({ ok: true });
    expect((await ok('credentials', db17)).stdout).not.toContain('-rotating');
    expect((await run('drift')).status).toBe(0);
    // The audit log names the credential.
    const audit = JSON.parse((await ok('audit', '--database', db17, '--json')).stdout) as {
      action: string;
      subject: string | null;
    }[];
    const rotations = audit.filter((e) => e.action.startsWith('rotat') || e.action === 'credentials:rotate');
    expect(rotations.length).toBeGreaterThan(0);
    for (const entry of rotations) expect(entry.subject).toBe('analyst');
  }, 90_000);

  it('destroy (removed from the file, apply --prune) drops db17 analyst only', async () => {
    writeFileSync(join(dir, 'pgcred.yaml'), file(false));
    const planOf = JSON.parse((await ok('plan', db17, '--prune', '--format', 'json')).stdout).databases[0];
    expect(planOf.changes.find((c: { action: string }) => c.action === 'drop')).toMatchObject({
      subject: 'analyst',
    });
    await ok('apply', '--prune', '--yes');
    expect(await roleExists(user17)).toBe(false);
    expect(await roleExists(user18)).toBe(true);
    expect(await tryAs(await urlOf(db18, 'analyst'), 'SELECT count(*) FROM public.items18')).toMatchObject({
      ok: true,
    });
    expect((await ok('credentials', db17)).stdout).not.toMatch(/^analyst/m);
    expect((await run('drift')).status).toBe(0);
  }, 60_000);

  it('a changed prefix is no rename: the old role keeps its app, and prune refuses to take it', async () => {
    const next = `${db18}_v2_`;
    writeFileSync(
      join(dir, 'pgcred.yaml'),
      file(false).replace(`usernamePrefix: ${prefix18}`, `usernamePrefix: ${next}`),
    );
    await ok('apply', '--yes');
    expect(await roleExists(`${next}analyst`)).toBe(true);
    expect(await roleExists(user18)).toBe(true);
    const web = readFileSync(join(dir, 'run', 'web.env'), 'utf8');
    expect(web).toContain(`DATABASE_URL=postgres://${user18}:`);
    const pruned = await run('apply', '--prune', '--yes');
    expect(pruned.status).toBe(1);
    // The old role is no username of the new scheme: the refusal names it as it is.
    expect(pruned.stderr).toContain(
      `Credential ${user18} must be detached from the app ⬢ web before destroying.`,
    );
    expect(await roleExists(user18)).toBe(true);
    // The old role is listed under its own name; destroying it by that name is refused as well.
    expect((await ok('credentials', db18)).stdout).toMatch(new RegExp(`^${user18} +active`, 'm'));
    const destroy = await run('credentials:destroy', db18, '--name', user18, '--confirm', db18);
    expect(destroy.status).toBe(1);
    expect(destroy.stderr).toContain(
      `Credential ${user18} must be detached from the app ⬢ web before destroying.`,
    );
    expect(await roleExists(user18)).toBe(true);
    const moved = await urlOf(db18, 'analyst');
    expect(decodeURIComponent(new URL(moved).username)).toBe(`${next}analyst`);
    expect(await tryAs(moved, 'SELECT count(*) FROM public.items18')).toMatchObject({ ok: true });
    // Detach and attach again: the app moves to the new username, and prune may take the old role.
    await ok('detach', '--app', 'web', 'DATABASE');
    await ok('attach', db18, '--credential', 'analyst', '--app', 'web');
    const web2 = readFileSync(join(dir, 'run', 'web.env'), 'utf8');
    expect(web2).toContain(`DATABASE_URL=postgres://${next}analyst:`);
    await ok('apply', '--prune', '--yes');
    expect(await roleExists(user18)).toBe(false);
    expect(await roleExists(`${next}analyst`)).toBe(true);
    expect((await run('drift')).status).toBe(0);
  }, 60_000);

  it('a prefix that makes a username longer than 63 bytes: exit 1, one line naming it, nothing changed', async () => {
    const long = 'p'.repeat(54);
    const bad = configDir(`version: 1
databases:
  - name: ${n('long')}
    url: \${DB17_URL}
    usernamePrefix: ${long}
    credentials:
      - { name: analyst, permission: read-only }
`);
    const result = await pgcred(['apply', '--yes'], { cwd: bad, env });
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('databases[0].credentials[0].name');
    expect(lines[0]).toContain('usernamePrefix');
    expect(lines[0]).toContain('is too long: its rotating username');
    expect(lines[0]).toContain('has 70 bytes, PostgreSQL allows 63');
    expect(result.stdout).toBe('');
    expect(await roleExists(`${long}analyst`)).toBe(false);
  });

  it('two databases of one cluster whose schemes give the same username: exit 1, one line naming both', async () => {
    const clash = configDir(`version: 1
databases:
  - { name: ${n('c17')}, url: "\${DB17_URL}", usernamePrefix: ${n('same')}_, credentials: [ { name: analyst } ] }
  - { name: ${n('c18')}, url: "\${DB18_URL}", usernamePrefix: ${n('same')}_, credentials: [ { name: analyst } ] }
`);
    const result = await pgcred(['apply', '--yes'], { cwd: clash, env });
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('databases[1].credentials[0].name');
    expect(lines[0]).toContain(n('c17'));
    expect(lines[0]).toContain(n('c18'));
    expect(lines[0]).toContain(`"${n('same')}_analyst"`);
    expect(await roleExists(`${n('same')}_analyst`)).toBe(false);
  });

  it('without a scheme, the second database of the cluster declaring the same credential is refused, naming the first', async () => {
    const c = await createTestDatabase('users_c');
    const d = await createTestDatabase('users_d');
    try {
      const shared = configDir(`version: 1
databases:
  - { name: ${n('cluster17')}, url: "\${C_URL}", owner: ${n('ownerc')}, credentials: [ { name: ${n('shared')} } ] }
  - { name: ${n('cluster18')}, url: "\${D_URL}", owner: ${n('ownerd')}, credentials: [ { name: ${n('shared')} } ] }
`);
      const result = await pgcred(['apply', '--yes', '--parallel', '1'], {
        cwd: shared,
        env: { C_URL: c.url, D_URL: d.url, PGCRED_MASTER_KEY: testKey() },
      });
      expect(result.status).toBe(1);
      const refused = result.stderr.split('\n').filter((line) => line.startsWith(' ▸    '));
      expect(refused).toHaveLength(1);
      expect(refused[0]).toContain(
        `role ${n('shared')} is already a credential of database "${c.name}" in this cluster`,
      );
    } finally {
      await c.drop();
      await d.drop();
      await dropRoles([n('shared'), n('ownerc'), n('ownerd')]);
    }
  }, 60_000);
  it('a rotation policy comes due for a credential under a scheme, as for any other', async () => {
    const e = await createTestDatabase('users_e');
    const prefix = `${n('dbe')}_`;
    try {
      const policyDir = configDir(`version: 1
databases:
  - name: ${n('dbe')}
    url: \${E_URL}
    owner: ${n('ownere')}
    usernamePrefix: ${prefix}
    credentials:
      - { name: billing, permission: read-write, rotation: { every: 3s, grace: 1s } }
apps:
  - { name: billing-app, envFile: ./run/billing.env }
attachments:
  - { database: ${n('dbe')}, credential: billing, app: billing-app }
`);
      const policyEnv = { E_URL: e.url, PGCRED_MASTER_KEY: testKey() };
      const reconcile = () => pgcred(['reconcile'], { cwd: policyDir, env: policyEnv });
      expect((await pgcred(['apply', '--yes'], { cwd: policyDir, env: policyEnv })).status).toBe(0);
      const envFile = join(policyDir, 'run', 'billing.env');
      const urlIn = () => readFileSync(envFile, 'utf8').trim().split('=').slice(1).join('=');
      const before = urlIn();
      expect(decodeURIComponent(new URL(before).username)).toBe(`${prefix}billing`);
      await new Promise((resolve) => setTimeout(resolve, 3200));
      expect((await reconcile()).stderr).toContain(`${n('dbe')}: billing was due for rotation`);
      for (let i = 0; i < 30 && !(await reconcile()).stderr.includes('is complete'); i++)
        await new Promise((resolve) => setTimeout(resolve, 500));
      const after = urlIn();
      expect(after).not.toBe(before);
      expect(decodeURIComponent(new URL(after).username)).toBe(`${prefix}billing`);
      expect(await tryAs(after, 'SELECT 1')).toMatchObject({ ok: true });
      expect(await tryAs(before, 'SELECT 1')).toMatchObject({ ok: false, code: '28P01' });
    } finally {
      await e.drop();
      await dropLevelRolesOf(n('dbe'));
      await dropRoles([`${prefix}billing-rotating`, `${prefix}billing`, n('ownere')]);
    }
  }, 60_000);
  it('works with an admin that is no superuser (the owner with CREATEROLE), rotation included', async () => {
    const admin = n('cradmin');
    const database = n('crdb');
    const prefix = `${n('dbc')}_`;
    const password = 'Owner0Password0With0Enough0Entropy';
    await withClient(adminUrl(), async (c) => {
      await c.query(`CREATE ROLE "${admin}" LOGIN CREATEROLE PASSWORD '${password}'`);
      await c.query(
        `GRANT pg_monitor, pg_read_all_settings, pg_read_all_stats, pg_signal_backend TO "${admin}"`,
      );
      await c.query(`CREATE DATABASE "${database}" OWNER "${admin}"`);
    });
    // The README's step for PostgreSQL 14 and older, where schema public belongs to the bootstrap superuser.
    await withClient(adminUrl(database), (c) => c.query(`ALTER SCHEMA public OWNER TO "${admin}"`));
    try {
      const url = userUrl(database, admin, password);
      await withClient(url, (c) =>
        c.query('CREATE TABLE public.accounts (id int); INSERT INTO public.accounts VALUES (1)'),
      );
      const crDir = configDir(`version: 1
databases:
  - name: ${n('dbc')}
    url: \${C_URL}
    usernamePrefix: ${prefix}
    credentials:
      - { name: analyst, permission: read-only }
`);
      const crEnv = { C_URL: url, PGCRED_MASTER_KEY: testKey() };
      const cr = async (...args: string[]) => {
        const result = await pgcred(args, { cwd: crDir, env: crEnv });
        if (result.status !== 0)
          throw new Error(`pgcred ${args.join(' ')} exited ${result.status}:\n${result.stderr}`);
        return result;
      };
      await cr('apply', '--yes');
      const urlNow = async () =>
        (await cr('credentials:url', '--name', 'analyst')).stdout
          .split('\n')
          .find((l) => l.trim().startsWith('postgres://'))!
          .trim();
      const before = await urlNow();
      expect(decodeURIComponent(new URL(before).username)).toBe(`${prefix}analyst`);
      expect(await tryAs(before, 'SELECT count(*) FROM public.accounts')).toMatchObject({ ok: true });
      expect((await pgcred(['drift'], { cwd: crDir, env: crEnv })).status).toBe(0);
      await cr('credentials:rotate', '--name', 'analyst', '--confirm', n('dbc'));
      const after = await urlNow();
      expect(after).not.toBe(before);
      expect(decodeURIComponent(new URL(after).username)).toBe(`${prefix}analyst`);
      expect(await tryAs(after, 'SELECT count(*) FROM public.accounts')).toMatchObject({ ok: true });
      expect(await roleExists(`${prefix}analyst-rotating`)).toBe(false);
      expect((await pgcred(['drift'], { cwd: crDir, env: crEnv })).status).toBe(0);
    } finally {
      await withClient(adminUrl(), (c) => c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`));
      await dropLevelRolesOf(n('dbc'));
      await dropRoles([`${prefix}analyst-rotating`, `${prefix}analyst`, admin]);
    }
  }, 60_000);
});
