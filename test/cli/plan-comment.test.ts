import { COMMENT_LIMIT, renderMarkdownComment } from '../../src/reconciler/render';
import { createProject, type Project } from '../harness/project';

/**
 * GIVEN 60 credentials over 100 schemas WHEN the plan is printed as markdown
 * THEN it fits one pull-request comment: summary first, details folded, cut
 * between two credentials with a line saying where the full plan is.
 */
describe('a markdown plan fits one pull-request comment', () => {
  let p: Project;
  const names: string[] = [];

  beforeAll(async () => {
    p = await createProject('comment', ({ name }) => {
      // Roles are cluster-wide: a default credential of its own, not the name derived from "sunny".
      const owner = name('owner');
      const levels = ['read-only', 'read-write', 'none'];
      const lines = Array.from({ length: 60 }, (_, i) => {
        const n = name(`c${String(i).padStart(2, '0')}`);
        names.push(n);
        return `      - { name: ${n}, permission: ${levels[i % 3]} }`;
      });
      return `version: 1
databases:
  - name: sunny
    url: \${DATABASE_ADMIN_URL}
    owner: ${owner}
    credentials:
${lines.join('\n')}
`;
    });
    const ddl = Array.from(
      { length: 100 },
      (_, i) => `CREATE SCHEMA s${i}; CREATE TABLE s${i}.t (id int); CREATE SEQUENCE s${i}.q;`,
    );
    await p.db.sql(ddl.join('\n'));
  });
  afterAll(async () => {
    await p.cleanup();
  });

  it('the plan of 60 credentials over 100 schemas: under 65,536 characters, summary first, cut at a credential', async () => {
    const whole = await p.ok('plan', '--format', 'text');
    // The whole plan is far larger than a comment: the cut is needed.
    expect(whole.stdout.length).toBeGreaterThan(COMMENT_LIMIT);

    const md = (
      await p.ok('plan', '--format', 'markdown', '--full-plan', 'the pgcred-plan artifact of this run')
    ).stdout;
    expect(md.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    const lines = md.split('\n');
    expect(lines[0]).toBe('## pgcred plan');
    expect(lines[2]).toMatch(
      /^- 🔻 `sunny`: \d+ changes, \d+ destructive, 0 drift findings, \d+ notices? · default gains \d+, changes \d+; c00\\_\w+ gains \d+; .*; \d+ more$/,
    );
    expect(lines[3]).toMatch(/^<details>|^$/);
    expect(md.indexOf('<details><summary><b>sunny</b>')).toBeGreaterThan(md.indexOf('`sunny`:'));

    // Cut between two credentials: every credential heading shown has all its lines, the next is absent.
    const cut = lines.find((line) => line.startsWith('> ✂️'));
    expect(cut).toMatch(
      /^> ✂️ \*\*Cut to fit a pull-request comment \(65,536 characters\)\*\* before (?:c\d\d\\_\w+|level read-only) of `sunny`: \d+ sections of it and the databases after it are not shown\. The full plan: the pgcred-plan artifact of this run$/,
    );
    const shown = lines.filter((l) => l.startsWith('#### ')).map((l) => l.slice(5).replace(/\\_/g, '_'));
    expect(shown[0]).toBe('default');
    shown.shift();
    expect(shown.length).toBeGreaterThan(0);
    expect(shown).toEqual(names.slice(0, shown.length));
    // The level roles' sections come after the credentials'.
    const before = cut!.match(/before (c\d\d\\_\w+|level read-only) of/)![1]!.replace(/\\_/g, '_');
    expect(before).toBe(names[shown.length] ?? 'level read-only');
    const lastShown = whole.stdout.split('\n\n').find((section) => section.startsWith(`${shown.at(-1)}\n`))!;
    const lastLines = lastShown.split('\n').length - 1;
    const lastInComment = md.slice(md.indexOf(`#### ${shown.at(-1)!.replace(/_/g, '\\_')}`)).split('\n');
    expect(lastInComment.filter((l) => l.startsWith('- ')).length).toBe(lastLines);
    // The details are closed, so the comment renders as one block.
    expect(md.split('<details>').length).toBe(md.split('</details>').length);
  });

  it('a small plan is not cut, and many databases get one summary line each before any detail', () => {
    const plan = (database: string) => ({
      database,
      executor: 'pgcred' as const,
      changes: [
        {
          id: 0,
          action: 'reset-password' as const,
          subject: 'billing',
          target: 'password',
          description: 'password was changed outside pgcred',
          destructive: true,
          statement: 0,
          sql: 'ALTER ROLE "billing" PASSWORD :\'password\'',
        },
      ],
      statements: [
        { sql: 'ALTER ROLE "billing" PASSWORD :\'password\'', passwordFor: 'billing', changes: [0] },
      ],
      findings: [],
      errors: [],
    });
    const md = renderMarkdownComment([plan('sunny'), plan('rainy')], {
      surroundings: new Map([['sunny', { restarts: ['example-app'], rotating: ['analyst'] }]]),
    });
    expect(md.split('\n').slice(0, 4)).toEqual([
      '## pgcred plan',
      '',
      '- 🔻 `sunny`: 1 change, 1 destructive, 0 drift findings, 0 notices · billing password reset (**destructive**) · apps restart: ⬢ example-app · rotating: analyst',
      '- 🔻 `rainy`: 1 change, 1 destructive, 0 drift findings, 0 notices · billing password reset (**destructive**)',
    ]);
    expect(md).not.toContain('✂️');
    expect(md).toContain('- 🔻 **destructive:** password was changed outside pgcred');
  });
});
