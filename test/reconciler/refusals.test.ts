import { type CliResult, pgcred } from '../harness/cli';
import { createProject, type Project } from '../harness/project';

/** The limits, names, Essential tier and follower rule: refused with the exact message, nothing changed. */
describe('refusals', () => {
  let p: Project;
  let names: string[];

  const roles = async () => (await p.db.sql('SELECT rolname FROM pg_roles ORDER BY 1')).map((r) => r.rolname);

  beforeAll(async () => {
    p = await createProject('refuse', ({ url, name }) => {
      names = Array.from({ length: 60 }, (_, i) => name(`c${i}`));
      return `version: 1
databases:
  - name: sunny
    url: ${url}
    credentials:
${names.map((n) => `      - { name: ${n}, permission: read-only }`).join('\n')}
  - name: tiny
    url: ${url}
    plan: essential-0
  - name: moonlight
    url: ${url}
    role: follower
    source: sunny
`;
    });
    await p.ok('apply', 'sunny', '--yes');
  });
  afterAll(() => p.cleanup());

  it('refuses the 61st credential of a database', async () => {
    const before = await roles();
    const extra = p.name('c60');
    const result = await p.run('credentials:create', 'sunny', '--name', extra);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      '▸    database sunny allows at most 60 credentials besides default (plan standard-0); it has 60 and this command would make it 61',
    );
    expect(await roles()).toEqual(before);
  });

  it('refuses a bad name', async () => {
    const result = await p.run('credentials:create', 'sunny', '--name', "x'; DROP ROLE postgres; --");
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      `▸    --name: "x'; DROP ROLE postgres; --" may contain only letters, digits, '-' and '_' (at most 50)`,
    );
  });

  it('refuses named credentials on an Essential-tier database', async () => {
    const result = await p.run('credentials:create', 'tiny', '--name', p.name('x'));
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      "▸    You can't create a custom credential on Essential-tier databases.",
    );
  });

  it('refuses every credential-changing command against a follower', async () => {
    const before = await roles();
    for (const args of [
      ['credentials:create', 'moonlight', '--name', p.name('y')],
      ['credentials:permissions', 'moonlight', '--name', names[0]!, '--level', 'none'],
      ['credentials:destroy', 'moonlight', '--name', names[0]!, '--confirm', 'moonlight'],
      ['credentials:repair-default', 'moonlight', '--confirm', 'moonlight'],
      ['credentials:rotate', 'moonlight', '--name', names[0]!, '--confirm', 'moonlight'],
      ['apply', 'moonlight', '--yes'],
    ]) {
      const result = await p.run(...args);
      expect(result.status).toBe(1);
      expect(result.stderr.trim()).toBe('▸    This operation is not supported for follower databases.');
    }
    expect(await roles()).toEqual(before);
  });

  it('a credential that exists cannot be created twice', async () => {
    const result = await p.run('credentials:create', 'sunny', '--name', names[1]!);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`credential ${names[1]} already exists on sunny`);
  });
});

/**
 * What a user meets on a database pgcred did not build: commands refuse a role pgcred
 * does not manage, or one that is not there, before they ask anything; every failure
 * exits 1; repair-default shows what it takes from whom before it asks; credentials:url
 * says when pgcred does not know a password. The roles made here cannot log in: a login
 * role pgcred does not manage would reach every database of the shared test server and
 * change what other suites plan for PUBLIC.
 */
