import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Io } from '../../src/cli/io';
import { runCli } from '../../src/cli/main';

export interface CliResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs pgcred in-process, the way a user runs it, and captures what it prints. */
export async function pgcred(
  args: readonly string[],
  options: {
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    answers?: string[];
    interactive?: boolean;
    /** What is piped on standard input. */
    stdin?: string;
  } = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const answers = [...(options.answers ?? [])];
  const io: Io = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: { PATH: process.env.PATH, ...options.env },
    cwd: options.cwd ?? process.cwd(),
    interactive: options.interactive ?? false,
    prompt: async (question) => {
      stderr += question;
      return answers.shift() ?? '';
    },
    ...(options.stdin !== undefined ? { readStdin: async () => options.stdin! } : {}),
  };
  const status = await runCli(args, io);
  return { status, stdout, stderr };
}

/** A directory with a pgcred.yaml holding `text`. */
export function configDir(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pgcred-test-'));
  writeFileSync(join(dir, 'pgcred.yaml'), text);
  return dir;
}

/** A random master key, so each test's control store has its own. */
export function testKey(): string {
  return require('node:crypto').randomBytes(32).toString('hex');
}
