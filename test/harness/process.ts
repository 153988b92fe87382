import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Project } from './project';

const REPO = join(__dirname, '..', '..');

/** Runs the CLI in its own process, so it can be killed the way a crash kills it. */
export function pgcredProcess(
  p: Project,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ status: number | null; signal: string | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['-r', require.resolve('tsx/cjs'), join(REPO, 'src', 'cli', 'main.ts'), ...args],
      {
        cwd: p.dir,
        env: { PATH: process.env.PATH, ...p.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('exit', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}