describe('refusals before any prompt', () => {
  let p: Project;
  let analyst: string;
  let owner: string;
  let etl: string;
  let nobody: string;

  /** Runs pgcred as a person at a terminal, answering `answers` to its prompts. */
  const atTerminal = (args: string[], answers: string[] = []) =>
    pgcred(args, { cwd: p.dir, env: p.env, interactive: true, answers });
  /** The refusal: permissions says `Setting … !` first, as the Heroku CLI reports an action that failed. */
  const lastLine = (r: CliResult) => r.stderr.trim().split('\n').at(-1)!.trim();
  const prompted = (r: CliResult) => r.stderr.includes('To proceed, type') || r.stderr.includes('\n> ');
  const verifier = async (role: string) =>
    (await p.db.sql('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [role]))[0]?.rolpassword;
  /** What a refused command must leave as it was: etl, what it owns and holds, and analyst. */
  const state = async () => ({
    roles: await p.db.sql(
      `SELECT rolname, rolcanlogin, rolpassword, shobj_description(oid, 'pg_authid') AS comment,
              ARRAY(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                     WHERE m.member = a.oid ORDER BY 1) AS member_of
         FROM pg_authid a WHERE rolname = ANY($1) ORDER BY 1`,
      [[etl, analyst, owner]],
    ),
    owners: await p.db.sql(
      `SELECT c.relname, r.rolname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
        WHERE c.relnamespace = 'public'::regnamespace ORDER BY 1`,
    ),
    acl: await p.db.sql(`SELECT relname, relacl::text FROM pg_class WHERE relname = 'legacy'`),
  });

  beforeAll(async () => {
    p = await createProject('refuse-bf', ({ url, name }) => {
      analyst = name('analyst');
      owner = name('owner');
      etl = name('etl');
      nobody = name('nobody');
      return `version: 1
databases:
  - name: sunny
    url: ${url}
    owner: ${owner}
    credentials:
      - { name: ${analyst}, permission: read-only }
`;
    });
    await p.db.sql(
      `CREATE ROLE "${owner}" NOLOGIN PASSWORD 'owner-secret';
       ALTER DATABASE "${p.db.name}" OWNER TO "${owner}";
       CREATE ROLE "${etl}" NOLOGIN PASSWORD 'etl-secret';
       CREATE TABLE public.legacy (id int); ALTER TABLE public.legacy OWNER TO "${etl}";
       CREATE TABLE public.orders (id int); ALTER TABLE public.orders OWNER TO "${owner}";
       GRANT SELECT ON public.orders TO "${etl}"`,
    );
    await p.ok('apply', '--yes');
  });
  afterAll(() => p.cleanup());

  it.each([
    ['destroy', (name: string) => ['credentials:destroy', 'sunny', '--name', name]],
    ['rotate', (name: string) => ['credentials:rotate', 'sunny', '--name', name]],
    ['rotate --force', (name: string) => ['credentials:rotate', 'sunny', '--name', name, '--force']],
    [
      'permissions',
      (name: string) => ['credentials:permissions', 'sunny', '--name', name, '--level', 'none'],
    ],
  ])(
    '%s: a role pgcred does not manage, and one that does not exist, are refused without a prompt',
    async (_, args) => {
      const before = await state();
      const unmanaged = await atTerminal(args(etl), ['sunny']);
      expect({ status: unmanaged.status, prompted: prompted(unmanaged) }).toEqual({
        status: 1,
        prompted: false,
      });
      expect(lastLine(unmanaged)).toBe(
        `▸    Credential ${etl} is not managed by pgcred on sunny, and pgcred never changes a role it does not manage: declare it in the file and apply to adopt it first`,
      );
      expect(unmanaged.stdout).toBe('');
      const missing = await atTerminal(args(nobody), ['sunny']);
      expect({ status: missing.status, prompted: prompted(missing) }).toEqual({ status: 1, prompted: false });
      expect(lastLine(missing)).toBe(`▸    Could not find credential ${nobody} on sunny`);
      expect(await state()).toEqual(before);
    },
  );

  it('destroy: the default credential, by name or by its username, is refused without a prompt', async () => {
    const before = await state();
    for (const name of ['default', owner]) {
      const result = await atTerminal(['credentials:destroy', 'sunny', '--name', name], ['sunny']);
      expect({ status: result.status, prompted: prompted(result) }).toEqual({ status: 1, prompted: false });
      expect(result.stderr.trim()).toBe('▸    Default credential cannot be destroyed.');
    }
    expect(await state()).toEqual(before);
  });

  it('destroy of a managed credential does ask (the control), and a wrong answer changes nothing', async () => {
    const before = await state();
    const result = await atTerminal(['credentials:destroy', 'sunny', '--name', analyst], ['moonlight']);
    expect(prompted(result)).toBe(true);
    expect(result.stderr).toContain(`▸    The credential ${analyst} will be destroyed within sunny.`);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('▸    Confirmation moonlight did not match sunny. Aborted.');
    expect(result.stderr).not.toContain(`Destroying credential ${analyst}...`);
    expect(await state()).toEqual(before);
  });

  it('repair-default lists the objects it hands over and the roles that lose access, then asks', async () => {
    const before = await state();
    // From 15 on, schema public belongs to pg_database_owner: the owner's already, yet named.
    const [{ owner: publicOwner }] = (await p.db.sql(
      "SELECT nspowner::regrole::text AS owner FROM pg_namespace WHERE nspname = 'public'",
    )) as [{ owner: string }];
    const asked = await atTerminal(['credentials:repair-default', 'sunny'], ['no']);
    expect(asked.status).toBe(1);
    const listing = [
      `▸    Objects given to the default credential (${owner}): ${publicOwner === owner ? 1 : 2}`,
      `▸      table public.legacy (from ${etl})`,
      ...(publicOwner === owner ? [] : [`▸      schema public (from ${publicOwner})`]),
      '▸    Roles that lose access through it:',
      `▸      ${etl}: the ownership of 1 object, and every privilege it held as their owner`,
    ];
    const said = (r: CliResult) =>
      r.stderr
        .split('\n')
        .filter(
          (l) =>
            l.startsWith(' ▸    ') &&
            !/WARNING|Ownership of all|admin option|To proceed|Confirmation/.test(l),
        );
    expect(said(asked).map((l) => l.trim())).toEqual(listing);
    expect(asked.stderr.indexOf('\n> ')).toBeGreaterThan(asked.stderr.indexOf(listing.at(-1)!));
    expect(asked.stderr).toContain('▸    Confirmation no did not match sunny. Aborted.');

    // Without a terminal: the same list, then the refusal that says how to proceed.
    const refused = await p.run('credentials:repair-default', 'sunny');
    expect(refused.status).toBe(1);
    expect(said(refused).map((l) => l.trim())).toEqual(listing);
    expect(lastLine(refused)).toMatch(
      /^▸ {4}Ownership of all database objects in sunny .* To proceed, re-run this command with --confirm sunny$/,
    );
    expect(await state()).toEqual(before);
  });

  it('credentials:url and the listing say when pgcred does not know the password, until it is handed over', async () => {
    const url = await p.run('credentials:url', 'sunny');
    expect(url.status).toBe(1);
    expect(url.stdout).toBe('');
    expect(url.stderr.trim()).toBe(
      `▸    pgcred does not know the password of the default credential (${owner}), so it has no URL to print: ` +
        'hand it over with pgcred credentials:password sunny --name default (on standard input or in PGCRED_PASSWORD), ' +
        'or give it a new one with pgcred credentials:rotate sunny (resets its connections)',
    );

    const listing = await p.ok('credentials', 'sunny');
    expect(listing.stdout.split('\n').find((l) => l.startsWith('default '))).toMatch(
      /^default +active, password unknown to pgcred$/,
    );
    expect(listing.stdout.split('\n').find((l) => l.startsWith(`${analyst} `))).toMatch(/ active$/);
    expect(listing.stderr).toContain(
      `▸    pgcred does not know the password of the default credential (${owner}) (credentials:url and attach need it): hand it over with`,
    );
    const json = JSON.parse((await p.ok('credentials', 'sunny', '--json')).stdout) as {
      name: string;
      state: string;
      passwordKnown?: boolean;
    }[];
    expect(json.map((c) => [c.name, c.state, c.passwordKnown])).toEqual([
      ['default', 'active', false],
      [analyst, 'active', true],
    ]);

    // The remedy the message names works, and changes nothing on the role.
    const kept = await verifier(owner);
    const handed = await pgcred(['credentials:password', 'sunny', '--name', 'default'], {
      cwd: p.dir,
      env: p.env,
      stdin: 'owner-secret',
    });
    expect({ status: handed.status, stderr: handed.stderr }).toMatchObject({ status: 0 });
    expect(await verifier(owner)).toBe(kept);
    const known = await p.ok('credentials:url', 'sunny');
    expect(known.stdout).toContain(`postgres://${owner}:owner-secret@`);
    expect((await p.ok('credentials', 'sunny')).stdout).not.toContain('password unknown');
  });
});
