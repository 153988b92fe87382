import { spawnSync } from 'node:child_process';

/** Runs terraform to its end and times it; `-detailed-exitcode`'s 2 (changes) is an answer, not a failure. */
export function timedTerraform(
  dir: string,
  env: NodeJS.ProcessEnv,
  args: string[],
): { ms: number; status: number } {
  const started = process.hrtime.bigint();
  const result = spawnSync('terraform', args, { cwd: dir, env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0 && !(args.includes('-detailed-exitcode') && result.status === 2)) {
    throw new Error(
      `terraform ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`,
    );
  }
  return { ms, status: result.status ?? -1 };
}
