import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CliResult, configDir, pgcred, testKey } from './cli';
import { createTestDatabase, dropRoles, type TestDatabase, uniqueName } from './pg';

export interface Project {
  readonly dir: string;
  readonly db: TestDatabase;
  readonly env: NodeJS.ProcessEnv;
  /** A name made unique for this project (roles are cluster-wide). */
  readonly name: (base: string) => string;
  run(...args: string[]): Promise<CliResult>;
  /** Runs a command and fails the test with its stderr when it does not exit 0. */
  ok(...args: string[]): Promise<CliResult>;
  /** The URL of a credential, as `pgcred credentials:url` prints it. */
  urlOf(credential: string): Promise<string>;
  writeConfig(yaml: string): void;
  cleanup(): Promise<void>;
}

/**
 * A database of its own on the test server, a pgcred.yaml in a directory of its
 * own, and a master key of its own: one user's infra repo.
 */
export async function createProject(
  prefix: string,
  yaml: (p: { url: string; name: (b: string) => string }) => string,
): Promise<Project> {
  const db = await createTestDatabase(prefix);
  const suffix = uniqueName('').slice(1);
  const made = new Set<string>();
  const name = (base: string) => {
    const n = `${base}_${suffix}`;
    made.add(n);
    return n;
  };
  // Test files share one cluster and many declare a database `sunny`: the default
  // credential pgcred would derive from that name is one role, which a second database
  // may not take over. A real infra repo names its owner or its databases apart; each
  // project here gets an owner of its own unless its file names one.
  const personal = (text: string) => {
    if (/\bowner:/.test(text)) return text;
    const ownerOf = (database: string) =>
      name(`owner_${database.replace(/[^A-Za-z0-9_]/g, '_')}`.slice(0, 40));
    return text
      .replace(
        /\{(\s*)name:\s*([^,}\s]+),(\s*)url:/g,
        (_m, a, db, b) => `{${a}name: ${db}, owner: ${ownerOf(db)},${b}url:`,
      )
      .replace(
        /(\n(\s*)- name: ([^\n]+)\n)(\s+)url:/g,
        (_m, line, _i, db, indent) => `${line}${indent}owner: ${ownerOf(db.trim())}\n${indent}url:`,
      );
  };
  const dir = configDir(personal(yaml({ url: '${DATABASE_ADMIN_URL}', name })));
  const env = { DATABASE_ADMIN_URL: db.url, PGCRED_MASTER_KEY: testKey() };
  const project: Project = {
    dir,
    db,
    env,
    name,
    run: (...args) => pgcred(args, { cwd: dir, env }),
    ok: async (...args) => {
      const result = await pgcred(args, { cwd: dir, env });
      if (result.status !== 0)
        throw new Error(
          `pgcred ${args.join(' ')} exited ${result.status}:\n${result.stderr}${result.stdout}`,
        );
      return result;
    },
    urlOf: async (credential) => {
      const result = await project.ok('credentials:url', '--name', credential);
      const line = result.stdout.split('\n').find((l) => l.trim().startsWith('postgres://'));
      if (!line) throw new Error(`no URL in:\n${result.stdout}`);
      return line.trim();
    },
    writeConfig: (text) => writeFileSync(join(dir, 'pgcred.yaml'), personal(text)),
    cleanup: async () => {
      const owners = await db.sql(
        `SELECT r.rolname FROM pg_roles r WHERE shobj_description(r.oid, 'pg_authid') LIKE $1`,
        [`%of database "${db.name}"%`],
      );
      await db.drop();
      await dropRoles(
        [...made, ...owners.map((r) => r.rolname as string)].flatMap((n) => [`${n}-rotating`, n]),
      );
    },
  };
  return project;
}
