import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The README's sample outputs, each fenced block marked by the HTML comment
 * `<!-- sample: NAME -->` (or `<!-- sample: NAME (excerpt) -->` for lines cut out of a
 * longer output) on the line before it. The README is the golden: tests compare what
 * pgcred prints with these blocks, and `PGCRED_README_REBASE=1` writes what it printed
 * into them instead, for a change that alters the output on purpose (review the diff).
 */
export const README = join(__dirname, '..', '..', 'README.md');

export interface Sample {
  readonly name: string;
  readonly excerpt: boolean;
  readonly lang: string;
  readonly text: string;
}

const MARKED = /<!-- sample: ([a-z0-9-]+)( \(excerpt\))? -->\n```([a-z]*)\n([\s\S]*?)```\n/g;

export function readmeSamples(text = readFileSync(README, 'utf8')): Map<string, Sample> {
  const samples = new Map<string, Sample>();
  for (const [, name, excerpt, lang, body] of text.matchAll(MARKED)) {
    if (samples.has(name!)) throw new Error(`README.md marks two samples ${name}`);
    samples.set(name!, { name: name!, excerpt: Boolean(excerpt), lang: lang!, text: body! });
  }
  return samples;
}

export function readmeSample(name: string): Sample {
  const sample = readmeSamples().get(name);
  if (!sample) throw new Error(`README.md has no <!-- sample: ${name} --> block`);
  return sample;
}

/** Fenced blocks that show output (no language, or console) but carry no marker. */
export function unmarkedOutputBlocks(text = readFileSync(README, 'utf8')): string[] {
  const unmarked: string[] = [];
  const lines = text.split('\n');
  let inside = false;
  for (let i = 0; i < lines.length; i++) {
    const fence = /^\s*```([a-z]*)$/.exec(lines[i]!);
    if (!fence) continue;
    if (inside) {
      inside = false;
      continue;
    }
    inside = true;
    const lang = fence[1]!;
    if ((lang === '' || lang === 'console') && !/^<!-- sample: /.test(lines[i - 1] ?? '')) {
      unmarked.push(`line ${i + 1}: ${lines[i + 1]}`);
    }
  }
  return unmarked;
}

export const rebasing = process.env.PGCRED_README_REBASE === '1';

const rebased = new Map<string, string>();

/** In rebase mode, remembers what a sample should now say; `writeRebased` puts it in the README. */
export function rebase(name: string, text: string): void {
  rebased.set(name, text);
}

export function writeRebased(): void {
  if (rebased.size === 0) return;
  const text = readFileSync(README, 'utf8').replace(MARKED, (whole, name: string, excerpt, lang) =>
    rebased.has(name)
      ? `<!-- sample: ${name}${excerpt ?? ''} -->\n\`\`\`${lang}\n${rebased.get(name)}\`\`\`\n`
      : whole,
  );
  writeFileSync(README, text);
}
