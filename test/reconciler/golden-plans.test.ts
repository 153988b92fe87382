import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import type { CliResult } from '../harness/cli';
import { testServer } from '../harness/pg';
import { createProject, type Project } from '../harness/project';

/**
 * Golden plans: what each of pgcred's changes says and which statements it runs, in
 * order, compared whole with files under golden/. A refactor that changes a statement
 * shows here as a diff to explain; UPDATE_GOLDEN=1 writes the files anew.
 *
 * The statements are the ones that reach PostgreSQL: every query of the run is seen
 * on its way (pg itself runs them), and the role and privilege statements are kept.
 */
/**
 * PostgreSQL 16 and later take membership options and GRANTED BY; before 15 the
 * bootstrap superuser owns schema public. Those majors have goldens of their own.
 */
const MAJOR = testServer().majorVersion;
const GOLDEN = join(__dirname, 'golden', ...(MAJOR < 16 ? [`pg${MAJOR}`] : []));
const UPDATE = process.env.UPDATE_GOLDEN === '1';

// Role DDL, grants and ownership: what pgcred changes. Reads, the control store and
// transaction control are left out.
const CHANGE =
  /^\s*(CREATE ROLE|ALTER ROLE|DROP ROLE|DROP OWNED|REASSIGN OWNED|GRANT|REVOKE|COMMENT ON ROLE|ALTER DATABASE|ALTER SCHEMA|ALTER DEFAULT PRIVILEGES|ALTER (TABLE|SEQUENCE|VIEW|MATERIALIZED VIEW|FUNCTION|TYPE|DOMAIN) \S+ OWNER|SELECT count\(\*\) FILTER \(WHERE pg_terminate_backend)/;

describe('golden plans and statements', () => {
  let p: Project;
  let suffix: string;
  let analyst: string;
  let writer: string;
  let legacy: string;
  let fresh: string;
  let gone: string;
  const seen: string[] = [];
  const original = Client.prototype.query;

  const config = (levels: { analyst: string; writer: string }, extra = '') => `version: 1
databases:
  - name: sunny
    url: \${DATABASE_ADMIN_URL}
    credentials:
      - { name: ${analyst}, permission: ${levels.analyst} }
      - { name: ${writer}, permission: ${levels.writer} }
      - { name: ${legacy}, permission: read-only }
${extra}`;

  const normalise = (text: string) =>
    text
      .replaceAll(p.db.name, '<db>')
      .replaceAll(suffix, '<sfx>')
      .replace(/'SCRAM-SHA-256\$[^']*'/g, "'<verifier>'")
      .replace(/postgres:\/\/[^\s"']+/g, '<url>')
      .replace(/\/tmp\/pgcred-test-\w+/g, '<dir>')
      // How often a rotation says what it waits for depends on the clock, not on pgcred.
      .replace(/^(Waiting: .*|.*\.\.\. )\n/gm, '')
      .replace(/\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?Z?/g, '<time>');

  /** Runs a step and compares what it printed and the statements it ran with its golden file. */
  const golden = async (name: string, step: () => Promise<CliResult[]>) => {
    seen.length = 0;
    const results = await step();
    const statements = seen.filter((sql) => CHANGE.test(sql));
    const text = [
      `# ${name}`,
      '## output',
      ...results.map((r) => `$ exit ${r.status}\n${r.stdout}${r.stderr}`),
      '## statements',
      ...statements.map((sql) => `${sql.replace(/\s+/g, ' ').trim()};`),
      '',
    ].join('\n');
    const actual = normalise(text);
    const file = join(GOLDEN, `${name}.txt`);
    if (UPDATE) {
      mkdirSync(GOLDEN, { recursive: true });
      writeFileSync(file, actual);
    }
    expect(actual).toBe(readFileSync(file, 'utf8'));
  };

  beforeAll(async () => {
    p = await createProject('golden', ({ name }) => {
      analyst = name('analyst');
      writer = name('writer');
      legacy = name('legacy');
      fresh = name('fresh');
      gone = name('gone');
      return 'version: 1\ndatabases: [ { name: sunny, url: "${DATABASE_ADMIN_URL}" } ]\n';
    });
    suffix = analyst.slice('analyst_'.length);
    // Brownfield: a login role that was there before pgcred, and a table the superuser made.
    await p.db.sql(`CREATE ROLE "${legacy}" LOGIN PASSWORD 'legacy-pass'`);
    await p.db.sql('CREATE TABLE public.items (id int); CREATE SCHEMA billing');
    p.writeConfig(config({ analyst: 'read-only', writer: 'read-write' }));
    // Every query the run makes passes here on its way to pg.
    jest.spyOn(Client.prototype, 'query').mockImplementation(function (this: Client, ...args: unknown[]) {
      const first = args[0] as string | { text?: string };
      const sql = typeof first === 'string' ? first : first?.text;
      // Apply sends runs of small statements as one query, `;` on a line between them:
      // each is one line of the golden file all the same.
      if (typeof sql === 'string') seen.push(...sql.split('\n;\n'));
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof Client.prototype.query);
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await p.cleanup();
  });

  it('fresh apply of a seed-like file, adopting a role that was there', async () => {
    await golden('01-fresh-apply', async () => [await p.ok('plan'), await p.ok('apply', '--yes')]);
    // One inspection for plan, one for apply: a first apply, which creates roles, takes
    // the cluster's role-name lock before its snapshot rather than planning again under it.
    expect(seen.filter((sql) => sql.startsWith('-- Every role of the cluster')).length).toBe(2);
  });

  it('level change', async () => {
    p.writeConfig(config({ analyst: 'read-write', writer: 'read-only' }));
    await golden('02-level-change', async () => [await p.ok('plan'), await p.ok('apply', '--yes')]);
  });

  it('credentials:create', () =>
    golden('03-credentials-create', async () => [
      await p.ok('credentials:create', '--name', fresh, '--permission', 'read-only'),
    ]));

  it('credentials:permissions', () =>
    golden('04-credentials-permissions', async () => [
      await p.ok('credentials:permissions', '--name', fresh, '--level', 'read-write'),
    ]));

  it('credentials:destroy', () =>
    golden('05-credentials-destroy', async () => [
      await p.ok('credentials:destroy', '--name', fresh, '--confirm', 'sunny'),
    ]));

  it('apply --prune destroys a credential no longer declared', async () => {
    await p.ok('credentials:create', '--name', gone, '--permission', 'read-write');
    await golden('06-prune', async () => [
      await p.ok('plan', '--prune'),
      await p.ok('apply', '--prune', '--yes'),
    ]);
  });

  it('credentials:repair-default hands the superuser’s objects over', () =>
    golden('07-repair-default', async () => [
      await p.ok('credentials:repair-default', '--confirm', 'sunny'),
    ]));

  it('a rotation’s steps', () =>
    golden('08-rotation', async () => [
      await p.ok('credentials:rotate', '--name', analyst, '--grace', '1s', '--confirm', 'sunny'),
    ]));

  it('the rotation’s steps are in the audit log, with their statements', async () => {
    const audit = JSON.parse((await p.ok('audit', '--json', '--limit', '4')).stdout) as {
      action: string;
      subject: string | null;
      detail: Record<string, unknown>;
    }[];
    const text = audit
      .reverse()
      .map((entry) => `${entry.action} ${entry.subject ?? ''}\n${JSON.stringify(entry.detail, null, 2)}`)
      .join('\n');
    await golden('08-rotation-audit', async () => [{ status: 0, stdout: `${text}\n`, stderr: '' }]);
  });

  it('a forced rotation', () =>
    golden('09-rotation-force', async () => [
      await p.ok('credentials:rotate', '--name', writer, '--force', '--confirm', 'sunny'),
    ]));

  it('a rotation left at its first step, finished by reconcile', async () => {
    await golden('10-rotation-reconcile', async () => {
      const started = await p.ok(
        'credentials:rotate',
        '--name',
        analyst,
        '--grace',
        '1s',
        '--no-wait',
        '--confirm',
        'sunny',
      );
      // Each reconcile advances the rotation as far as its waits allow: run it until it ends.
      let reconciled: CliResult;
      do {
        await new Promise((resolve) => setTimeout(resolve, 300));
        reconciled = await p.ok('reconcile');
      } while (!/is complete/.test(reconciled.stderr));
      return [started, reconciled];
    });
  });

  it('drift afterwards is clean', async () => {
    const drift = await p.run('drift');
    expect(drift.status).toBe(0);
  });
});
