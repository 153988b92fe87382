import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { APPLY_FAULT_POINTS, ROTATION_FAULT_POINTS } from '../../src/faults';
import { type CliResult, pgcred } from '../harness/cli';
import { testServer, tryAs, withClient } from '../harness/pg';
import { createProject, type Project } from '../harness/project';
import { CuttingProxy } from '../harness/proxy';
import { prng } from './corpus';
import { LONG, scale } from './scale';

const REPO = join(__dirname, '..', '..');
const LEVELS = ['none', 'read-only', 'read-write'] as const;

/**
 * Faults: apply and rotation killed with SIGKILL at named points and after random
 * delays, the database connection cut at a random byte, the control store down or
 * cut. After each, the database holds what it held before or what the plan makes,
 * never a half; the same command run again converges, and no credential,
 * attachment or config var is lost or left half-done.
 */
describe('faults', () => {
  let p: Project;
  let pool: string[];
  // CI replays one seed; the long run draws a new one each time (PGCRED_FAULT_SEED replays it).
  const seed = Number(process.env.PGCRED_FAULT_SEED) || (LONG ? Date.now() % 1_000_000 : 1234);
  const random = prng(seed);
  const tally = new Map<string, number>();
  const count = (family: string) => tally.set(family, (tally.get(family) ?? 0) + 1);
  let trial = 0;
  /** What the current file declares: credential -> level, and attachments. */
  let declared: { credentials: Map<string, string>; attachments: { credential: string; app: string }[] };

  /** A new random declaration: the pool at random levels, one throwaway credential, random attachments (the throwaway's too). */
  function nextDeclaration(): string {
    trial++;
    const credentials = new Map(pool.map((name) => [name, LEVELS[Math.floor(random() * 3)]!]));
    const throwaway = p.name(`t${trial}`);
    credentials.set(throwaway, LEVELS[Math.floor(random() * 3)]!);
    const attachments: { credential: string; app: string }[] = [];
    for (const app of ['web', 'worker']) {
      // The throwaway credential too: the next trial detaches and prunes it in one apply.
      for (const credential of [...pool, throwaway])
        if (random() < 0.3) attachments.push({ credential, app });
    }
    // At least one attachment is new in every declaration, so every apply attaches, writes env files and restarts.
    const previous = new Set((declared?.attachments ?? []).map((a) => `${a.credential} ${a.app}`));
    const fresh = pool
      .flatMap((credential) => ['web', 'worker'].map((app) => ({ credential, app })))
      .filter(
        (a) =>
          !previous.has(`${a.credential} ${a.app}`) &&
          !attachments.some((b) => b.credential === a.credential && b.app === a.app),
      );
    if (fresh.length > 0 && !attachments.some((a) => !previous.has(`${a.credential} ${a.app}`)))
      attachments.push(fresh[Math.floor(random() * fresh.length)]!);
    declared = { credentials, attachments };
    return `version: 1
databases:
  - name: sunny
    url: \${DATABASE_ADMIN_URL}
    credentials:
${[...credentials].map(([name, level]) => `      - { name: ${name}, permission: ${level}, rotation: { grace: 1s } }`).join('\n')}
apps:
  - { name: web, envFile: ./run/web.env, restart: "echo restarted >> restarts.log" }
  - { name: worker, envFile: ./run/worker.env }
attachments:
${declared.attachments.map((a) => `  - { database: sunny, credential: ${a.credential}, app: ${a.app} }`).join('\n') || '  []'}
`.replace('attachments:\n  []', 'attachments: []');
  }

  function pgcredProcess(args: string[], env: NodeJS.ProcessEnv, killAfterMs?: number) {
    return new Promise<{ status: number | null; signal: string | null; stderr: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        ['-r', require.resolve('tsx/cjs'), join(REPO, 'src', 'cli', 'main.ts'), ...args],
        {
          cwd: p.dir,
          env: { PATH: process.env.PATH, ...p.env, ...env },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (c) => (stderr += c));
      const timer =
        killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      child.on('exit', (status, signal) => {
        clearTimeout(timer);
        resolve({ status, signal, stderr });
      });
    });
  }

  /** Roles, memberships and every privilege that apply manages: the database's committed state. */
  const dbState = () =>
    p.db.sql(`SELECT
      (SELECT json_agg(json_build_object('r', rolname, 'p', rolpassword, 'l', rolcanlogin, 'c', shobj_description(oid, 'pg_authid')) ORDER BY rolname)
         FROM pg_authid WHERE rolname !~ '^pg_') AS roles,
      (SELECT json_agg(json_build_object('r', roleid::regrole::text, 'm', member::regrole::text) ORDER BY 1) FROM pg_auth_members) AS members,
      (SELECT datacl::text FROM pg_database WHERE datname = current_database()) AS db,
      (SELECT json_agg(nspacl::text ORDER BY nspname) FROM pg_namespace WHERE nspname <> 'pgcred') AS schemas,
      (SELECT json_agg(c.relacl::text ORDER BY c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('public', 'billing')) AS relations,
      (SELECT json_agg(defaclacl::text ORDER BY oid) FROM pg_default_acl) AS defaults`);

  const ok = async (...args: string[]): Promise<CliResult> => {
    const result = await p.run(...args);
    if (result.status !== 0)
      throw new Error(`pgcred ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
    return result;
  };

  function envFile(app: string): Map<string, string> {
    let text = '';
    try {
      text = readFileSync(join(p.dir, 'run', `${app}.env`), 'utf8');
    } catch {
      // no attachments yet: no file
    }
    return new Map(
      text
        .split('\n')
        .filter(Boolean)
        .map(
          (line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as [string, string],
        ),
    );
  }

  /** Everything the file declares is there, whole, and works; nothing else is left over. */
  async function checkConverged(label: string): Promise<void> {
    const problems: string[] = [];
    const drift = await p.run('drift');
    if (drift.status !== 0) problems.push(`drift exits ${drift.status}: ${drift.stdout.slice(0, 800)}`);
    const listing = JSON.parse((await ok('credentials', '--json')).stdout) as {
      name: string;
      state: string;
    }[];
    for (const [name] of declared.credentials) {
      const entry = listing.find((c) => c.name === name);
      if (entry?.state !== 'active') problems.push(`${name} is ${entry?.state ?? 'missing'}`);
      const login = await tryAs(await p.urlOf(name), 'SELECT 1');
      if (!login.ok) problems.push(`${name} cannot log in with its stored password: ${login.message}`);
    }
    const rotating = await p.db.sql("SELECT rolname FROM pg_roles WHERE rolname LIKE '%-rotating'");
    if (rotating.length > 0) problems.push(`left over: ${rotating.map((r) => r.rolname).join(', ')}`);
    const open = await p.db.sql('SELECT credential, step FROM pgcred.rotations WHERE finished_at IS NULL');
    if (open.length > 0) problems.push(`open rotations: ${JSON.stringify(open)}`);
    const attachments = await p.db.sql(
      'SELECT app, credential, username FROM pgcred.attachments ORDER BY app, credential',
    );
    const want = [...declared.attachments].sort(
      (a, b) => a.app.localeCompare(b.app) || a.credential.localeCompare(b.credential),
    );
    const have = attachments.map((a) => ({ credential: a.credential as string, app: a.app as string }));
    if (JSON.stringify(have) !== JSON.stringify(want.map((a) => ({ credential: a.credential, app: a.app }))))
      problems.push(`attachments ${JSON.stringify(have)} instead of ${JSON.stringify(want)}`);
    for (const a of attachments)
      if (a.username !== a.credential) problems.push(`${a.app} uses ${a.username}`);
    for (const app of ['web', 'worker']) {
      const config = JSON.parse((await ok('config', '--app', app, '--reveal', '--json')).stdout) as {
        restartPending: boolean;
        vars: { name: string; value: string }[];
      };
      const expected = declared.attachments.filter((a) => a.app === app).length;
      if (config.vars.length !== expected)
        problems.push(`${app} has ${config.vars.length} config vars, not ${expected}`);
      if (config.restartPending) problems.push(`${app} still waits for a restart`);
      const file = envFile(app);
      const vars = new Map(config.vars.map((v) => [v.name, v.value]));
      if (JSON.stringify([...file].sort()) !== JSON.stringify([...vars].sort()))
        problems.push(`${app}'s env file differs from its config vars`);
      for (const [name, url] of file) {
        const login = await tryAs(url, 'SELECT 1');
        if (!login.ok) problems.push(`${app}'s ${name} does not log in: ${login.message}`);
      }
    }
    const temps = readdirSync(join(p.dir, 'run')).filter((f) => f.endsWith('.tmp'));
    if (temps.length > 0) problems.push(`half-written files: ${temps.join(', ')}`);
    if (problems.length > 0)
      throw new Error(`${label} (PGCRED_FAULT_SEED=${seed}):\n  ${problems.join('\n  ')}`);
  }

  beforeAll(async () => {
    p = await createProject('faults', ({ name }) => {
      pool = ['a', 'b', 'c', 'd'].map((n) => name(n));
      return 'version: 1\ndatabases: [ { name: sunny, url: "${DATABASE_ADMIN_URL}" } ]\n';
    });
    p.writeConfig(nextDeclaration());
    await ok('apply', '--prune', '--yes');
    await withClient(await p.urlOf('default'), (c) =>
      c.query(`CREATE TABLE public.orders (id serial PRIMARY KEY, cents int);
               CREATE SCHEMA billing; CREATE TABLE billing.invoices (id int); CREATE VIEW billing.v AS SELECT 1 AS one`),
    );
    await ok('apply', '--prune', '--yes');
    await checkConverged('setup');
  });
  afterAll(async () => {
    process.stderr.write(
      `fault trials (seed ${seed}): ${[...tally].map(([f, n]) => `${f}: ${n}`).join(', ')}\n`,
    );
    await p.cleanup();
  });

  /** One trial: a new declaration, a faulty run, then the database is whole and a rerun converges. */
  async function trialOf(
    label: string,
    faulty: () => Promise<unknown>,
    rerun: () => Promise<unknown>,
    atomic = true,
  ) {
    p.writeConfig(nextDeclaration());
    const before = await dbState();
    await faulty();
    const afterFault = await dbState();
    await rerun();
    const converged = await dbState();
    // One transaction per database: what the fault left is the old state or the new one, never a mix.
    if (
      atomic &&
      JSON.stringify(afterFault) !== JSON.stringify(before) &&
      JSON.stringify(afterFault) !== JSON.stringify(converged)
    )
      throw new Error(`${label}: the fault left a database state that is neither before nor after`);
    await checkConverged(label);
  }

  const applyRerun = () => ok('apply', '--prune', '--yes');

  const named = LONG
    ? [...APPLY_FAULT_POINTS, ...APPLY_FAULT_POINTS]
    : ['apply:statement#2', 'attach:recorded', 'env-file:written'];
  it.each(named.map((point, i) => [point, i]))(
    'apply killed with SIGKILL at %s, then apply again',
    async (point) => {
      await trialOf(
        `SIGKILL at ${point}`,
        async () => {
          const killed = await pgcredProcess(['apply', '--prune', '--yes'], {
            PGCRED_FAULT: point as string,
          });
          // apply:statement#5 needs five statements; every other point is passed by every trial.
          if (killed.signal !== 'SIGKILL')
            expect({ point, status: killed.status }).toEqual({ point: 'apply:statement#5', status: 0 });
          else count('apply SIGKILL at a named point');
        },
        applyRerun,
      );
    },
    120_000,
  );

  it(`apply killed with SIGKILL after random delays (${scale({ ci: 2, long: 40 })} trials)`, async () => {
    for (let i = 0; i < scale({ ci: 2, long: 40 }); i++) {
      const delay = 300 + Math.floor(random() * 3500);
      await trialOf(
        `SIGKILL after ${delay} ms`,
        () => pgcredProcess(['apply', '--prune', '--yes'], {}, delay),
        applyRerun,
      );
      count('apply SIGKILL after a random delay');
    }
  }, 900_000);

  it(`rotation killed with SIGKILL at named points and random delays, then reconcile (${scale({ ci: 2, long: 24 })} trials)`, async () => {
    for (let i = 0; i < scale({ ci: 2, long: 24 }); i++) {
      const credential = pool[Math.floor(random() * pool.length)]!;
      const point =
        i % 2 === 0 ? ROTATION_FAULT_POINTS[Math.floor(random() * ROTATION_FAULT_POINTS.length)] : undefined;
      const delay = point ? undefined : 300 + Math.floor(random() * 4000);
      const args = ['credentials:rotate', '--name', credential, '--grace', '1s', '--confirm', 'sunny'];
      if (random() < 0.3) args.push('--force');
      await trialOf(
        `rotation of ${credential} killed ${point ? `at ${point}` : `after ${delay} ms`}`,
        async () => {
          await applyRerun();
          await pgcredProcess(args, point ? { PGCRED_FAULT: point } : {}, delay);
        },
        async () => {
          for (let attempt = 0; attempt < 60; attempt++) {
            await ok('reconcile');
            if ((await p.db.sql('SELECT 1 FROM pgcred.rotations WHERE finished_at IS NULL')).length === 0)
              break;
            await new Promise((resolve) => setTimeout(resolve, 300));
          }
        },
        false, // a rotation is several steps, each committed: the journal, not one transaction, makes it whole
      );
      count('rotation SIGKILL');
    }
  }, 900_000);

  it('the server ends the apply session between two statements: a clear error, nothing half-done, a rerun converges', async () => {
    // Something for apply to grant back: a level role's privilege revoked by hand.
    await p.db.sql('REVOKE USAGE ON SCHEMA public FROM "pgcred:read-only:sunny"');
    // An event trigger that terminates its own backend at the first GRANT: after the CREATE ROLEs, before the end.
    await p.db.sql(`CREATE FUNCTION public.cut_me() RETURNS event_trigger LANGUAGE plpgsql AS $$
                    BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); END $$;
                    CREATE EVENT TRIGGER cut_apply ON ddl_command_start WHEN TAG IN ('GRANT') EXECUTE FUNCTION public.cut_me()`);
    let result: CliResult | undefined;
    try {
      await trialOf(
        'session terminated mid-apply',
        async () => {
          result = await p.run('apply', '--prune', '--yes');
        },
        async () => {
          await p.db.sql('DROP EVENT TRIGGER cut_apply; DROP FUNCTION public.cut_me()');
          await applyRerun();
        },
      );
    } finally {
      await p.db.sql('DROP EVENT TRIGGER IF EXISTS cut_apply; DROP FUNCTION IF EXISTS public.cut_me()');
    }
    expect(result!.status).toBe(1);
    // The last line: detaching what the file dropped comes first, before the database.
    expect(result!.stderr.trim().split('\n').pop()).toMatch(
      /^\s*▸ {4}apply of sunny failed at ".+" \(GRANT .+\): terminating connection due to administrator command\. Nothing was changed\.$/,
    );
    count('database session terminated mid-apply');
  });

  describe('with the line cut', () => {
    let proxy: CuttingProxy;
    let total = 0;
    beforeAll(async () => {
      proxy = await CuttingProxy.start(testServer().host, testServer().port);
    });
    afterAll(() => proxy.close());

    /** pgcred with the database (or the control store) behind the proxy. */
    const through = (target: 'database' | 'control', args: string[]) =>
      pgcred(args, {
        cwd: p.dir,
        env:
          target === 'database'
            ? { ...p.env, DATABASE_ADMIN_URL: proxy.url(p.db.url), PGCRED_CONTROL_URL: p.db.url }
            : { ...p.env, PGCRED_CONTROL_URL: proxy.url(p.db.url) },
      });

    for (const target of ['database', 'control'] as const) {
      it(`apply with the ${target} connection cut at a random byte (${scale({ ci: 3, long: 25 })} trials), then apply again`, async () => {
        proxy.pass();
        p.writeConfig(nextDeclaration());
        await through(target, ['apply', '--prune', '--yes']);
        total = Math.max(total, proxy.bytes);
        expect(total).toBeGreaterThan(1000);
        for (let i = 0; i < scale({ ci: 3, long: 25 }); i++) {
          const budget = 1 + Math.floor(random() * total);
          let result: CliResult | undefined;
          await trialOf(
            `${target} cut after ${budget} bytes`,
            async () => {
              proxy.cutAfter(budget);
              result = await through(target, ['apply', '--prune', '--yes']);
            },
            async () => {
              proxy.pass();
              await through(target, ['apply', '--prune', '--yes']).then((r) => {
                if (r.status !== 0) throw new Error(`rerun: ${r.stderr}`);
              });
            },
          );
          // A cut is an error in one clear line, or (cut after the work) success; never a hang or a secret.
          expect([0, 1]).toContain(result!.status);
          if (result!.status === 1) {
            expect(result!.stderr.trim().split('\n').pop()).toMatch(/^\s*▸ {4}\S/);
            expect(result!.stderr).not.toContain(testServer().password);
          }
          count(`${target} connection cut`);
        }
      }, 900_000);
    }

    it('with the control store unreachable, nothing is changed and the error says so', async () => {
      p.writeConfig(nextDeclaration());
      const before = await dbState();
      proxy.down();
      for (const args of [
        ['apply', '--prune', '--yes'],
        ['credentials:rotate', '--name', pool[0]!, '--confirm', 'sunny'],
        ['reconcile'],
      ]) {
        const result = await through('control', args);
        expect(result.status).toBe(1);
        expect(result.stderr.trim()).toMatch(/^▸ {4}cannot reach the control store: /);
        expect(await dbState()).toEqual(before);
      }
      proxy.pass();
      await applyRerun();
      await checkConverged('control store back');
      count('control store down');
    });
  });
});
