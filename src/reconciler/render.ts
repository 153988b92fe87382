import type { Change, Finding, FindingSeverity, Plan } from './plan';
import { driftFindings, notices, responsibleFor, subjectOrder } from './plan';

/**
 * Terraform's markers: + adds, ~ changes in place, - takes away, -/+ replaces (a
 * password reset: the old one stops working, as a replaced resource does).
 */
const MARK: Record<Change['action'], string> = {
  create: '+',
  adopt: '~',
  alter: '~',
  'reset-password': '-/+',
  grant: '+',
  revoke: '-',
  'grant-membership': '+',
  'revoke-membership': '-',
  'set-owner': '~',
  drop: '-',
};

/** A password reset breaks whoever holds the old password, whatever the diff says of it. */
export function isDestructive(change: Change): boolean {
  return change.destructive || change.action === 'reset-password';
}

/**
 * One change as a text plan prints it: `!` in the first column for a destructive
 * change, so `grep '^!'` lists what a reviewer must weigh; the marker right-aligned
 * in the next four, as Terraform aligns `-/+` with `+`.
 */
export function changeLine(change: Change): string {
  return `${isDestructive(change) ? '!' : ' '}${MARK[change.action].padStart(4)} ${change.description}`;
}

const DESTRUCTIVE_LEGEND =
  '! marks a destructive change: access, a role or a password that someone may rely on goes away.';

const GROUPS: readonly { severity: FindingSeverity; heading: string; why: string }[] = [
  { severity: 'drift', heading: 'Drift', why: 'apply does not repair these; drift exits 2' },
  {
    severity: 'notice',
    heading: 'Notices',
    why: 'standing conditions that need a person once; drift exits 0 unless --strict',
  },
];

function findingsOf(plan: Plan, severity: FindingSeverity): Finding[] {
  return severity === 'drift' ? driftFindings(plan) : notices(plan);
}

function bySubject<T extends { subject: string }>(items: readonly T[]): [string, T[]][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const list = groups.get(item.subject) ?? [];
    list.push(item);
    groups.set(item.subject, list);
  }
  return [...groups].sort(([a], [b]) => subjectOrder(a, b));
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function countWords(plan: Plan): string {
  const destructive = plan.changes.filter(isDestructive).length;
  const parts = [plural(plan.changes.length, 'change')];
  if (destructive > 0) parts.push(`${destructive} destructive`);
  parts.push(plural(driftFindings(plan).length, 'drift finding'), plural(notices(plan).length, 'notice'));
  return parts.join(', ');
}

/** In sync: nothing to change and nothing drifted (notices may remain: they are not drift). */
function inSync(plan: Plan): boolean {
  return plan.changes.length === 0 && driftFindings(plan).length === 0 && plan.errors.length === 0;
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
  if (inSync(plan)) lines.push('  No changes: the database matches the declaration.');
  for (const [subject, changes] of bySubject(plan.changes)) {
    lines.push('', subject);
    for (const change of changes) lines.push(changeLine(change));
  }
  if (plan.changes.some(isDestructive)) lines.push('', DESTRUCTIVE_LEGEND);
  const terraformOwned = plan.changes.filter((c) => responsibleFor(plan, c) === 'terraform').length;
  if (terraformOwned > 0) {
    lines.push(
      '',
      `${terraformOwned} of these change${terraformOwned === 1 ? '' : 's'} belong${terraformOwned === 1 ? 's' : ''} to roles and grants that terraform owns here: cdktf deploy (terraform apply) repairs them.`,
    );
  }
  for (const group of GROUPS) {
    const findings = findingsOf(plan, group.severity);
    if (findings.length === 0) continue;
    lines.push('', `${group.heading} (${group.why}):`);
    for (const finding of findings) lines.push(`  • ${finding.description}`, `    → ${finding.remedy}`);
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
  if (inSync(plan)) out.push('', 'No changes: the database matches the declaration.');
  for (const [subject, changes] of bySubject(plan.changes)) {
    out.push('', `#### ${mdEscape(subject)}`, '');
    for (const change of changes) {
      // Words as well as a color: a reviewer searching the comment for "destructive" finds every one.
      out.push(
        isDestructive(change)
          ? `- 🔻 **destructive:** ${mdEscape(change.description)}`
          : `- ${MARK[change.action] === '+' ? '🟢' : '🔸'} ${mdEscape(change.description)}`,
      );
    }
  }
  for (const group of GROUPS) {
    const findings = findingsOf(plan, group.severity);
    if (findings.length === 0) continue;
    out.push('', `#### ${group.heading}`, '', `_${group.why}_`, '');
    for (const finding of findings)
      out.push(
        `- ${group.severity === 'drift' ? '⚠️' : 'ℹ️'} ${mdEscape(finding.description)} — ${mdEscape(finding.remedy)}`,
      );
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
  readonly summary: {
    changes: number;
    destructive: number;
    /** drift + notices. */
    findings: number;
    drift: number;
    notices: number;
    statements: number;
  };
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
      destructive: plan.changes.filter(isDestructive).length,
      findings: plan.findings.length,
      drift: driftFindings(plan).length,
      notices: notices(plan).length,
      statements: plan.statements.length,
    },
    errors: plan.errors,
    changes: plan.changes.map((change) => ({
      ...change,
      destructive: isDestructive(change),
      responsible: responsibleFor(plan, change),
    })),
    findings: plan.findings,
    sql: planSql(plan),
  };
}
