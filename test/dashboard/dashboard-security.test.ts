/// <reference lib="dom" />
import { request as httpRequest } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { checkBind, startDashboard } from '../../src/dashboard/server';
import { ESSENTIAL_TIER_MESSAGE, FOLLOWER_MESSAGE } from '../../src/model/plans';
import { createTestDatabase, type TestDatabase } from '../harness/pg';
import { createProject, type Project } from '../harness/project';
import { launchBrowser, type RunningDashboard, row, serveProject, signIn } from './browser';

const XSS_SCHEMA = '<img src=x onerror=alert(1)>';

/**
 * What the dashboard must never do: hand out a password unasked, change anything
 * for a request without a session or a CSRF token, run a script from a name, act
 * on a follower or an Essential-tier database, or listen off loopback in clear.
 */
describe('pgcred dashboard: security and refusals', () => {
  let p: Project;
  let tiny: TestDatabase;
  let owned: TestDatabase;
  let dashboard: RunningDashboard;
  let browser: Browser;
  let page: Page;
  let analyst: string;

  beforeAll(async () => {
    tiny = await createTestDatabase('dashtiny');
    owned = await createTestDatabase('dashtf');
    p = await createProject('dashsec', ({ name }) => {
      analyst = name('analyst');
      return `version: 1
databases:
  - name: sunny
    url: \${DATABASE_ADMIN_URL}
    credentials:
      - { name: ${analyst}, permission: read-only }
  - name: moonlight
    url: \${DATABASE_ADMIN_URL}
    role: follower
    source: sunny
  - name: tiny
    url: ${tiny.url}
    plan: essential-0
  - name: terraformed
    url: ${owned.url}
    executor: terraform
`;
    });
    await p.db.sql(`CREATE SCHEMA "${XSS_SCHEMA}"; CREATE TABLE "${XSS_SCHEMA}".t (id int)`);
    await p.ok('apply', 'sunny', '--yes');
    await p.ok('apply', 'tiny', '--yes');
    // The browser first: a machine without chromium fails here, before a server is left open.
    browser = await launchBrowser();
    dashboard = await serveProject(p, 'bob');
    page = await browser.newPage();
    await signIn(page, dashboard);
  });
  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
    await p?.cleanup();
    await tiny?.drop();
    await owned?.drop();
  });

  const passwords = async () =>
    Promise.all(
      ['default', analyst].map(async (c) => {
        const out = (await p.ok('credentials:url', 'sunny', '--name', c)).stdout;
        const url = out
          .split('\n')
          .find((l) => l.trim().startsWith('postgres://'))!
          .trim();
        return decodeURIComponent(new URL(url).password);
      }),
    );

  it('shows a schema named like markup as text, and runs no script', async () => {
    let dialogs = 0;
    page.on('dialog', (dialog) => {
      dialogs += 1;
      void dialog.dismiss();
    });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${dashboard.url}/databases/sunny`);
    const headers = await page.$$eval('#matrix th.schema', (ths) => ths.map((th) => th.textContent));
    expect(headers).toContain(XSS_SCHEMA);
    expect(await page.$$('main img')).toHaveLength(0);
    await page.goto(`${dashboard.url}/databases/sunny/drift`);
    expect(await page.$$('main img')).toHaveLength(0);
    expect(dialogs).toBe(0);
    expect(errors).toEqual([]);
    const csp = (await page.goto(`${dashboard.url}/databases/sunny`))!.headers()['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
  });

  it('holds no password in any page or API answer unless revealed', async () => {
    const secrets = await passwords();
    const bodies: string[] = [];
    for (const path of [
      '/',
      '/databases/sunny',
      '/databases/sunny/drift',
      '/databases/sunny/audit',
      '/databases/moonlight',
      '/databases/tiny',
    ]) {
      const response = await page.goto(`${dashboard.url}${path}`);
      expect(response!.status()).toBe(200);
      bodies.push(await page.content());
    }
    const api = await page.goto(`${dashboard.url}/api/databases/sunny/rotations`);
    bodies.push(await api!.text());
    for (const body of bodies) for (const secret of secrets) expect(body).not.toContain(secret);
    // Revealed on request only.
    await page.goto(`${dashboard.url}/databases/sunny`);
    await page.click(`${row(analyst)} button.reveal`);
    expect(await page.textContent('#url')).toContain(secrets[1]);
  });

  it('changes nothing for a request without a session or without the CSRF token (403)', async () => {
    const origin = dashboard.url;
    const target = `${dashboard.url}/databases/sunny/credentials`;
    const intruder = p.name('intruder');
    const form = new URLSearchParams({ name: intruder, level: 'read-write' }).toString();
    const post = (headers: Record<string, string>) =>
      fetch(target, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin, ...headers },
        body: form,
      });
    // No session at all.
    expect((await post({})).status).toBe(403);
    // The browser's session, without the CSRF token.
    const cookies = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    expect((await post({ cookie: cookies })).status).toBe(403);
    // The session and a token, from another origin, or through another Host name.
    const token = await page
      .goto(`${dashboard.url}/databases/sunny`)
      .then(() => page.getAttribute('#create-form input[name="_csrf"]', 'value'));
    const withToken = new URLSearchParams({ name: intruder, level: 'read-write', _csrf: token! }).toString();
    const cross = await fetch(target, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'http://evil.example',
        cookie: cookies,
      },
      body: withToken,
    });
    expect(cross.status).toBe(403);
    expect(await p.db.sql('SELECT 1 FROM pg_roles WHERE rolname = $1', [intruder])).toHaveLength(0);
    // The same request, from the page's origin, does it: the refusals above were the checks.
    const allowed = await fetch(target, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin, cookie: cookies },
      body: withToken,
    });
    expect(allowed.status).toBe(303);
    expect(await p.db.sql('SELECT 1 FROM pg_roles WHERE rolname = $1', [intruder])).toHaveLength(1);
    // A rebinding name for this address is refused outright.
    // (fetch cannot set Host; node:http can.)
    const rebound = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(
        `${dashboard.url}/signin`,
        { headers: { host: 'attacker.example' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      request.on('error', reject);
      request.end();
    });
    expect(rebound).toBe(421);
  });

  it("disables every action on a follower's page, in Heroku's words", async () => {
    await page.goto(`${dashboard.url}/databases/moonlight`);
    expect(await page.textContent('#disabled-reason')).toBe(FOLLOWER_MESSAGE);
    const actions = await page.$$eval(
      'main form:not(.signout) button[type="submit"]:not(.reveal), main input, main select',
      (elements) =>
        elements
          .filter((e) => (e as HTMLInputElement).type !== 'hidden')
          .map((e) => ({ cls: e.className, disabled: (e as HTMLButtonElement).disabled })),
    );
    expect(actions.length).toBeGreaterThan(5);
    expect(actions.filter((a) => !a.disabled)).toEqual([]);
  });

  it('shows the Essential-tier refusal and no Create Credential button', async () => {
    await page.goto(`${dashboard.url}/databases/tiny`);
    expect(await page.textContent('#create-refused')).toBe(ESSENTIAL_TIER_MESSAGE);
    expect(await page.$('#create-submit')).toBeNull();
  });

  it('refuses credential and level changes where Terraform owns the roles and grants, on the page and on the server', async () => {
    await page.goto(`${dashboard.url}/databases/terraformed`);
    expect(await page.textContent('#roles-refused')).toContain(
      'Terraform owns the roles and grants of this database',
    );
    expect(await page.$eval('#create-submit', (b) => (b as HTMLButtonElement).disabled)).toBe(true);
    // The form sent anyway, with its CSRF token: the server refuses it too, and nothing is created.
    const status = await page.evaluate(async () => {
      const form = document.querySelector('#create-form') as HTMLFormElement;
      for (const e of Array.from(form.elements)) (e as HTMLInputElement).disabled = false;
      (form.querySelector('#create-name') as HTMLInputElement).value = 'sneaky';
      const answer = await fetch(form.action, {
        method: 'POST',
        body: new URLSearchParams(new FormData(form) as never),
      });
      return { status: answer.status, text: await answer.text() };
    });
    expect(status.text).toContain('Terraform owns the roles and grants of this database');
    expect(await owned.sql("SELECT 1 FROM pg_roles WHERE rolname = 'sneaky'")).toEqual([]);
  });

  it('refuses to listen on a non-loopback address without TLS', async () => {
    const result = await p.run('dashboard', '--host', '0.0.0.0', '--port', '0');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'refusing to serve the dashboard on 0.0.0.0 without TLS: pass --tls-cert and --tls-key',
    );
    expect(() => checkBind('192.168.1.10', false)).toThrow(/without TLS/);
    expect(() => checkBind('127.0.0.1', false)).not.toThrow();
    await expect(
      startDashboard({ service: undefined as never, host: '0.0.0.0', port: 0, token: 't', actor: 'a' }),
    ).rejects.toThrow(/without TLS/);
  });
});
