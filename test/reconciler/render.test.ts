import type { Change, ChangeAction, Finding, Plan } from '../../src/model/plan';
import { diff } from '../../src/reconciler/diff';
import { changeLine, planJson, renderMarkdown, renderText } from '../../src/reconciler/render';
import { desired, liveState, managed } from './live-fixture';

/** A change as the diff would make it; only what rendering reads matters. */
function change(
  subject: string,
  action: ChangeAction,
  description: string,
  over: Partial<Change> = {},
): Change {
  return {
    id: 0,
    action,
    subject,
    target: 'x',
    description,
    destructive: false,
    statement: 0,
    sql: 'SELECT 1',
    ...over,
  };
}

function finding(severity: Finding['severity'], description: string, remedy: string): Finding {
  return {
    kind: severity === 'drift' ? 'foreign-owner' : 'unmanaged-role',
    severity,
    subject: 's',
    description,
    remedy,
  };
}

function plan(over: Partial<Plan> = {}): Plan {
  return {
    database: 'sunny',
    executor: 'pgcred',
    changes: [],
    statements: [],
    findings: [],
    errors: [],
    ...over,
  };
}

/** A plan like the README's under "Plan, apply, drift" (test/cli/readme-samples.test.ts makes that one for real). */
const README_PLAN = plan({
  database: 'postgresql-sunny-1234',
  changes: [
    change('analyst', 'grant', 'gains SELECT on all tables in schema billing (12 tables)', { statement: 1 }),
    change(
      'analyst',
      'revoke',
      'loses INSERT on all tables in schema public (INSERT held on 1 of 40: public.notes)',
      { destructive: true, statement: 0 },
    ),
    change('analyst', 'reset-password', 'password was changed outside pgcred', {
      destructive: true,
      statement: 2,
    }),
  ],
  statements: [
    { sql: 'REVOKE INSERT ON ALL TABLES IN SCHEMA "public" FROM "analyst"', changes: [1] },
    { sql: 'GRANT SELECT ON ALL TABLES IN SCHEMA "billing" TO "analyst"', changes: [0] },
    { sql: `ALTER ROLE "analyst" PASSWORD :'password'`, passwordFor: 'analyst', changes: [2] },
  ],
  findings: [
    finding(
      'notice',
      'role shop_app is not managed by pgcred and holds CONNECT on database postgresql-sunny-1234',
      'pgcred never changes it: declare it as a credential, drop it, or list it under ignoreRoles',
    ),
  ],
});

