import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { type PostgresServer, startPostgres } from '../../src/embedded/server';
import { buildShop, run } from '../brownfield/shop-fixture';
import {
  addHandMadeRoles,
  buildCreateroleOwned,
  buildGrantKinds,
  buildPgcredSetUp,
  buildReadmeSunny,
  buildSeedFlows,
  README_ROLES,
} from '../fixtures/databases';
import { type CliResult, configDir, pgcred, testKey } from '../harness/cli';
import { adminUrl, uniqueName, withClient } from '../harness/pg';
import { pgcredProcess } from '../harness/process';
import type { Project } from '../harness/project';
import { testBinDir } from '../harness/versions';
import { privilegeMatrix } from './privilege-matrix';

/**
 * Issue 16's round trip on every database the suites build (test/fixtures): `pgcred
 * import` writes the file, applying it changes no role's has_*_privilege on the
 * database, any schema, relation, column, sequence or routine, and then the plan is
 * empty and drift exits 0. `--only` declares the named role and ignores the rest.
 */

interface Target {
  /** The database's admin URL. */
  readonly url: string;
  /** Its name in the file: the one its project uses, so secrets and journal are found. */
  readonly name: string;
  /** Runs pgcred where the imported file is applied. */
  cli(...args: string[]): Promise<CliResult>;
  writeConfig(text: string): void;
  /** Roles the fixture made, compared besides those the file names. */
  readonly roles: readonly string[];
}

interface Imported {
  readonly owner?: string;
  readonly credentials: { name: string }[];
  readonly ignoreRoles?: string[];
}

const shown = (r: CliResult) => ({ status: r.status, output: `${r.stdout}${r.stderr}`.slice(0, 6000) });

async function roundTrip(t: Target): Promise<Imported> {
  const imported = await t.cli('import', '--url', t.url, '--name', t.name);
  expect(shown(imported)).toMatchObject({ status: 0 });
  const db = parse(imported.stdout).databases[0] as Imported;
  const [{ owner }] = await withClient(
    t.url,
    async (c) =>
      (
        await c.query(
          'SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = current_database()',
        )
      ).rows,
  );
  const roles = [
    ...new Set([
      ...t.roles,
      owner as string,
      ...(db.owner ? [db.owner] : []),
      ...db.credentials.map((c) => c.name),
      ...(db.ignoreRoles ?? []),
    ]),
  ].sort();
  const before = await privilegeMatrix(t.url, roles);
  // --only, on the database as the fixture built it: the named role is declared, every
  // other credential is ignored, not declared.
  const [first, ...others] = db.credentials.map((c) => c.name);
  if (first) {
    const only = await t.cli('import', '--url', t.url, '--name', t.name, '--only', first);
    expect(shown(only)).toMatchObject({ status: 0 });
    const some = parse(only.stdout).databases[0] as Imported;
    expect(some.credentials.map((c) => c.name)).toEqual([first]);
    expect(some.ignoreRoles).toEqual(expect.arrayContaining(others));
  }

  t.writeConfig(imported.stdout);
  const applied = await t.cli('apply', '--yes');
  expect(shown(applied)).toEqual({ status: 0, output: expect.any(String) });
  expect(await privilegeMatrix(t.url, roles)).toEqual(before);
  const plan = await t.cli('plan', '--format', 'json');
  expect(shown(plan)).toMatchObject({ status: 0 });
  expect(JSON.parse(plan.stdout).databases[0].summary.changes).toBe(0);
  expect(shown(await t.cli('drift'))).toMatchObject({ status: 0 });

  return db;
}

const projectTarget = (p: Project, name: string, roles: readonly string[]): Target => ({
  url: p.db.url,
  name,
  cli: (...args) => p.run(...args),
  writeConfig: (text) => p.writeConfig(text),
  roles,
});

