import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { CommandContext } from '../../src/cli/context';
import type { Io } from '../../src/cli/io';
import { startDashboard } from '../../src/dashboard/server';
import { DashboardService } from '../../src/dashboard/service';
import type { Project } from '../harness/project';

/** Debian's chromium (playwright-core cannot download a browser here); .ci/run installs it. */
export function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(path)) throw new Error(`no chromium at ${path}: apt-get install chromium (see .ci/run)`);
  return path;
}

export function launchBrowser(): Promise<Browser> {
  // Root (CI) has no user namespace for chromium's sandbox.
  return chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
}

export interface RunningDashboard {
  readonly url: string;
  readonly token: string;
  close(): Promise<void>;
}

/** The dashboard of a project's file, as `pgcred dashboard` serves it, on a free loopback port. */
export async function serveProject(p: Project, actor = 'alice'): Promise<RunningDashboard> {
  const io: Io = {
    stdout: () => undefined,
    stderr: () => undefined,
    env: { PATH: process.env.PATH, ...p.env },
    cwd: p.dir,
    interactive: false,
    prompt: async () => '',
  };
  const ctx = new CommandContext(io, { config: join(p.dir, 'pgcred.yaml') });
  ctx.actor = actor;
  const rc = await ctx.reconcileContext();
  // A short settle keeps a rotation's wait for idle usernames to a second.
  const service = new DashboardService(rc, { configPath: ctx.configPath, settleMs: 500 });
  const token = randomBytes(16).toString('hex');
  const dashboard = await startDashboard({
    service,
    host: '127.0.0.1',
    port: 0,
    token,
    actor,
    rotationTickMs: 300,
  });
  return {
    url: dashboard.url,
    token,
    close: async () => {
      await dashboard.close();
      await ctx.close();
    },
  };
}

export async function signIn(
  page: Page,
  dashboard: RunningDashboard,
  token = dashboard.token,
): Promise<void> {
  await page.goto(`${dashboard.url}/signin`);
  await page.fill('#token', token);
  await page.click('#signin');
}

/** The row of a credential on the Credentials tab. */
export const row = (name: string) => `#credentials tr[data-credential="${name}"]`;
