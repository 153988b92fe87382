/**
 * `pgcred dashboard`: the Credentials tab of data.heroku.com for the databases of a
 * file, served by fastify on loopback. Every state change needs a session (an
 * HttpOnly, SameSite=Strict cookie given for the sign-in token), a CSRF token
 * (@fastify/csrf-protection), a Host and an Origin of this server; the CSP allows
 * no inline script. Actions call the services the CLI commands call (service.ts).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { PermissionLevelName } from '../model/permission-level';
import { PermissionLevel } from '../model/permission-level';
import { subjectOrder } from '../model/plan';
import { projectFile } from '../project';
import { type DashboardService, refusalMessage } from './service';
import { Views } from './views';

export interface DashboardOptions {
  readonly service: DashboardService;
  readonly host: string;
  readonly port: number;
  /** The sign-in token: printed once at start, or PGCRED_DASHBOARD_TOKEN. */
  readonly token: string;
  /** Who the pages say is signed in; the audit log's actor is the control store's. */
  readonly actor: string;
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** How often the server advances rotations from the journal (default 2 s). */
  readonly rotationTickMs?: number;
  readonly log?: (line: string) => void;
}

export interface Dashboard {
  readonly url: string;
  close(): Promise<void>;
}

export class DashboardConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DashboardConfigError';
  }
}

const SESSION_COOKIE = 'pgcred_session';
const SESSION_TTL_MS = 12 * 60 * 60_000;

interface Flash {
  readonly notes?: readonly string[];
  readonly error?: string;
}

