/// <reference lib="dom" />
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import type { Browser, Page } from 'playwright-core';
import { projectFile } from '../../src/project';
import { tryAs } from '../harness/pg';
import { createProject, type Project } from '../harness/project';
import { launchBrowser, type RunningDashboard, row, serveProject, signIn } from './browser';

/**
 * The Credentials tab in a real browser, against a real PostgreSQL: every action
 * goes through the page, and every outcome is proved by logging in.
 */
describe('pgcred dashboard, in a browser', () => {
  let p: Project;
  let dashboard: RunningDashboard;
  let browser: Browser;
  let page: Page;
  let reporter: string;
  const base = () => `${dashboard.url}/databases/sunny`;

  beforeAll(async () => {
    p = await createProject(
      'dash',
      () => `version: 1
databases:
  - name: sunny
    url: \${DATABASE_ADMIN_URL}
    plan: standard-0
    color: CYAN
    credentials: []
`,
    );
    reporter = p.name('reporter');
    await p.db.sql('CREATE TABLE public.items (id int); INSERT INTO public.items VALUES (1), (2)');
    await p.ok('apply', '--yes');
    // The browser first: a machine without chromium fails here, before a server is left open.
    browser = await launchBrowser();
    dashboard = await serveProject(p);
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
    await p?.cleanup();
  });

  const flash = async () => (await page.textContent('#flash-notes').catch(() => null)) ?? '';
  const flashError = async () => (await page.textContent('#flash-error').catch(() => null)) ?? '';
  const reveal = async (name: string) => {
    await page.click(`${row(name)} button.reveal`);
    const url = (await page.textContent('#url'))!.trim();
    await page.goto(base());
    return url;
  };

  it('refuses a wrong token and signs in with the right one', async () => {
    await signIn(page, dashboard, 'not-the-token');
    expect(await flashError()).toContain('That is not the sign-in token of this dashboard.');
    await signIn(page, dashboard);
    expect(await page.textContent('#databases')).toContain('sunny');
  });

  it('creates a credential with a level, and the URL the page shows logs in with it', async () => {
    await page.goto(base());
    await page.fill('#create-name', reporter);
    await page.selectOption('#create-level', 'read-only');
    await page.click('#create-submit');
    expect(await flash()).toContain(`Created credential ${reporter} with permission level read-only.`);
    expect(await page.textContent(`${row(reporter)} td.level`)).toContain('read-only');
    const url = await reveal(reporter);
    expect(new URL(url).username).toBe(reporter);
    expect(await tryAs(url, 'SELECT count(*) AS n FROM public.items')).toMatchObject({ ok: true });
    expect(await tryAs(url, 'INSERT INTO public.items VALUES (3)')).toMatchObject({
      ok: false,
      code: '42501',
    });
  });

  it('records the reveal in pgcred audit, with the dashboard user as the actor', async () => {
    const audit = JSON.parse((await p.ok('audit', '--json')).stdout) as Record<string, unknown>[];
    expect(audit).toContainEqual(
      expect.objectContaining({
        action: 'credentials:url',
        actor: 'alice',
        subject: reporter,
        database: 'sunny',
      }),
    );
  });

  it('shows what a level change gains before confirming, and applies it', async () => {
    await page.goto(base());
    await page.selectOption(`${row(reporter)} select.level-select`, 'read-write');
    await page.click(`${row(reporter)} button.level-submit`);
    const changes = await page.textContent('#changes');
    expect(changes).toContain(reporter);
    await page.click('#confirm');
    expect(await flash()).toContain(`Set ${reporter} on sunny to read-write`);
    const url = await reveal(reporter);
    expect(await tryAs(url, 'INSERT INTO public.items VALUES (3)')).toMatchObject({ ok: true });
  });

  it('refuses a confirmation when the database moved since the page showed the plan', async () => {
    await page.goto(base());
    await page.selectOption(`${row(reporter)} select.level-select`, 'read-only');
    await page.click(`${row(reporter)} button.level-submit`);
    // Meanwhile, someone changes it from the CLI.
    await p.ok('credentials:permissions', '--name', reporter, '--level', 'none');
    await page.click('#confirm');
    expect(await flashError()).toMatch(
      /changed since the page showed this plan|no longer the one the page showed/,
    );
    const url = await reveal(reporter);
    expect(await tryAs(url, 'SELECT count(*) FROM public.items')).toMatchObject({ ok: false, code: '42501' });
  });

  it('attaches a credential to an app', async () => {
    await page.goto(base());
    await page.fill(`${row(reporter)} input.attach-app`, 'web-app');
    await page.click(`${row(reporter)} button.attach-submit`);
    expect(await flash()).toContain(`Attaching ${reporter} of ⛁ sunny to ⬢ web-app... done`);
    expect(await page.textContent(`${row(reporter)} td.attachments`)).toContain(
      'as DATABASE on ⬢ web-app app',
    );
  });

  it('rotates while a client holds a connection: both usernames on the page, then the old password refused', async () => {
    await page.goto(base());
    const old = await reveal(reporter);
    const held = new Client({ connectionString: old });
    held.on('error', () => undefined);
    await held.connect();
    try {
      await page.click(`${row(reporter)} button.rotate`);
      expect(await page.textContent('#impact')).toContain(
        'Connections older than 30m 00s will be reset, and a temporary rotation username will be used during the process.',
      );
      await page.click('#confirm');
      expect(await flash()).toContain(`Rotating ${reporter} on ⛁ sunny... started`);
      // The page refreshes the usernames until the rotation ends.
      const oldRow = `${row(reporter)} [data-rotation] tr[data-user="${reporter}"]`;
      const tempRow = `${row(reporter)} [data-rotation] tr[data-user="${reporter}-rotating"]`;
      await page.waitForSelector(tempRow, { timeout: 20_000 });
      await page.waitForFunction(
        (selector) => document.querySelector(selector)?.textContent?.includes('1 connection'),
        oldRow,
        { timeout: 20_000 },
      );
      expect(await page.textContent(oldRow)).toContain('waiting for no connections to be revoked');
      expect(await page.textContent(tempRow)).toContain('active');
      expect(await page.textContent(`${row(reporter)} td.state`)).toContain('rotating');
      // PGCRED_WRITE_SCREENSHOT=1 writes the README's picture: the page during a rotation.
      const shot = process.env.PGCRED_WRITE_SCREENSHOT
        ? projectFile('docs', 'dashboard.png')
        : join(p.dir, 'rotating.png');
      mkdirSync(dirname(shot), { recursive: true });
      await page.screenshot({ path: shot, fullPage: true });
    } finally {
      await held.end();
    }
    // The server advances the rotation from the journal; the page reloads when it ends.
    await page.waitForFunction(
      (selector) => !document.querySelector(selector),
      `${row(reporter)} [data-rotation]`,
      { timeout: 30_000 },
    );
    expect(await page.textContent(`${row(reporter)} td.state`)).toContain('active');
    expect(await tryAs(old, 'SELECT 1')).toMatchObject({ ok: false, code: '28P01' });
    const now = await reveal(reporter);
    expect(new URL(now).username).toBe(reporter);
    expect(await tryAs(now, 'SELECT 1')).toMatchObject({ ok: true });
  });

  it('force-rotates with its warning', async () => {
    await page.goto(base());
    const old = await reveal(reporter);
    await page.click(`${row(reporter)} button.force-rotate`);
    expect(await page.textContent('#impact')).toContain(
      'Connections will be reset and applications will be restarted.',
    );
    expect(await page.textContent('#impact')).toContain('This command will affect the app ⬢ web-app.');
    await page.click('#confirm');
    await page.waitForFunction(
      (selector) => !document.querySelector(selector),
      `${row(reporter)} [data-rotation]`,
      { timeout: 30_000 },
    );
    await page.goto(base());
    await page.waitForFunction(
      (selector) => !document.querySelector(selector),
      `${row(reporter)} [data-rotation]`,
      { timeout: 30_000 },
    );
    expect(await tryAs(old, 'SELECT 1')).toMatchObject({ ok: false, code: '28P01' });
    expect(await tryAs(await reveal(reporter), 'SELECT 1')).toMatchObject({ ok: true });
  });

  it('refuses to destroy an attached credential, detaches it, then destroys it', async () => {
    await page.goto(base());
    await page.click(`${row(reporter)} button.destroy`);
    expect(await flashError()).toContain(
      `Credential ${reporter} must be detached from the app ⬢ web-app before destroying.`,
    );
    await page.click(`${row(reporter)} button.detach`);
    expect(await flash()).toContain(`Detaching DATABASE from ⛁ sunny from ⬢ web-app... done`);
    await page.click(`${row(reporter)} button.destroy`);
    expect(await page.textContent('#impact')).toContain(
      `The credential ${reporter} will be destroyed within sunny.`,
    );
    await page.fill('#confirm-name', 'sunnyx');
    await page.click('#confirm');
    expect(await flashError()).toContain('Confirmation sunnyx did not match sunny. Aborted.');
    expect(await p.db.sql('SELECT 1 FROM pg_roles WHERE rolname = $1', [reporter])).toHaveLength(1);
    await page.click(`${row(reporter)} button.destroy`);
    await page.fill('#confirm-name', 'sunny');
    await page.click('#confirm');
    expect(await flash()).toContain('The credential has been destroyed within sunny.');
    expect(await p.db.sql('SELECT 1 FROM pg_roles WHERE rolname = $1', [reporter])).toHaveLength(0);
    expect(await page.$(row(reporter))).toBeNull();
  });
});
