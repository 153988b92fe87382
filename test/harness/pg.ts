import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export interface TestServer {
  readonly host: string;
  readonly port: number;
  readonly password: string;
  readonly majorVersion: number;
  readonly binDir: string;
  /** Holds data/ and server.log. */
  readonly baseDir: string;
}

export function testServer(): TestServer {
  const raw = process.env.PGCRED_TEST_SERVER;
  if (!raw)
    throw new Error(
      'PGCRED_TEST_SERVER is not set: run the tests with jest (its global setup starts PostgreSQL)',
    );
  return JSON.parse(raw) as TestServer;
}

/** The superuser URL of a database on the test server. */
export function adminUrl(database = 'postgres'): string {
  const s = testServer();
  return `postgres://postgres:${s.password}@${s.host}:${s.port}/${encodeURIComponent(database)}`;
}

export function userUrl(database: string, user: string, password: string): string {
  const s = testServer();
  return `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${s.host}:${s.port}/${encodeURIComponent(database)}`;
}

/** Roles are cluster-wide and test files run side by side: every name a test makes is unique. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

export async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** Runs SQL as the superuser in this database. */
  sql(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  drop(): Promise<void>;
}

/** A fresh database for one test file, dropped (with the roles it made, if asked) afterwards. */
export async function createTestDatabase(prefix = 'db'): Promise<TestDatabase> {
  const name = uniqueName(prefix);
  await withClient(adminUrl(), async (c) => {
    await c.query(`CREATE DATABASE "${name}"`);
    // Test files share one cluster, and at any moment some of them hold login roles
    // pgcred does not manage; while PUBLIC may CONNECT, those roles reach every test
    // database, and pgcred rightly leaves PUBLIC alone there. A database of its own
    // cluster, as pgcred finds on a new server, has no such roles: without PUBLIC's
    // CONNECT the others' roles cannot reach this one, and pgcred hardens it as it
    // would there. test/brownfield covers the database where they can.
    await c.query(`REVOKE CONNECT, TEMPORARY ON DATABASE "${name}" FROM PUBLIC`);
  });
  const url = adminUrl(name);
  return {
    name,
    url,
    sql: (text, params) => withClient(url, async (c) => (await c.query(text, params)).rows),
    drop: async () => {
      await withClient(adminUrl(), async (c) => {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      });
      await dropLevelRolesOf(name);
    },
  };
}

/**
 * Drops the level roles pgcred made for a database that is gone: they are named after
 * the database's name in the file (`pgcred:read-only:sunny`), which many test files
 * share, so one left behind would be refused as another database's by the next file.
 */
export async function dropLevelRolesOf(database: string): Promise<void> {
  await withClient(adminUrl(), async (c) => {
    const { rows } = await c.query(
      `SELECT rolname FROM pg_roles WHERE shobj_description(oid, 'pg_authid') = $1`,
      [`managed by pgcred: level role of database "${database.replace(/"/g, '""')}"`],
    );
    for (const row of rows)
      await c
        .query(`DROP ROLE IF EXISTS "${String(row.rolname).replace(/"/g, '""')}"`)
        .catch(() => undefined);
  });
}

/** Drops roles made by a test; their privileges in dropped databases went with the databases. */
export async function dropRoles(names: readonly string[]): Promise<void> {
  await withClient(adminUrl(), async (c) => {
    for (const name of names) {
      await c.query(`DROP ROLE IF EXISTS "${name.replace(/"/g, '""')}"`).catch(() => undefined);
    }
  });
}

/** Logs in as a credential and runs one statement: the way a user finds out what a credential can do. */
export async function tryAs(
  url: string,
  sql: string,
): Promise<{ ok: true; rows: Record<string, unknown>[] } | { ok: false; code: string; message: string }> {
  const client = new Client({ connectionString: url });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const result = await client.query(sql);
    return { ok: true, rows: result.rows };
  } catch (error) {
    const e = error as { code?: string; message: string };
    return { ok: false, code: e.code ?? 'unknown', message: e.message };
  } finally {
    await client.end().catch(() => undefined);
  }
}