describe('plan rendering', () => {
  const live = liveState({ extraRoles: [managed('analyst')], levelRoles: false });
  const want = (executor: 'pgcred' | 'terraform') =>
    desired({
      executor,
      credentials: [{ name: 'analyst', access: { kind: 'level', level: 'read-only' } }],
      passwords: new Map([['analyst', 'changed']]),
    });

  it('groups changes by credential with the SQL after, and never a password', () => {
    const text = renderText(diff(want('pgcred'), live));
    expect(text).toMatch(
      /^Plan for app \(roles and grants owned by pgcred\): \d+ changes, 1 destructive, 0 drift findings, 0 notices\n/,
    );
    expect(text).toContain('\nanalyst\n! -/+ password was changed outside pgcred');
    expect(text).toContain(`ALTER ROLE "analyst" PASSWORD :'password';`);
    expect(text).not.toContain('belong to roles and grants that terraform owns');
  });

  it('says who repairs what when terraform owns roles and grants', () => {
    const plan = diff(want('terraform'), live);
    expect(renderText(plan)).toMatch(
      /\d+ of these changes belong to roles and grants that terraform owns here: cdktf deploy/,
    );
    const json = planJson(plan);
    expect(json.changes.find((c) => c.action === 'reset-password')?.responsible).toBe('pgcred');
    expect(json.changes.find((c) => c.action === 'grant')?.responsible).toBe('terraform');
  });

  it('renders markdown for a pull request: words per credential, SQL folded', () => {
    const md = renderMarkdown(diff(want('pgcred'), live));
    expect(md).toContain('### pgcred plan: `app`');
    expect(md).toContain('#### analyst');
    expect(md).toContain('#### level read-only');
    expect(md).toContain('- 🟢 gains USAGE on schema public (level role pgcred:read-only:app, for analyst)');
    expect(md).toContain('- 🔻 **destructive:** password was changed outside pgcred');
    expect(md).toMatch(/<details><summary>SQL: \d+ statements in one transaction<\/summary>\n\n```sql\n/);
  });
});

describe('destructive changes are marked in the first column', () => {
  it.each<[string, ChangeAction, boolean, string]>([
    ['a grant', 'grant', false, '    + gains SELECT'],
    ['a new role', 'create', false, '    + gains SELECT'],
    ['a membership', 'grant-membership', false, '    + gains SELECT'],
    ['an attribute set in place', 'alter', false, '    ~ gains SELECT'],
    ['an adoption', 'adopt', false, '    ~ gains SELECT'],
    ['an owner handed over', 'set-owner', false, '    ~ gains SELECT'],
    ['a revoke', 'revoke', true, '!   - gains SELECT'],
    ['a membership revoked', 'revoke-membership', true, '!   - gains SELECT'],
    ['a drop', 'drop', true, '!   - gains SELECT'],
    ['a revoke the diff calls harmless', 'revoke', false, '    - gains SELECT'],
    ['a password reset', 'reset-password', true, '! -/+ gains SELECT'],
    // The old password stops working whatever the flag says.
    ['a password reset not flagged', 'reset-password', false, '! -/+ gains SELECT'],
    ['an attribute change flagged destructive', 'alter', true, '!   ~ gains SELECT'],
  ])('%s', (_what, action, destructive, line) => {
    expect(changeLine(change('analyst', action, 'gains SELECT', { destructive }))).toBe(line);
  });

  it('only destructive lines and the legend start with !', () => {
    const text = renderText(README_PLAN);
    const marked = text.split('\n').filter((line) => line.startsWith('!'));
    expect(marked).toEqual([
      '!   - loses INSERT on all tables in schema public (INSERT held on 1 of 40: public.notes)',
      '! -/+ password was changed outside pgcred',
      '! marks a destructive change: access, a role or a password that someone may rely on goes away.',
    ]);
  });
});

describe('summary line and finding groups', () => {
  const drift = finding('drift', 'analyst_2, not the default credential, owns 1 table', 'run repair-default');
  const notice = finding(
    'notice',
    'pgcred does not know the password of the default credential (owner)',
    'hand it over',
  );
  const grant = change('analyst', 'grant', 'gains SELECT on all tables in schema public (3 tables)');
  const revoke = change('analyst', 'revoke', 'loses INSERT on all tables in schema public', {
    destructive: true,
  });

  it.each<[string, Partial<Plan>, string]>([
    ['nothing at all', {}, '0 changes, 0 drift findings, 0 notices'],
    ['one notice', { findings: [notice] }, '0 changes, 0 drift findings, 1 notice'],
    ['one drift finding', { findings: [drift] }, '0 changes, 1 drift finding, 0 notices'],
    ['both, counted apart', { findings: [notice, drift, notice] }, '0 changes, 1 drift finding, 2 notices'],
    ['a change', { changes: [grant] }, '1 change, 0 drift findings, 0 notices'],
    [
      'a destructive change',
      { changes: [grant, revoke] },
      '2 changes, 1 destructive, 0 drift findings, 0 notices',
    ],
  ])('%s', (_what, over, summary) => {
    const p = plan(over);
    expect(renderText(p).split('\n')[0]).toBe(
      `Plan for sunny (roles and grants owned by pgcred): ${summary}`,
    );
    expect(renderMarkdown(p).split('\n')[2]).toBe(`${summary} · roles and grants owned by **pgcred**`);
  });

  it('text: drift under Drift, notices under Notices, and notices alone still read as in sync', () => {
    expect(renderText(plan({ findings: [notice, drift] }), { title: 'Drift' })).toBe(
      `Drift for sunny (roles and grants owned by pgcred): 0 changes, 1 drift finding, 1 notice

Drift (apply does not repair these; drift exits 2):
  • analyst_2, not the default credential, owns 1 table
    → run repair-default

Notices (standing conditions that need a person once; drift exits 0 unless --strict):
  • pgcred does not know the password of the default credential (owner)
    → hand it over
`,
    );
    expect(renderText(plan({ findings: [notice] }), { title: 'Drift' })).toBe(
      `Drift for sunny (roles and grants owned by pgcred): 0 changes, 0 drift findings, 1 notice
  No changes: the database matches the declaration.

Notices (standing conditions that need a person once; drift exits 0 unless --strict):
  • pgcred does not know the password of the default credential (owner)
    → hand it over
`,
    );
  });

  it('markdown: the same two groups, and destructive lines say so in words', () => {
    expect(renderMarkdown(plan({ changes: [grant, revoke], findings: [drift, notice] }))).toBe(
      `### pgcred plan: \`sunny\`

2 changes, 1 destructive, 1 drift finding, 1 notice · roles and grants owned by **pgcred**

#### analyst

- 🟢 gains SELECT on all tables in schema public (3 tables)
- 🔻 **destructive:** loses INSERT on all tables in schema public

#### Drift

_apply does not repair these; drift exits 2_

- ⚠️ analyst\\_2, not the default credential, owns 1 table — run repair-default

#### Notices

_standing conditions that need a person once; drift exits 0 unless --strict_

- ℹ️ pgcred does not know the password of the default credential (owner) — hand it over
`,
    );
  });

  it('JSON: findings keep their place and carry their severity; the summary counts both', () => {
    const json = planJson(plan({ changes: [grant, revoke], findings: [drift, notice, notice] }));
    expect(json.summary).toEqual({
      changes: 2,
      destructive: 1,
      findings: 3,
      drift: 1,
      notices: 2,
      statements: 0,
    });
    expect(json.findings.map((f) => f.severity)).toEqual(['drift', 'notice', 'notice']);
    expect(json.changes.map((c) => c.destructive)).toEqual([false, true]);
  });

  it('JSON: a password reset counts as destructive even when the diff did not flag it', () => {
    const reset = change('analyst', 'reset-password', 'password was changed outside pgcred');
    const json = planJson(plan({ changes: [reset] }));
    expect(json.summary.destructive).toBe(1);
    expect(json.changes[0]?.destructive).toBe(true);
  });
});
