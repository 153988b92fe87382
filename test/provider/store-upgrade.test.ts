import { randomBytes } from 'node:crypto';
import { MasterKey } from '../../src/control/crypto';
import { ControlStore } from '../../src/control/store';
import { createTestDatabase, type TestDatabase } from '../harness/pg';

/**
 * Migration 002 on a store written before it: releases of apps that are gone, and
 * releases beyond an app's current one (an app destroyed and made again under its
 * name), which made `terraform destroy` then `apply` fail for good on releases_pkey.
 */
let db: TestDatabase;
const key = MasterKey.parse(randomBytes(32).toString('hex'), 'the test key');

beforeAll(async () => {
  db = await createTestDatabase('upgrade');
});

afterAll(async () => {
  await db?.drop();
});

async function open(): Promise<void> {
  const store = await ControlStore.open(db.url, key);
  await store.close();
}

it('cleans up orphaned releases, then keys releases to their app with a cascade', async () => {
  await open();
  // The store as 001 left it.
  await db.sql(`ALTER TABLE pgcred.releases DROP CONSTRAINT releases_app_fkey;
    DROP TABLE pgcred.databases;
    ALTER TABLE pgcred.rotations DROP COLUMN settle_ms;
    ALTER TABLE pgcred.secrets DROP COLUMN verifier_digest;
    DELETE FROM pgcred.migrations WHERE version >= 2`);
  await db.sql(`INSERT INTO pgcred.apps (name, release) VALUES ('kept', 1);
    INSERT INTO pgcred.releases (app, release, description) VALUES
      ('kept', 1, 'current'), ('kept', 2, 'from the app destroyed before'), ('gone', 1, 'orphan')`);

  await open();
  expect(await db.sql('SELECT app, release FROM pgcred.releases ORDER BY app, release')).toEqual([
    { app: 'kept', release: 1 },
  ]);
  await expect(
    db.sql(`INSERT INTO pgcred.releases (app, release, description) VALUES ('nobody', 1, 'x')`),
  ).rejects.toThrow(/releases_app_fkey/);
  await db.sql(`DELETE FROM pgcred.apps WHERE name = 'kept'`);
  expect(await db.sql('SELECT count(*)::int AS n FROM pgcred.releases')).toEqual([{ n: 0 }]);
  expect(await db.sql('SELECT version FROM pgcred.migrations WHERE version = 2')).toEqual([{ version: 2 }]);
});
