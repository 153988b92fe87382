import { spawn, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

/**
 * Real `terraform` (and `cdktf`), offline, with pgcred's provider from the mirror
 * that `npm run provider:install` lays out: what the provider tests share.
 */
export const ROOT = resolve(__dirname, '..', '..');

export interface Run {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Builds the provider into the mirror, as a user would before `terraform init`. */
export function installProvider(): void {
  const install = spawnSync(process.execPath, [join(ROOT, 'scripts', 'provider-install.js')], {
    encoding: 'utf8',
  });
  if (install.status !== 0) throw new Error(`provider:install failed\n${install.stdout}\n${install.stderr}`);
}

/** The environment terraform runs in: the mirror's CLI config, no checkpoint calls, no prompts. */
export function terraformEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TF_CLI_CONFIG_FILE: join(ROOT, '.terraform-mirror', 'terraform.rc'),
    CHECKPOINT_DISABLE: '1',
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    ...extra,
  };
}

/** Runs a command and collects what it prints. */
export function run(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(command, [...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', fail);
    child.on('close', (status) => done({ status: status ?? -1, stdout, stderr }));
  });
}

/**
 * A terraform runner for one working directory: fails the test with terraform's
 * output when the exit status is not the one expected. Every run is kept in
 * `runs`, so a test can check that no secret was ever printed.
 */
export class Terraform {
  readonly runs: Run[] = [];

  constructor(
    readonly dir: string,
    readonly env: NodeJS.ProcessEnv,
  ) {}

  async run(args: readonly string[], expected = 0, dir = this.dir): Promise<Run> {
    // -no-color goes right after the (sub)command: flags after an argument are not read.
    const at = args[0] === 'state' ? 2 : 1;
    const result = await run(
      'terraform',
      [...args.slice(0, at), '-no-color', ...args.slice(at)],
      dir,
      this.env,
    );
    this.runs.push(result);
    if (result.status !== expected) {
      throw new Error(
        `terraform ${args.join(' ')} exited ${result.status}, expected ${expected}\n${result.stdout}\n${result.stderr}`,
      );
    }
    return result;
  }

  init(dir = this.dir): Promise<Run> {
    return this.run(['init', '-input=false'], 0, dir);
  }

  apply(): Promise<Run> {
    return this.run(['apply', '-auto-approve', '-input=false']);
  }

  /** `plan -detailed-exitcode`: 0 when empty, 2 when there are changes. */
  plan(expected: 0 | 2): Promise<Run> {
    return this.run(['plan', '-detailed-exitcode', '-input=false'], expected);
  }

  /** Everything terraform printed so far. */
  printed(): string {
    return this.runs.map((r) => r.stdout + r.stderr).join('\n');
  }
}
