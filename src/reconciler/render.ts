import type { Change, Finding, Plan } from './plan';
import { responsibleFor, subjectOrder } from './plan';

const MARK: Record<Change['action'], string> = {
  create: '+',
  adopt: '~',
  alter: '~',
  'reset-password': '~',
  grant: '+',
  revoke: '-',
  'grant-membership': '+',
  'revoke-membership': '-',
  'set-owner': '~',
  drop: '-',
};

function bySubject<T extends { subject: string }>(items: readonly T[]): [string, T[]][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const list = groups.get(item.subject) ?? [];
    list.push(item);
    groups.set(item.subject, list);
  }
  return [...groups].sort(([a], [b]) => subjectOrder(a, b));
}

function countWords(plan: Plan): string {
  const destructive = plan.changes.filter((c) => c.destructive).length;
  const parts = [`${plan.changes.length} change${plan.changes.length === 1 ? '' : 's'}`];
  if (destructive > 0) parts.push(`${destructive} destructive`);
  parts.push(`${plan.findings.length} finding${plan.findings.length === 1 ? '' : 's'}`);
  return parts.join(', ');
}

/** One line per SQL statement, ending in a semicolon: what a reviewer pastes into psql. */
export function planSql(plan: Plan): string[] {
  return plan.statements.map((statement) => `${statement.sql};`);
}

export interface RenderOptions {
  /** `Plan` or `Drift`: the heading. */
  readonly title?: string;
}

export function renderText(plan: Plan, options: RenderOptions = {}): string {
  const title = options.title ?? 'Plan';
  const lines: string[] = [
    `${title} for ${plan.database} (roles and grants owned by ${plan.executor}): ${countWords(plan)}`,
  ];
  for (const error of plan.errors) lines.push(`  ✖ ${error}`);
  if (plan.changes.length === 0 && plan.findings.length === 0 && plan.errors.length === 0) {
    lines.push('  No changes: the database matches the declaration.');
  }
  for (const [subject, changes] of bySubject(plan.changes)) {
    lines.push('', subject);
    for (const change of changes) lines.push(`  ${MARK[change.action]} ${change.description}`);
  }
  const terraformOwned = plan.changes.filter((c) => responsibleFor(plan, c) === 'terraform').length;
  if (terraformOwned > 0) {
    lines.push(
      '',
      `${terraformOwned} of these change${terraformOwned === 1 ? '' : 's'} belong${terraformOwned === 1 ? 's' : ''} to roles and grants that terraform owns here: cdktf deploy (terraform apply) repairs them.`,
    );
  }
  if (plan.findings.length > 0) {
    lines.push('', 'Findings (apply does not change these):');
    for (const finding of plan.findings) lines.push(`  ! ${finding.description}`, `    → ${finding.remedy}`);
  }
  if (plan.statements.length > 0) {
    lines.push(
      '',
      `SQL (${plan.statements.length} statement${plan.statements.length === 1 ? '' : 's'}, one transaction):`,
    );
    for (const sql of planSql(plan)) lines.push(`  ${sql}`);
  }
  return `${lines.join('\n')}\n`;
}

function mdEscape(text: string): string {
  return text.replace(/([\\`*_{}[\]<>|])/g, '\\$1');
}

/** For a pull-request comment: who gains and loses what, in words, then the SQL folded away. */
export function renderMarkdown(plan: Plan, options: RenderOptions = {}): string {
  const title = options.title ?? 'pgcred plan';
  const out: string[] = [
    `### ${title}: \`${plan.database}\``,
    '',
    `${countWords(plan)} · roles and grants owned by **${plan.executor}**`,
  ];
  for (const error of plan.errors) out.push('', `> **Blocked:** ${mdEscape(error)}`);
  if (plan.changes.length === 0 && plan.findings.length === 0 && plan.errors.length === 0) {
    out.push('', 'No changes: the database matches the declaration.');
  }
  for (const [subject, changes] of bySubject(plan.changes)) {
    out.push('', `#### ${mdEscape(subject)}`, '');
    for (const change of changes) {
      const icon = change.destructive ? '🔻' : MARK[change.action] === '+' ? '🟢' : '🔸';
      out.push(`- ${icon} ${mdEscape(change.description)}`);
    }
  }
  if (plan.findings.length > 0) {
    out.push('', '#### Findings', '', '_apply does not change these_', '');
    for (const finding of plan.findings)
      out.push(`- ⚠️ ${mdEscape(finding.description)} — ${mdEscape(finding.remedy)}`);
  }
  if (plan.statements.length > 0) {
    out.push(
      '',
      `<details><summary>SQL: ${plan.statements.length} statement${plan.statements.length === 1 ? '' : 's'} in one transaction</summary>`,
      '',
      '```sql',
      ...planSql(plan),
      '```',
      '',
      '</details>',
    );
  }
  return `${out.join('\n')}\n`;
}

export interface PlanJson {
  readonly database: string;
  readonly executor: string;
  readonly summary: { changes: number; destructive: number; findings: number; statements: number };
  readonly errors: readonly string[];
  readonly changes: readonly (Change & { responsible: string })[];
  readonly findings: readonly Finding[];
  readonly sql: readonly string[];
}

export function planJson(plan: Plan): PlanJson {
  return {
    database: plan.database,
    executor: plan.executor,
    summary: {
      changes: plan.changes.length,
      destructive: plan.changes.filter((c) => c.destructive).length,
      findings: plan.findings.length,
      statements: plan.statements.length,
    },
    errors: plan.errors,
    changes: plan.changes.map((change) => ({ ...change, responsible: responsibleFor(plan, change) })),
    findings: plan.findings,
    sql: planSql(plan),
  };
}
