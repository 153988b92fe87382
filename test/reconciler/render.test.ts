import { diff } from '../../src/reconciler/diff';
import { planJson, renderMarkdown, renderText } from '../../src/reconciler/render';
import { desired, liveState, managed } from './live-fixture';

describe('plan rendering', () => {
  const live = liveState({ extraRoles: [managed('analyst')] });
  const want = (executor: 'pgcred' | 'terraform') =>
    desired({
      executor,
      credentials: [{ name: 'analyst', access: { kind: 'level', level: 'read-only' } }],
      passwords: new Map([['analyst', 'changed']]),
    });

  it('groups changes by credential with the SQL after, and never a password', () => {
    const text = renderText(diff(want('pgcred'), live));
    expect(text).toMatch(
      /^Plan for app \(roles and grants owned by pgcred\): \d+ changes, 1 destructive, 0 findings/,
    );
    expect(text).toContain('\nanalyst\n  ~ password was changed outside pgcred');
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
    expect(md).toContain('- 🟢 gains USAGE on schema public');
    expect(md).toMatch(/<details><summary>SQL: \d+ statements in one transaction<\/summary>\n\n```sql\n/);
  });
});