describe('pgcred import round trip on every fixture the suites build', () => {
  const cleanups: (() => Promise<void>)[] = [];
  // Several fixtures name their database sunny, whose level roles are cluster-wide:
  // each one is gone before the next is built.
  beforeEach(async () => {
    while (cleanups.length > 0) await cleanups.shift()!();
  });
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it('the seed flows (levels, a one-table grant, PUBLIC hardened, objects made after apply)', async () => {
    const f = await buildSeedFlows('rtflows');
    cleanups.push(() => f.p.cleanup());
    const db = await roundTrip(projectTarget(f.p, 'sunny', [f.analyst, f.writer, f.nobody, f.limited]));
    expect(db.credentials.map((c) => c.name).sort()).toEqual(
      [f.analyst, f.writer, f.nobody, f.limited].sort(),
    );
  });

  it('the database pgcred set up for the import suite (all-sequences grant, a function)', async () => {
    const f = await buildPgcredSetUp('rtimp');
    cleanups.push(() => f.p.cleanup());
    await roundTrip(projectTarget(f.p, 'sunny', [f.analyst, f.writer, f.nobody, f.limited]));
  });

  it('custom grants of every kind pgcred applies: schema CREATE, columns, routines, a group role', async () => {
    const f = await buildGrantKinds('rtkinds');
    cleanups.push(() => f.p.cleanup());
    const db = await roundTrip(projectTarget(f.p, 'kinds', [f.support, f.member, f.staff]));
    expect(db.credentials).toEqual(
      expect.arrayContaining([{ name: f.member, permission: 'none', memberOf: [f.staff] }]),
    );
  });

  it('a rotation stopped mid-way (the rotating username exists)', async () => {
    const f = await buildSeedFlows('rtrot');
    cleanups.push(() => f.p.cleanup());
    const killed = await pgcredProcess(
      f.p,
      ['credentials:rotate', '--name', f.analyst, '--grace', '2s', '--confirm', 'sunny'],
      { PGCRED_FAULT: 'rotation:rotating-role-created' },
    );
    expect(killed.signal).toBe('SIGKILL');
    const rotating = `${f.analyst}-rotating`;
    expect(await f.p.db.sql('SELECT 1 FROM pg_roles WHERE rolname = $1', [rotating])).toHaveLength(1);
    const db = await roundTrip(
      projectTarget(f.p, 'sunny', [f.analyst, rotating, f.writer, f.nobody, f.limited]),
    );
    // The rotating username is the rotation's, not a credential or a role to ignore.
    expect(db.credentials.map((c) => c.name)).not.toContain(rotating);
    expect(db.ignoreRoles ?? []).not.toContain(rotating);
  });

  it('the CREATEROLE admin (the owner, no superuser) after its first apply', async () => {
    const f = await buildCreateroleOwned();
    cleanups.push(() => f.cleanup());
    // The README's step for a public schema a superuser owns, then the fixture's own apply.
    await withClient(adminUrl(f.database), (c) => c.query(`ALTER SCHEMA public OWNER TO "${f.owner}"`));
    expect(shown(await f.run('apply', '--yes'))).toMatchObject({ status: 0 });
    await roundTrip({
      url: f.url,
      name: 'owned',
      cli: (...args) => f.run(...args),
      writeConfig: (text) => {
        writeFileSync(join(f.dir, 'pgcred.yaml'), text);
      },
      roles: [f.owner, f.analyst, f.writer],
    });
  });

  describe('on a PostgreSQL of their own (legacy login roles change PUBLIC decisions elsewhere)', () => {
    let server: PostgresServer;
    // One control store for both databases, so one master key.
    const key = testKey();
    beforeAll(async () => {
      server = await startPostgres({ binDir: testBinDir() });
      await run(server.url(), 'CREATE DATABASE pgcred_control');
    });
    afterAll(async () => {
      await server?.stop();
    });
    const target = (url: string, name: string, roles: readonly string[]): Target => {
      const dir = configDir('version: 1\ndatabases: []\n');
      const env = {
        DATABASE_ADMIN_URL: url,
        PGCRED_CONTROL_URL: server.url('pgcred_control'),
        PGCRED_MASTER_KEY: key,
      };
      return {
        url,
        name,
        cli: (...args) => pgcred(args, { cwd: dir, env }),
        writeConfig: (text) => {
          writeFileSync(join(dir, 'pgcred.yaml'), text);
        },
        roles,
      };
    };

    it('the brownfield shop, with the roles the import suite adds by hand', async () => {
      const prefix = uniqueName('rts');
      const shop = await buildShop(server, prefix, 'shop');
      const hand = await addHandMadeRoles(server.url(), shop, prefix);
      await roundTrip(target(shop.adminUrl, 'shop', [...shop.allRoles, ...Object.values(hand)]));
    });

    it('the README example', async () => {
      const url = await buildReadmeSunny(server);
      await roundTrip(target(url, 'sunny', README_ROLES));
    });
  });
});
