/**
 * Statistics and the BENCHMARKS.md the benchmark writes. Every ratio is between
 * runs of the same benchmark process on the same machine, never against a figure
 * from elsewhere.
 */
import type { Sample } from './processes';

export interface Measured {
  /** What ran: pgcred, or a baseline's name. */
  readonly label: string;
  readonly samples: readonly Sample[];
  /** Runs stopped at the time limit (their time counts as the limit). */
  readonly cut?: number;
  /**
   * Whether it left pgcred's end state: `same` form (every privilege held by the same
   * roles, the same roles and memberships), `same access` in another form (what each
   * credential can do, directly or through a role it inherits, is equal), the same
   * access on relations only, or different.
   */
  readonly endState?: 'same' | 'same access' | 'same access on relations' | 'different';
}

export interface CaseResult {
  readonly size: string;
  readonly name: string;
  readonly measured: readonly Measured[];
}

export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, runs: sorted.length };
}

export function medianMs(m: Measured | undefined): number {
  return m ? summarize(m.samples.map((s) => s.ms)).median : Number.NaN;
}

export function seconds(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

function spread(s: Summary): string {
  if (s.runs < 2) return 'one run';
  return `${seconds(s.min)} to ${seconds(s.max)}`;
}

export function ratio(a: number, b: number): string {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return 'n/a';
  const r = a / b;
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}x`;
}

export interface Target {
  readonly what: string;
  readonly measured: string;
  readonly met: boolean;
  /** Why, when it is missed: what bounds it. */
  readonly note?: string;
}

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/** One row per thing measured in a case. */
export function caseRows(c: CaseResult): string[][] {
  const pgcred = c.measured.find((m) => m.label === 'pgcred');
  const base = medianMs(pgcred);
  return c.measured.map((m) => {
    const s = summarize(m.samples.map((x) => x.ms));
    const first = m.samples[0];
    const rss = m.samples.filter((x) => x.maxRssKb !== undefined).map((x) => x.maxRssKb!);
    return [
      c.size,
      c.name,
      m.label,
      `${m.cut ? '> ' : ''}${seconds(s.median)}`,
      spread(s),
      String(s.runs),
      first ? String(first.roundTrips) : '',
      first ? String(first.statements) : '',
      rss.length ? `${Math.round(Math.max(...rss) / 1024)} MB` : '',
      m.label === 'pgcred' ? '' : `${m.cut ? '> ' : ''}${ratio(s.median, base)}`,
      m.endState ?? '',
    ];
  });
}

export const CASE_HEADER = [
  'size',
  'case',
  'who',
  'median',
  'spread (min to max)',
  'runs',
  'round trips',
  'statements',
  'peak memory',
  'its time / pgcred',
  'end state vs pgcred',
];
