import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { MasterKey } from '../../src/control/crypto';
import { identityOf } from '../../src/control/database-registry';
import { ControlStore } from '../../src/control/store';
import type { DatabaseSpec } from '../../src/model/config';
import { pgcred, testKey } from '../harness/cli';
import { createTestDatabase, dropRoles, type TestDatabase, tryAs, uniqueName } from '../harness/pg';

/**
 * One database, one name: a credential made with the CLI's postgres:// URL form
 * before Terraform ever named the database keeps its password once Terraform does,
 * so `terraform import` of it does not make the next apply generate a new one.
 */
describe('the registry of databases', () => {
  let db: TestDatabase;
  const key = testKey();
  const reporter = uniqueName('reporter');
  const terraformName = `postgresql-${uniqueName('reg').replace(/_/g, '-')}`;
  const dir = mkdtempSync(join(tmpdir(), 'pgcred-registry-'));
  const run = (...args: string[]) => pgcred(args, { cwd: dir, env: { PGCRED_MASTER_KEY: key } });
  const urlLine = (out: string) =>
    out
      .split('\n')
      .find((l) => l.trim().startsWith('postgres://'))
      ?.trim();

  beforeAll(async () => {
    db = await createTestDatabase('registry');
  });
  afterAll(async () => {
    await db.drop();
    await dropRoles([reporter]);
  });

  it('moves what the URL form stored to the name Terraform gives the database, and the password survives', async () => {
    const created = await run('credentials:create', db.url, '--name', reporter, '--permission', 'read-only');
    expect(created.stderr).not.toContain('▸');
    expect(created.status).toBe(0);
    const before = urlLine((await run('credentials:url', db.url, '--name', reporter)).stdout)!;
    expect(await tryAs(before, 'SELECT 1')).toMatchObject({ ok: true });

    // What the pgcred provider does on its first change to a database block.
    const control = await ControlStore.open(db.url, MasterKey.parse(key, 'test key'));
    const admin = new Client({ connectionString: db.url });
    await admin.connect();
    try {
      const spec: DatabaseSpec = {
        name: terraformName,
        url: db.url,
        plan: 'standard-0',
        color: 'CYAN',
        role: 'primary',
        executor: 'pgcred',
        ignoreRoles: [],
        credentials: [],
      };
      await control.databases.register(spec, await identityOf(admin, db.url), 'terraform');
      const password = await control.getPassword(terraformName, reporter);
      expect(password).toBe(decodeURIComponent(new URL(before).password));
      expect(await control.databases.names()).toEqual([terraformName]);
      expect(await control.getPasswords(db.name)).toEqual(new Map());
    } finally {
      await admin.end();
      await control.close();
    }
    // The URL form now finds the name Terraform gave it, and hands out the same URL.
    const after = await run('credentials:url', db.url, '--name', reporter);
    expect(after.status).toBe(0);
    expect(urlLine(after.stdout)).toBe(before);
  });
});
