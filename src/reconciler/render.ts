import type { Change, Finding, FindingSeverity, Plan } from '../model/plan';
import { driftFindings, notices, responsibleFor, subjectOrder } from '../model/plan';

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
  return `${markdownBlocks(plan, options).flat().join('\n')}\n`;
}

/**
 * A markdown plan in blocks: the heading, one per credential, one per group of
 * findings, the SQL. A comment that must be cut is cut between blocks, so no
 * credential is shown half.
 */
function markdownBlocks(plan: Plan, options: RenderOptions = {}): string[][] {
  const title = options.title ?? 'pgcred plan';
  const head: string[] = [
    `### ${title}: \`${plan.database}\``,
    '',
    `${countWords(plan)} · roles and grants owned by **${plan.executor}**`,
  ];
  for (const error of plan.errors) head.push('', `> **Blocked:** ${mdEscape(error)}`);
  if (inSync(plan)) head.push('', 'No changes: the database matches the declaration.');
  const blocks: string[][] = [head];
  for (const [subject, changes] of bySubject(plan.changes)) {
    const out = ['', `#### ${mdEscape(subject)}`, ''];
    for (const change of changes) {
      // Words as well as a color: a reviewer searching the comment for "destructive" finds every one.
      out.push(
        isDestructive(change)
          ? `- 🔻 **destructive:** ${mdEscape(change.description)}`
          : `- ${MARK[change.action] === '+' ? '🟢' : '🔸'} ${mdEscape(change.description)}`,
      );
    }
    blocks.push(out);
  }
  for (const group of GROUPS) {
    const findings = findingsOf(plan, group.severity);
    if (findings.length === 0) continue;
    const out = ['', `#### ${group.heading}`, '', `_${group.why}_`, ''];
    for (const finding of findings)
      out.push(
        `- ${group.severity === 'drift' ? '⚠️' : 'ℹ️'} ${mdEscape(finding.description)} — ${mdEscape(finding.remedy)}`,
      );
    blocks.push(out);
  }
  if (plan.statements.length > 0) {
    blocks.push([
      '',
      `<details><summary>SQL: ${plan.statements.length} statement${plan.statements.length === 1 ? '' : 's'} in one transaction</summary>`,
      '',
      '```sql',
      ...planSql(plan),
      '```',
      '',
      '</details>',
    ]);
  }
  return blocks;
}

/** GitHub refuses a comment body longer than this many characters. */
export const COMMENT_LIMIT = 65_536;

/** What a plan's summary line says besides the changes: read from the control store and the declaration. */
export interface PlanSurroundings {
  /** Apps whose config vars this apply changes (a password reset, a new attachment): they restart. */
  readonly restarts?: readonly string[];
  /** Credentials with a rotation in progress. */
  readonly rotating?: readonly string[];
}

export interface CommentOptions extends RenderOptions {
  /** Where a reader finds the whole plan when the comment is cut. */
  readonly fullPlan?: string;
  readonly limit?: number;
  readonly surroundings?: ReadonlyMap<string, PlanSurroundings>;
}

/** One line per database: who gains or loses what, which apps restart, what rotates; destructive flagged. */
export function summaryLine(plan: Plan, around: PlanSurroundings = {}): string {
  const destructive = plan.changes.some(isDestructive);
  const mark = plan.errors.length > 0 ? '⛔' : destructive ? '🔻' : plan.changes.length > 0 ? '🟢' : '✅';
  const who: string[] = [];
  const subjects = bySubject(plan.changes);
  for (const [subject, changes] of subjects.slice(0, 6)) {
    const count = (marks: string[]) => changes.filter((c) => marks.includes(MARK[c.action])).length;
    const words = [
      [count(['+']), 'gains'],
      [count(['-']), 'loses'],
      [count(['~']), 'changes'],
    ]
      .filter(([n]) => (n as number) > 0)
      .map(([n, verb]) => `${verb} ${n}`);
    if (count(['-/+']) > 0) words.push('password reset');
    const flagged = changes.some(isDestructive) ? ' (**destructive**)' : '';
    who.push(`${mdEscape(subject)} ${words.join(', ')}${flagged}`);
  }
  if (subjects.length > 6) who.push(`${subjects.length - 6} more`);
  const parts = [`${mark} \`${plan.database}\`: ${countWords(plan)}`];
  if (plan.errors.length > 0) parts.push(`**blocked:** ${mdEscape(plan.errors[0]!)}`);
  if (who.length > 0) parts.push(who.join('; '));
  if (around.restarts?.length)
    parts.push(`apps restart: ${around.restarts.map((a) => `⬢ ${mdEscape(a)}`).join(', ')}`);
  if (around.rotating?.length) parts.push(`rotating: ${around.rotating.map(mdEscape).join(', ')}`);
  return `- ${parts.join(' · ')}`;
}

/**
 * A whole plan as one pull-request comment: a summary line per database first,
 * each database's details folded, and, past the comment limit, cut between two
 * credentials with a line that says where the full plan is.
 */
export function renderMarkdownComment(plans: readonly Plan[], options: CommentOptions = {}): string {
  const limit = options.limit ?? COMMENT_LIMIT;
  const title = options.title ?? 'pgcred plan';
  const lines = [
    `## ${title}`,
    '',
    ...plans.map((p) => summaryLine(p, options.surroundings?.get(p.database))),
  ];
  let length = lines.join('\n').length;
  // Room for the closing tag and the line that says where the rest is.
  const reserve = 600 + (options.fullPlan?.length ?? 0);
  let cut: { database: string; at: string; left: number } | undefined;
  for (const plan of plans) {
    if (cut) break;
    const open = [
      '',
      `<details><summary><b>${mdEscape(plan.database)}</b>: ${countWords(plan)}</summary>`,
      '',
    ];
    const blocks = markdownBlocks(plan, { title });
    const size = (block: string[]) => block.join('\n').length + 1;
    if (length + size(open) + size(blocks[0]!) + reserve > limit) {
      // Headings are escaped already; cut.at goes into the line as it is.
      cut = { database: plan.database, at: 'its details', left: blocks.length };
      break;
    }
    lines.push(...open);
    length += size(open);
    for (const [i, block] of blocks.entries()) {
      if (length + size(block) + reserve > limit) {
        const heading = block.find((line) => line.startsWith('#### ') || line.startsWith('<details>')) ?? '';
        cut = {
          database: plan.database,
          at: heading.startsWith('#### ') ? heading.slice(5) : 'the SQL',
          left: blocks.length - i,
        };
        break;
      }
      lines.push(...block);
      length += size(block);
    }
    lines.push('', '</details>');
    length += 12;
  }
  if (cut) {
    const where = options.fullPlan ?? 'run `pgcred plan` for the whole plan';
    lines.push(
      '',
      `> ✂️ **Cut to fit a pull-request comment (${limit.toLocaleString('en-US')} characters)** before ${cut.at} of \`${cut.database}\`: ${cut.left} section${cut.left === 1 ? '' : 's'} of it and the databases after it are not shown. The full plan: ${where}`,
    );
  }
  return `${lines.join('\n')}\n`;
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