interface Session {
  readonly created: number;
  flash?: Flash;
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** Refuses what would expose the token and the passwords: a non-loopback host without TLS. */
export function checkBind(host: string, tls: boolean): void {
  if (!isLoopback(host) && !tls) {
    throw new DashboardConfigError(
      `refusing to serve the dashboard on ${host} without TLS: pass --tls-cert and --tls-key, or bind 127.0.0.1 (the sign-in token and the credentials' passwords would cross the network in clear text)`,
    );
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Params = { db: string; cred: string };
type Body = Record<string, string | undefined>;
type Route = { Params: Params; Body: Body };
type Req = FastifyRequest<Route>;

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  checkBind(options.host, !!options.tls);
  const { service } = options;
  const views = new Views();
  const sessions = new Map<string, Session>();
  const expected = digest(options.token);
  let failures = 0;
  const script = readFileSync(projectFile('src', 'dashboard', 'assets', 'dashboard.js'), 'utf8');
  const style = readFileSync(projectFile('src', 'dashboard', 'assets', 'dashboard.css'), 'utf8');

  const app = Fastify({
    logger: false,
    bodyLimit: 64 * 1024,
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key } } : {}),
  });
  await app.register(fastifyCookie, { secret: randomBytes(32).toString('hex') });
  await app.register(fastifyFormbody);
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    // no-referrer would make Chromium send `Origin: null` on form posts, which the Origin check refuses.
    referrerPolicy: { policy: 'same-origin' },
    strictTransportSecurity: options.tls ? { maxAge: 15552000 } : false,
  });
  await app.register(fastifyRateLimit, { global: false });

  const sessionOf = (request: FastifyRequest): { id: string; session: Session } | undefined => {
    const id = request.cookies[SESSION_COOKIE];
    if (!id) return undefined;
    const session = sessions.get(id);
    if (!session) return undefined;
    if (Date.now() - session.created > SESSION_TTL_MS) {
      sessions.delete(id);
      return undefined;
    }
    return { id, session };
  };
  const userInfo = (request: FastifyRequest) => sessionOf(request)?.id ?? 'signed-out';

  await app.register(fastifyCsrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: 'pgcred_csrf',
    cookieOpts: { httpOnly: true, sameSite: 'strict', path: '/', signed: true, secure: !!options.tls },
    getUserInfo: userInfo,
    csrfOpts: { hmacKey: randomBytes(32).toString('hex') },
  });

  // Host and Origin: DNS rebinding and other apps on loopback reach this port too.
  let allowedHosts: Set<string> | undefined;
  const hosts = () => {
    if (allowedHosts) return allowedHosts;
    const port = (app.server.address() as AddressInfo).port;
    const names = new Set([options.host.includes(':') ? `[${options.host}]` : options.host]);
    if (isLoopback(options.host)) for (const n of ['127.0.0.1', 'localhost', '[::1]']) names.add(n);
    allowedHosts = new Set([...names].map((n) => `${n}:${port}`));
    return allowedHosts;
  };
  const scheme = options.tls ? 'https' : 'http';
  app.addHook('onRequest', async (request, reply) => {
    const host = (request.headers.host ?? '').toLowerCase();
    if (!hosts().has(host))
      return reply.code(421).type('text/plain').send('Misdirected request: unknown Host');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      const origin = request.headers.origin;
      if (!origin || ![...hosts()].some((h) => origin === `${scheme}://${h}`))
        return reply.code(403).type('text/plain').send('Forbidden: cross-origin request');
    }
    return undefined;
  });

  const requireSession = async (request: FastifyRequest, reply: FastifyReply) => {
    if (sessionOf(request)) return undefined;
    if (request.method === 'GET' && !request.url.startsWith('/api/')) return reply.redirect('/signin', 303);
    return reply
      .code(request.method === 'GET' ? 401 : 403)
      .type('text/plain')
      .send('Forbidden: sign in first');
  };
  const guarded = { preHandler: [requireSession, app.csrfProtection] };
  const readOnly = { preHandler: [requireSession] };

  app.setErrorHandler(async (error: Error & { statusCode?: number }, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) options.log?.(`dashboard: ${request.method} ${request.url}: ${error.message}`);
    const message =
      status === 403 ? `Forbidden: ${error.message}` : status >= 500 ? 'Internal error' : error.message;
    return reply
      .code(status)
      .type('text/html; charset=utf-8')
      .send(views.page('message', { title: String(status), heading: String(status), message }));
  });

  const html = (reply: FastifyReply, text: string, status = 200) =>
    reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(text);

  const common = async (request: FastifyRequest, reply: FastifyReply, title: string) => {
    const current = sessionOf(request);
    const flash = current?.session.flash;
    if (current) current.session.flash = undefined;
    return {
      title,
      csrf: await reply.generateCsrf({ userInfo: userInfo(request) }),
      signedIn: !!current,
      actor: options.actor,
      flash,
    };
  };

  const databasePath = (name: string) => `/databases/${encodeURIComponent(name)}`;

  /** An action: its notes or its refusal go to the page it returns to. */
  const act = async (request: Req, reply: FastifyReply, work: () => Promise<readonly string[]>) => {
    const back = databasePath(request.params.db);
    const current = sessionOf(request)!;
    try {
      const notes = await service.run(work);
      current.session.flash = { notes };
    } catch (error) {
      current.session.flash = { error: refusalMessage(error) ?? (error as Error).message };
    }
    return reply.redirect(back, 303);
  };

  const specOf = (request: Req) => service.database(request.params.db);

  // ---------------------------------------------------------------------------
  // Assets and sign-in

  app.get<Route>('/assets/dashboard.js', async (_request, reply) =>
    reply.type('application/javascript; charset=utf-8').send(script),
  );
  app.get<Route>('/assets/dashboard.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').send(style),
  );

  app.get<Route>('/signin', async (request, reply) =>
    html(reply, views.page('signin', await common(request, reply, 'Sign in'))),
  );

  app.post<Route>(
    '/signin',
    {
      preHandler: [app.csrfProtection],
      config: { rateLimit: { max: 20, timeWindow: '1 minute' } },
    },
    async (request, reply) => {
      const given = digest(request.body?.token ?? '');
      if (!timingSafeEqual(given, expected)) {
        failures += 1;
        // Slowed down: each failure waits longer, up to 3 s.
        await sleep(Math.min(3000, 250 * 2 ** Math.min(failures - 1, 4)));
        const data = await common(request, reply, 'Sign in');
        return html(
          reply,
          views.page('signin', {
            ...data,
            flash: { error: 'That is not the sign-in token of this dashboard.' },
          }),
          401,
        );
      }
      failures = 0;
      const id = randomBytes(32).toString('base64url');
      sessions.set(id, { created: Date.now() });
      reply.setCookie(SESSION_COOKIE, id, {
        httpOnly: true,
        sameSite: 'strict',
        path: '/',
        secure: !!options.tls,
        maxAge: SESSION_TTL_MS / 1000,
      });
      return reply.redirect('/', 303);
    },
  );

  app.post<Route>('/signout', guarded, async (request, reply) => {
    const current = sessionOf(request);
    if (current) sessions.delete(current.id);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/signin', 303);
  });

  // ---------------------------------------------------------------------------
  // Pages

  app.get<Route>('/', readOnly, async (request, reply) => {
    const databases = await service.run(() => service.summaries());
    return html(
      reply,
      views.page('databases', { ...(await common(request, reply, 'Databases')), databases }),
    );
  });

  app.get<Route>('/databases/:db', readOnly, async (request, reply) => {
    const spec = specOf(request);
    const page = await service.run(() => service.credentialsPage(spec));
    const levels = new Map<string, string>();
    for (const row of page.matrix.rows) {
      const credential = page.credentials.find((c) => c.name === row.credential)!;
      if (credential.name === 'default') {
        levels.set('default', 'owner');
        continue;
      }
      const kinds = new Set(row.cells.map((c) => c.kind).filter((k) => k !== 'empty'));
      const inferred =
        kinds.size === 0
          ? 'none'
          : kinds.size === 1
            ? [...kinds][0]!.replace(/^read$/, 'read-only')
            : 'custom';
      levels.set(credential.name, page.levelsLive.get(credential.name) ?? inferred);
    }
    const base = databasePath(spec.name);
    return html(
      reply,
      views.page('credentials', {
        ...(await common(request, reply, spec.name)),
        spec,
        page,
        levels,
        base,
        tab: 'credentials',
        ...(page.rotating ? { poll: `/api${base}/rotations` } : {}),
      }),
    );
  });

  app.get<Route>('/databases/:db/drift', readOnly, async (request, reply) => {
    const spec = specOf(request);
    const plan = await service.run(() => service.plan(spec));
    const bySubject = new Map<string, (typeof plan.changes)[number][]>();
    for (const change of plan.changes)
      bySubject.set(change.subject, [...(bySubject.get(change.subject) ?? []), change]);
    const groups = [...bySubject]
      .sort(([a], [b]) => subjectOrder(a, b))
      .map(([subject, changes]) => ({ subject, changes }));
    return html(
      reply,
      views.page('drift', {
        ...(await common(request, reply, `${spec.name}: drift`)),
        spec,
        plan,
        groups,
        findings: plan.findings,
        base: databasePath(spec.name),
        tab: 'drift',
      }),
    );
  });

  app.get<Route>('/databases/:db/audit', readOnly, async (request, reply) => {
    const spec = specOf(request);
    const rows = await service.run(() => service.audit(spec));
    return html(
      reply,
      views.page('audit', {
        ...(await common(request, reply, `${spec.name}: audit`)),
        spec,
        rows,
        base: databasePath(spec.name),
        tab: 'audit',
      }),
    );
  });

  app.get<Route>('/api/databases/:db/rotations', readOnly, async (request, reply) => {
    const spec = specOf(request);
    const rotations = await service.run(() => service.rotationStatus(spec));
    return reply.header('cache-control', 'no-store').send({ database: spec.name, rotations });
  });

  // ---------------------------------------------------------------------------
  // Actions

  const levelOfBody = (body: Body): PermissionLevelName => {
    const level = body.level ?? 'none';
    if (!(PermissionLevel.NAMES as readonly string[]).includes(level))
      throw Object.assign(new Error(`level: "${level}" is not one of ${PermissionLevel.NAMES.join(', ')}`), {
        statusCode: 400,
      });
    return level as PermissionLevelName;
  };

  app.post<Route>('/databases/:db/credentials', guarded, async (request, reply) => {
    const spec = specOf(request);
    const level = levelOfBody(request.body);
    return act(request, reply, () => service.create(spec, (request.body.name ?? '').trim(), level));
  });

  /** A confirmation page for a preview; a refusal goes back to the credentials. */
  const confirmPage = async (
    request: Req,
    reply: FastifyReply,
    heading: string,
    action: string,
    preview: () => Promise<import('./service').Preview>,
    extra: Record<string, unknown> = {},
  ) => {
    const spec = specOf(request);
    let shown: import('./service').Preview;
    try {
      shown = await service.run(preview);
    } catch (error) {
      sessionOf(request)!.session.flash = { error: refusalMessage(error) ?? (error as Error).message };
      return reply.redirect(databasePath(spec.name), 303);
    }
    return html(
      reply,
      views.page('confirm', {
        ...(await common(request, reply, heading)),
        spec,
        base: databasePath(spec.name),
        tab: 'credentials',
        heading,
        action,
        pending: shown.id,
        impact: shown.impact,
        plan: shown.plan,
        ...extra,
      }),
    );
  };

  const credentialPath = (request: Req) =>
    `${databasePath(request.params.db)}/credentials/${encodeURIComponent(request.params.cred)}`;

  app.post<Route>('/databases/:db/credentials/:cred/level', guarded, async (request, reply) => {
    const level = levelOfBody(request.body);
    const spec = specOf(request);
    return confirmPage(
      request,
      reply,
      `Set ${request.params.cred} to ${PermissionLevel.of(level).title.toLowerCase()}: what it gains and loses`,
      `${credentialPath(request)}/level/confirm`,
      () => service.previewLevel(spec, request.params.cred, level),
    );
  });

  app.post<Route>('/databases/:db/credentials/:cred/level/confirm', guarded, async (request, reply) => {
    const spec = specOf(request);
    return act(request, reply, () =>
      service.confirmLevel(spec, request.params.cred, request.body.pending ?? ''),
    );
  });

  app.post<Route>('/databases/:db/credentials/:cred/destroy', guarded, async (request, reply) => {
    const spec = specOf(request);
    return confirmPage(
      request,
      reply,
      `Destroy credential ${request.params.cred}`,
      `${credentialPath(request)}/destroy/confirm`,
      () => service.previewDestroy(spec, request.params.cred),
      { warning: true, typeName: true },
    );
  });

  app.post<Route>('/databases/:db/credentials/:cred/destroy/confirm', guarded, async (request, reply) => {
    const spec = specOf(request);
    return act(request, reply, () =>
      service.confirmDestroy(
        spec,
        request.params.cred,
        request.body.pending ?? '',
        request.body.confirm ?? '',
      ),
    );
  });

  app.post<Route>('/databases/:db/credentials/:cred/rotate', guarded, async (request, reply) => {
    const spec = specOf(request);
    const force = request.body.force === '1';
    return confirmPage(
      request,
      reply,
      `${force ? 'Force rotate' : 'Rotate'} credential ${request.params.cred}`,
      `${credentialPath(request)}/rotate/confirm`,
      () => service.previewRotate(spec, request.params.cred, force, request.body.grace),
      { warning: force || request.params.cred === 'default' },
    );
  });

  app.post<Route>('/databases/:db/credentials/:cred/rotate/confirm', guarded, async (request, reply) => {
    const spec = specOf(request);
    const result = await act(request, reply, () =>
      service.confirmRotate(spec, request.params.cred, request.body.pending ?? ''),
    );
    // Advanced by the server from the journal, after this request.
    setImmediate(tick);
    return result;
  });

  app.post<Route>('/databases/:db/credentials/:cred/attach', guarded, async (request, reply) => {
    const spec = specOf(request);
    const as = request.body.as?.trim();
    return act(request, reply, () =>
      service.attach(spec, request.params.cred, (request.body.app ?? '').trim(), as || undefined),
    );
  });

  app.post<Route>('/databases/:db/detach', guarded, async (request, reply) => {
    const spec = specOf(request);
    return act(request, reply, () => service.detach(spec, request.body.app ?? '', request.body.name ?? ''));
  });

  app.post<Route>('/databases/:db/credentials/:cred/reveal', guarded, async (request, reply) => {
    const spec = specOf(request);
    let shown: { info: string; url: string };
    try {
      shown = await service.run(() => service.reveal(spec, request.params.cred));
    } catch (error) {
      sessionOf(request)!.session.flash = { error: refusalMessage(error) ?? (error as Error).message };
      return reply.redirect(databasePath(spec.name), 303);
    }
    return html(
      reply,
      views.page('reveal', {
        ...(await common(request, reply, `${request.params.cred}: connection info`)),
        spec,
        base: databasePath(spec.name),
        tab: 'credentials',
        name: request.params.cred,
        ...shown,
      }),
    );
  });

  // ---------------------------------------------------------------------------
  // Rotations advance here, from the journal, as `pgcred reconcile` does.

  let ticking: Promise<void> | undefined;
  function tick(): void {
    if (ticking) return;
    ticking = service
      .run(() => service.advanceRotations())
      .catch((error: Error) => options.log?.(`dashboard: advancing rotations: ${error.message}`))
      .finally(() => {
        ticking = undefined;
      });
  }
  const timer = setInterval(tick, options.rotationTickMs ?? 2000);
  timer.unref();

  await app.listen({ host: options.host, port: options.port });
  const port = (app.server.address() as AddressInfo).port;
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `${scheme}://${shownHost}:${port}`,
    close: async () => {
      clearInterval(timer);
      await ticking;
      await app.close();
    },
  };
}
