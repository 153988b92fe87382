import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pgcred, testKey } from '../harness/cli';
import { createProject, type Project } from '../harness/project';

describe('the master key', () => {
  let p: Project;
  let analyst: string;

  beforeAll(async () => {
    p = await createProject('masterkey', ({ url, name }) => {
      analyst = name('analyst');
      return `version: 1\ndatabases:\n  - name: sunny\n    url: ${url}\n    credentials: [ { name: ${analyst} } ]\n`;
    });
  });
  afterAll(() => p.cleanup());

  const run = (env: NodeJS.ProcessEnv, ...args: string[]) =>
    pgcred(args, { cwd: p.dir, env: { DATABASE_ADMIN_URL: p.env.DATABASE_ADMIN_URL, ...env } });

  it('is created on first use as a 0600 file that git ignores', async () => {
    expect((await run({}, 'apply', '--yes')).status).toBe(0);
    const keyFile = join(p.dir, '.pgcred', 'master.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(p.dir, '.pgcred', '.gitignore'), 'utf8')).toBe('*\n');
    expect((await run({}, 'credentials:url', '--name', analyst)).status).toBe(0);
  });

  it('a wrong key is one clear error, never garbage in a URL', async () => {
    const result = await run({ PGCRED_MASTER_KEY: testKey() }, 'credentials:url', '--name', analyst);
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      '▸    the master key (PGCRED_MASTER_KEY) is not the one this control store was written with; set PGCRED_MASTER_KEY or the key file to the original key',
    );
    expect(result.stdout).toBe('');
  });

  it('a missing key file is the same clear error', async () => {
    rmSync(join(p.dir, '.pgcred'), { recursive: true, force: true });
    const result = await run({}, 'credentials:url', '--name', analyst);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('is not the one this control store was written with');
  });

  it('a malformed PGCRED_MASTER_KEY is named', async () => {
    const result = await run({ PGCRED_MASTER_KEY: 'not-a-key' }, 'credentials');
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      '▸    PGCRED_MASTER_KEY is not a 256-bit key (64 hex digits or 44 base64 characters)',
    );
  });
});
