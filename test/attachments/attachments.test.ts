import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tryAs } from '../harness/pg';
import { createProject, type Project } from '../harness/project';

function envFile(path: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

describe('attachments', () => {
  let p: Project;
  let analyst: string;
  let writer: string;
  let env: string;

  beforeAll(async () => {
    p = await createProject('attach', ({ url, name }) => {
      analyst = name('analyst');
      writer = name('writer');
      return `version: 1
databases:
  - name: sunny
    url: ${url}
    color: CYAN
    credentials:
      - { name: ${analyst}, permission: read-only }
      - { name: ${writer}, permission: read-write }
apps:
  - { name: web, envFile: ./run/web.env, restart: "echo restarted >> restarts.log" }
`;
    });
    env = join(p.dir, 'run', 'web.env');
    await p.ok('apply', '--yes');
    await p.db.sql('CREATE TABLE public.items (id int)');
    await p.ok('apply', '--yes');
  });
  afterAll(() => p.cleanup());

  it('gives the first attachment DATABASE_URL and the next HEROKU_POSTGRESQL_<COLOR>_URL', async () => {
    const first = await p.ok('attach', '--credential', analyst, '--app', 'web');
    expect(first.stderr).toContain(`Attaching ${analyst} of ⛁ sunny to ⬢ web... done`);
    expect(first.stderr).toContain('Setting DATABASE config vars and restarting ⬢ web... done, v1');
    expect(first.stdout.trim()).toBe('DATABASE_URL');
    const second = await p.ok('attach', '--credential', writer, '--app', 'web');
    expect(second.stdout.trim()).toBe('HEROKU_POSTGRESQL_CYAN_URL');
    expect(second.stderr).toContain('done, v2');
    const third = await p.ok('attach', '--credential', writer, '--app', 'web', '--as', 'REPORTING');
    expect(third.stdout.trim()).toBe('REPORTING_URL');
    expect(
      readFileSync(join(p.dir, 'run', 'restarts.log'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(3);
  });

  it('writes the env file with mode 0600, and each URL has exactly its credential’s level', async () => {
    expect(statSync(env).mode & 0o777).toBe(0o600);
    const vars = envFile(env);
    expect(Object.keys(vars).sort()).toEqual(['DATABASE_URL', 'HEROKU_POSTGRESQL_CYAN_URL', 'REPORTING_URL']);
    expect(vars.DATABASE_URL).toMatch(
      new RegExp(`^postgres://${analyst}:[A-Za-z0-9]{65}@127\\.0\\.0\\.1:\\d+/`),
    );
    expect(await tryAs(vars.DATABASE_URL!, 'SELECT count(*) FROM public.items')).toMatchObject({ ok: true });
    expect(await tryAs(vars.DATABASE_URL!, 'INSERT INTO public.items VALUES (1)')).toMatchObject({
      ok: false,
      code: '42501',
    });
    expect(
      await tryAs(vars.HEROKU_POSTGRESQL_CYAN_URL!, 'INSERT INTO public.items VALUES (1)'),
    ).toMatchObject({ ok: true });
  });

  it('masks config values unless --reveal', async () => {
    const masked = await p.ok('config', '--app', 'web');
    expect(masked.stdout).toContain(`=== ⬢ web Config Vars (v3)`);
    expect(masked.stdout).toMatch(new RegExp(`DATABASE_URL: +postgres://${analyst}:••••••••@`));
    expect(masked.stdout).not.toMatch(/[A-Za-z0-9]{65}/);
    const revealed = await p.ok('config', '--app', 'web', '--reveal');
    expect(revealed.stdout).toContain(envFile(env).DATABASE_URL);
  });

  it('lists attachments under their credential', async () => {
    const listing = await p.ok('credentials');
    expect(listing.stdout).toContain(`${analyst}`);
    expect(listing.stdout).toContain(' └─ as DATABASE on web app');
    expect(listing.stdout).toMatch(/ ├─ as HEROKU_POSTGRESQL_CYAN on web app\n └─ as REPORTING on web app/);
  });

  it('refuses to destroy an attached credential, naming the apps', async () => {
    const result = await p.run('credentials:destroy', '--name', writer, '--confirm', 'sunny');
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      `▸    Credential ${writer} must be detached from the app ⬢ web before destroying.`,
    );
  });

  it('detach removes the config var from the store and the env file', async () => {
    const result = await p.ok('detach', '--app', 'web', 'HEROKU_POSTGRESQL_CYAN_URL');
    expect(result.stderr).toContain('Detaching HEROKU_POSTGRESQL_CYAN from ⛁ sunny from ⬢ web... done');
    expect(result.stderr).toContain(
      'Unsetting HEROKU_POSTGRESQL_CYAN config vars and restarting ⬢ web... done, v4',
    );
    expect(Object.keys(envFile(env)).sort()).toEqual(['DATABASE_URL', 'REPORTING_URL']);
    const config = JSON.parse((await p.ok('config', '--app', 'web', '--json')).stdout);
    expect(config.vars.map((v: { name: string }) => v.name)).toEqual(['DATABASE_URL', 'REPORTING_URL']);
    const missing = await p.run('detach', '--app', 'web', 'NOPE');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('⬢ web has no attachment named NOPE (it has DATABASE, REPORTING)');
  });

  it('keeps declared attachment names stable when the file is reordered, and removes dropped ones', async () => {
    const file = (order: string[]) => `version: 1
databases:
  - name: sunny
    url: \${DATABASE_ADMIN_URL}
    color: CYAN
    credentials:
      - { name: ${analyst}, permission: read-only }
      - { name: ${writer}, permission: read-write }
apps:
  - { name: web, envFile: ./run/web.env }
  - { name: api, envFile: ./run/api.env }
attachments:
${order.join('\n')}
`;
    const a = `  - { database: sunny, credential: ${writer}, app: api }`;
    const b = `  - { database: sunny, credential: default, app: api }`;
    const c = `  - { database: sunny, credential: ${analyst}, app: api }`;
    p.writeConfig(file([a, b, c]));
    await p.ok('apply', '--yes');
    const first = envFile(join(p.dir, 'run', 'api.env'));
    // The default credential is the app's own database; the others get colors.
    // The default credential: the owner the test project declares for its database.
    expect(first.DATABASE_URL).toMatch(/^postgres:\/\/owner_sunny_[0-9a-f]{8}:/);
    p.writeConfig(file([c, a, b]));
    await p.ok('apply', '--yes');
    expect(envFile(join(p.dir, 'run', 'api.env'))).toEqual(first);
    p.writeConfig(file([c, b]));
    const dropped = await p.ok('apply', '--yes');
    expect(dropped.stderr).toMatch(/Detached HEROKU_POSTGRESQL_\w+ from ⬢ api/);
    const after = envFile(join(p.dir, 'run', 'api.env'));
    expect(Object.keys(after)).toHaveLength(2);
    expect(Object.values(after).some((url) => url.startsWith(`postgres://${writer}:`))).toBe(false);
    // Attachments made with `pgcred attach` are not the file's to remove.
    expect(Object.keys(envFile(env)).sort()).toEqual(['DATABASE_URL', 'REPORTING_URL']);
  });

  it('retries a failed restart on reconcile, and the new value is never lost', async () => {
    p.writeConfig(`version: 1
databases:
  - name: sunny
    url: \${DATABASE_ADMIN_URL}
    credentials:
      - { name: ${analyst}, permission: read-only }
      - { name: ${writer}, permission: read-write }
apps:
  - { name: flaky, envFile: ./run/flaky.env, restart: "test -f healthy" }
attachments:
  - { database: sunny, credential: ${analyst}, app: flaky }
`);
    const failed = await p.run('apply', '--yes');
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain('restart failed: exited 1; pgcred reconcile retries it');
    expect(existsSync(join(p.dir, 'run', 'flaky.env'))).toBe(true);
    const pending = JSON.parse((await p.ok('config', '--app', 'flaky', '--json')).stdout);
    expect(pending.restartPending).toBe(true);
    require('node:fs').writeFileSync(join(p.dir, 'run', 'healthy'), '');
    const reconciled = await p.ok('reconcile');
    expect(reconciled.stderr).toContain('Restarting ⬢ flaky... done, v1');
    expect(JSON.parse((await p.ok('config', '--app', 'flaky', '--json')).stdout).restartPending).toBe(false);
  });
});
