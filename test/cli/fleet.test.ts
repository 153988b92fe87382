import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Io } from '../../src/cli/io';
import { runCli } from '../../src/cli/main';
import { type PostgresServer, startPostgres } from '../../src/embedded/server';
import { type CliResult, configDir, pgcred, testKey } from '../harness/cli';
import {
  createTestDatabase,
  dropLevelRolesOf,
  dropRoles,
  type TestDatabase,
  testServer,
  uniqueName,
  withClient,
} from '../harness/pg';
import { readmeSample, rebase, rebasing, writeRebased } from '../harness/readme';

/**
 * A fleet over several clusters: the test server, a second PostgreSQL started here,
 * a port where nothing listens (a cluster that is down) and a server that accepts
 * connections and never answers. What one database does must not stop the others.
 */
describe('a fleet of databases over several clusters', () => {
  const suffix = uniqueName('').slice(1);
  const n = (base: string) => `${base}_${suffix}`;
  let second: PostgresServer;
  let silent: Server;
  const sockets: Socket[] = [];
  let downPort: number;
  let a1: TestDatabase;
  let a2: TestDatabase;
  let b1: string;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let silentPort: number;
  let yaml: string;
  const run = (...args: string[]): Promise<CliResult> => pgcred(args, { cwd: dir, env });

  /** What a terminal shows, stdout and stderr in the order written, with this run's names and ports made stable. */
  const consoleOf = async (args: readonly string[]): Promise<string> => {
    let output = '';
    const io: Io = {
      stdout: (text) => {
        output += text;
      },
      stderr: (text) => {
        output += text;
      },
      env: { PATH: process.env.PATH, ...env },
      cwd: dir,
      interactive: false,
      prompt: async () => '',
    };
    await runCli(args, io);
    const hosts: [number, string][] = [
      [testServer().port, '10.0.0.1:5432'],
      [second.port, '10.0.0.2:5432'],
      [downPort, '10.0.0.3:5432'],
      [silentPort, '10.0.0.4:5432'],
    ];
    let text = output.split(`_${suffix}`).join('');
    for (const [port, host] of hosts) text = text.split(`127.0.0.1:${port}`).join(host);
    return text;
  };

  const freePort = () =>
    new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const port = (probe.address() as { port: number }).port;
        probe.close(() => resolve(port));
      });
    });

  beforeAll(async () => {
    second = await startPostgres({ binDir: testServer().binDir });
    b1 = n('fleet_b1');
    await withClient(second.url(), (c) => c.query(`CREATE DATABASE "${b1}"`));
    a1 = await createTestDatabase('fleet_a1');
    a2 = await createTestDatabase('fleet_a2');
    silent = createServer((socket) => {
      sockets.push(socket); // accepted, never answered
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    silentPort = (silent.address() as { port: number }).port;
    downPort = await freePort();
    const s = testServer();
    const wrongPassword = `postgres://postgres:not-the-password@${s.host}:${s.port}/${a2.name}`;
    const db = (name: string, url: string, extra: string) =>
      `  - name: ${name}\n    url: ${url}\n    owner: ${name}_owner\n${extra}`;
    yaml = [
      'version: 1',
      'databases:',
      db(
        n('db17'),
        a1.url,
        `    cluster: eu-1\n    tags: [good]\n    credentials: [ { name: ${n('analyst')}, permission: read-only } ]\n`,
      ),
      db(
        n('db18'),
        second.url(b1),
        `    cluster: eu-2\n    tags: [good]\n    credentials: [ { name: ${n('reporter')}, permission: read-only } ]\n`,
      ),
      db(n('db19'), wrongPassword, '    cluster: eu-1\n    tags: [broken]\n'),
      db(
        n('db30'),
        `postgres://postgres:x@127.0.0.1:${downPort}/postgres`,
        '    cluster: eu-3\n    tags: [broken]\n',
      ),
      db(n('db40'), `postgres://postgres:x@127.0.0.1:${silentPort}/postgres`, '    tags: [broken]\n'),
    ].join('\n');
    dir = configDir(`${yaml}\n`);
    env = { PGCRED_MASTER_KEY: testKey(), PGCRED_CONTROL_URL: a1.url, PGCRED_CONNECT_TIMEOUT: '2' };
  }, 120_000);

  afterAll(async () => {
    writeRebased();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
    await second.stop();
    await a1.drop();
    await a2.drop();
    await dropLevelRolesOf(n('db17'));
    await dropLevelRolesOf(n('db19'));
    await dropRoles([n('analyst'), `${n('analyst')}-rotating`, `${n('db17')}_owner`, `${n('db19')}_owner`]);
  });

  const rolesOn = async (url: string) =>
    withClient(url, async (c) => (await c.query('SELECT rolname FROM pg_roles')).rows.map((r) => r.rolname));

  it('applies the databases it can reach and reports the three it cannot, each on its own line', async () => {
    const result = await run('apply', '--yes', '--parallel', '3');
    expect(result.status).toBe(1);
    const errors = result.stderr.split('\n').filter((line) => line.startsWith(' ▸    '));
    expect(errors).toEqual([
      expect.stringMatching(new RegExp(`^ ▸    ${n('db19')}: .*password authentication failed`)),
      expect.stringMatching(new RegExp(`^ ▸    ${n('db30')}: .*connection refused`)),
      expect.stringMatching(new RegExp(`^ ▸    ${n('db40')}: .*no answer within 2 s`)),
    ]);
    expect(result.stderr).toContain(`to ${n('db17')} in one transaction.`);
    expect(result.stderr).toContain(`to ${n('db18')} in one transaction.`);
    expect(result.stderr).not.toContain('not-the-password');
    // The summary leads the report; only what changed or failed is listed.
    expect(result.stdout).toMatch(/Databases\s*│\s*Applied\s*│\s*Failed/);
    expect(result.stdout).toMatch(/│\s*5\s*│\s*2\s*│\s*3\s*│/);
    expect(result.stdout).toContain('Failed (3):\n');
    expect(result.stdout).toContain(`  ✗ ${n('db30')} (cluster eu-3): cannot connect`);
    expect(result.stdout).toContain(`  ✗ ${n('db40')} (cluster 127.0.0.1:`);
    expect(await rolesOn(a1.url)).toContain(n('analyst'));
    expect(await rolesOn(second.url())).toContain(n('reporter'));
  });

  it('gives drift exit codes over the fleet: 0 in sync, 2 drifted, 1 when any database errored', async () => {
    const good = await run('drift', '--tag', 'good');
    expect(good.stderr).toBe('');
    expect(good.status).toBe(0);
    expect(good.stdout).toMatch(/│\s*2\s*│\s*2\s*│\s*0\s*│\s*0\s*│/);
    expect(good.stdout).toContain('Nothing needs attention.');

    await withClient(second.url(b1), (c) =>
      c.query(`ALTER ROLE "${n('reporter')}" PASSWORD 'changed-out-of-band-1'`),
    );
    const drifted = await run('drift', '--database', `${n('db17')},${n('db18')}`, '--format', 'json');
    expect(drifted.status).toBe(2);
    const records = JSON.parse(drifted.stdout).databases as Record<string, unknown>[];
    expect(records.map((r) => [r.database, r.cluster, r.status])).toEqual([
      [n('db17'), 'eu-1', 'ok'],
      [n('db18'), 'eu-2', 'drifted'],
    ]);
    expect(drifted.stderr).toContain(`Drift found in ${n('db18')}.`);

    const all = await run('drift', '--format', 'json', '--parallel', '5');
    expect(all.status).toBe(1);
    const statuses = (JSON.parse(all.stdout).databases as { database: string; status: string }[]).map((r) => [
      r.database,
      r.status,
    ]);
    expect(statuses).toEqual([
      [n('db17'), 'ok'],
      [n('db18'), 'drifted'],
      [n('db19'), 'error'],
      [n('db30'), 'error'],
      [n('db40'), 'error'],
    ]);
    expect(all.stdout).not.toContain('not-the-password');

    // The README's sample of a fleet's drift report.
    const shown = `$ PGCRED_CONNECT_TIMEOUT=2 pgcred drift\n${await consoleOf(['drift'])}`;
    if (rebasing) rebase('fleet-drift', shown);
    else expect(shown).toBe(readmeSample('fleet-drift').text);

    const cluster = await run('drift', '--cluster', 'eu-2');
    expect(cluster.status).toBe(2);
    expect(cluster.stdout).toContain(`Drift for ${n('db18')}`);
    expect(cluster.stdout).not.toContain(n('db17'));
  });

  it('refuses a bad --parallel or an unknown selector with one line, before connecting', async () => {
    for (const [args, line] of [
      [['--parallel', '0'], '--parallel: "0" is not a whole number from 1 to 64 (databases at a time)'],
      [['--parallel', 'many'], '--parallel: "many" is not a whole number from 1 to 64 (databases at a time)'],
      [
        ['--per-cluster', '-1'],
        '--per-cluster: "-1" is not a whole number from 1 to 64 (databases at a time)',
      ],
      [['--cluster', 'delta'], `--cluster: no database of ${dir}/pgcred.yaml is on cluster "delta"`],
      [['--tag', 'nope'], `--tag: no database of ${dir}/pgcred.yaml has tag "nope"`],
      [['--database', 'nope'], `--database: unknown database "nope": ${dir}/pgcred.yaml declares`],
    ] as const) {
      for (const command of ['apply', 'drift']) {
        const result = await pgcred([command, ...args], {
          cwd: dir,
          env: { ...env, PGCRED_CONTROL_URL: `postgres://postgres:x@127.0.0.1:${downPort}/postgres` },
        });
        expect(result.status).toBe(1);
        expect(result.stderr.trim().split('\n')).toHaveLength(1);
        expect(result.stderr.trim()).toContain(line);
        expect(result.stdout).toBe('');
      }
    }
    const badTimeout = await pgcred(['drift'], { cwd: dir, env: { ...env, PGCRED_CONNECT_TIMEOUT: 'soon' } });
    expect(badTimeout.status).toBe(1);
    expect(badTimeout.stderr.trim()).toBe(
      '▸    PGCRED_CONNECT_TIMEOUT: "soon" is not a number of seconds from 0.001 to 3600',
    );
  });

  it('plan --out plans the fleet side by side and writes nothing when a database cannot be planned', async () => {
    const failing = await run('plan', '--out', 'fleet-plan.json', '--parallel', '4');
    expect(failing.status).toBe(1);
    expect(failing.stderr).toContain(
      `Not writing fleet-plan.json: ${n('db19')}, ${n('db30')}, ${n('db40')} could not be planned.`,
    );
    expect(failing.stderr).toContain(`${n('db30')}: cannot connect to database ${n('db30')}`);
    expect(existsSync(join(dir, 'fleet-plan.json'))).toBe(false);
    const good = await run('plan', '--out', 'fleet-plan.json', '--tag', 'good');
    expect(good.status).toBe(0);
    expect(good.stderr).toContain(`Saved the plan of ${n('db17')}, ${n('db18')} to fleet-plan.json`);
    expect(existsSync(join(dir, 'fleet-plan.json'))).toBe(true);
  });

  it('keeps working with the argument form for one database', async () => {
    const result = await run('drift', n('db17'));
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`Drift for ${n('db17')}`);
    expect(result.stdout).not.toContain('Databases');
    expect((await run('drift', n('db17'), '--tag', 'good')).status).toBe(1);
  });

  it('checks privileges everywhere while the control store is down, says which passwords it could not check, and exits 1', async () => {
    await a1.sql(
      `REVOKE "pgcred:read-only:${n('db17')}" FROM "${n('analyst')}" GRANTED BY "${n('db17')}_owner"`,
    );
    const down = { ...env, PGCRED_CONTROL_URL: `postgres://postgres:x@127.0.0.1:${downPort}/postgres` };
    const drift = await pgcred(['drift', '--tag', 'good', '--format', 'json'], { cwd: dir, env: down });
    expect(drift.status).toBe(1);
    expect(drift.stderr).toContain(
      'The control store is unreachable (connection refused): privileges are checked, passwords are not.',
    );
    expect(drift.stderr).toContain(
      'Passwords were not checked: the control store is unreachable (connection refused).',
    );
    const records = JSON.parse(drift.stdout).databases as {
      database: string;
      status: string;
      changes: { description: string }[];
      findings: { kind: string; subject: string }[];
    }[];
    expect(records.map((r) => [r.database, r.status])).toEqual([
      [n('db17'), 'drifted'],
      [n('db18'), 'ok'],
    ]);
    expect(records[0]!.changes.map((c) => c.description)).toContainEqual(
      expect.stringContaining(`member of level role pgcred:read-only:${n('db17')}`),
    );
    expect(records[1]!.findings.filter((f) => f.kind === 'password-unchecked').map((f) => f.subject)).toEqual(
      expect.arrayContaining([n('reporter')]),
    );
    // Changing commands refuse, before any change.
    const apply = await pgcred(['apply', '--yes', '--tag', 'good'], { cwd: dir, env: down });
    expect(apply.status).toBe(1);
    expect(apply.stderr.trim()).toBe('▸    cannot reach the control store: connection refused');
    expect((await run('drift', n('db17'))).status).toBe(2);
  });

  it('resumes an apply that did not finish: only the databases it did not apply', async () => {
    expect(existsSync(join(dir, '.pgcred', 'fleet-run.json'))).toBe(true);
    // db19's admin password is put right; db30 and db40 are still out of reach.
    writeFileSync(join(dir, 'pgcred.yaml'), `${yaml.replace('not-the-password', testServer().password)}\n`);
    const resumed = await run('apply', '--yes', '--resume');
    expect(resumed.status).toBe(1);
    expect(resumed.stderr).toContain(
      'Resuming the interrupted apply: 2 of 5 databases were applied before; applying the other 3.',
    );
    expect(resumed.stderr).toContain(`to ${n('db19')} in one transaction.`);
    expect(resumed.stderr).not.toContain(n('db17'));
    expect(resumed.stderr).toContain('2 of 3 databases failed; pgcred apply --resume applies them');
    // db17 drifted in the test before; the resumed run left it alone.
    expect((await run('drift', n('db17'))).status).toBe(2);
    const again = await run('apply', '--yes', '--resume', '--tag', 'broken');
    expect(again.stderr).toContain(
      'Resuming the interrupted apply: 1 of 3 databases were applied before; applying the other 2.',
    );
    const fresh = configDir(`${yaml}\n`);
    const missing = await pgcred(['apply', '--yes', '--resume'], { cwd: fresh, env });
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim()).toBe(
      `▸    --resume: no interrupted apply of ${fresh}/pgcred.yaml to resume (${fresh}/.pgcred/fleet-run.json is missing)`,
    );
  });

  it('reconciles the fleet: repairs what it reaches, names what it cannot, exits 1', async () => {
    const result = await run('reconcile', '--parallel', '5');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${n('db17')}: repaired 1 change.`);
    expect(result.stderr.split('\n').filter((line) => line.startsWith(' ▸    '))).toEqual([
      expect.stringMatching(new RegExp(`^ ▸    ${n('db30')}: .*connection refused`)),
      expect.stringMatching(new RegExp(`^ ▸    ${n('db40')}: .*no answer within 2 s`)),
    ]);
    expect(result.stderr).toContain(`Reconciled, except ${n('db30')}, ${n('db40')}.`);
    expect((await run('drift', '--tag', 'good')).status).toBe(0);
  });
});

describe('parallel applies on one cluster', () => {
  const suffix = uniqueName('').slice(1);
  const n = (base: string) => `${base}_${suffix}`;
  const dbs: TestDatabase[] = [];
  const file = (names: readonly string[], credential: (i: number) => string) =>
    `version: 1\ndatabases:\n${names
      .map(
        (name, i) =>
          `  - name: ${name}\n    url: ${dbs[i]!.url}\n    owner: ${name}_owner\n    credentials: [ { name: ${credential(i)}, permission: read-only } ]\n`,
      )
      .join('')}`;

  beforeAll(async () => {
    for (let i = 0; i < 4; i++) dbs.push(await createTestDatabase(`par${i}`));
  });
  afterAll(async () => {
    for (const db of dbs) await db.drop();
    const names = [0, 1, 2, 3].map((i) => n(`p${i}`));
    for (const name of names) await dropLevelRolesOf(name);
    await dropRoles([
      ...names.map((name) => `${name}_owner`),
      ...[0, 1, 2, 3].map((i) => n(`cred${i}`)),
      n('shared'),
    ]);
  });

  it('two applies at once on one cluster both succeed, and a name both claim goes to one with a clear refusal for the other', async () => {
    const env = { PGCRED_MASTER_KEY: testKey() };
    // Two infra repos, each with two databases of the same cluster, applied at the same time.
    const first = configDir(file([n('p0'), n('p1')], (i) => n(`cred${i}`)));
    const second = configDir(
      `version: 1\ndatabases:\n${[2, 3]
        .map(
          (i) =>
            `  - name: ${n(`p${i}`)}\n    url: ${dbs[i]!.url}\n    owner: ${n(`p${i}`)}_owner\n    credentials: [ { name: ${n(`cred${i}`)}, permission: read-only }, { name: ${n('shared')}, permission: none } ]\n`,
        )
        .join('')}`,
    );
    const [a, b] = await Promise.all([
      pgcred(['apply', '--yes'], { cwd: first, env }),
      pgcred(['apply', '--yes', '--parallel', '2'], { cwd: second, env }),
    ]);
    expect(a.stderr).not.toContain('▸');
    expect(a.status).toBe(0);
    // p2 and p3 both declare `shared`: roles are cluster-wide, so one of them has it.
    expect(b.status).toBe(1);
    const refused = b.stderr.split('\n').filter((line) => line.startsWith(' ▸    '));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(
      new RegExp(`role ${n('shared')} is already a credential of database ".*" in this cluster`),
    );
    expect(b.stderr).not.toMatch(/duplicate key|already exists|tuple concurrently/);
  });
});
