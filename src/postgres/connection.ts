import { Client } from 'pg';

/** How long a connection may take to open, TCP to ready-for-query, unless PGCRED_CONNECT_TIMEOUT says otherwise. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
let connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS;

/**
 * PGCRED_CONNECT_TIMEOUT (seconds, e.g. 2.5) as milliseconds; unset or empty: the
 * default. Throws, naming the variable, on anything that is not a positive number.
 */
export function connectTimeoutFrom(env: NodeJS.ProcessEnv): number {
  const raw = env.PGCRED_CONNECT_TIMEOUT;
  if (raw === undefined || raw.trim() === '') return DEFAULT_CONNECT_TIMEOUT_MS;
  const seconds = Number(raw);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(raw) || !(seconds > 0) || seconds > 3600) {
    throw new Error(
      `PGCRED_CONNECT_TIMEOUT: ${JSON.stringify(raw.slice(0, 20))} is not a number of seconds from 0.001 to 3600`,
    );
  }
  return Math.max(1, Math.round(seconds * 1000));
}

/** The connect timeout of every connection pgcred opens from now on (the CLI sets it once per command). */
export function setConnectTimeout(ms: number): void {
  connectTimeoutMs = ms;
}

export function connectTimeout(): number {
  return connectTimeoutMs;
}

/** A connection that did not open within the connect timeout (a host that accepts and never answers). */
export class ConnectTimeoutError extends Error {
  readonly code = 'PGCRED_CONNECT_TIMEOUT';
  constructor(readonly timeoutMs: number) {
    super(
      `no answer within ${formatSeconds(timeoutMs)} (the connect timeout; PGCRED_CONNECT_TIMEOUT sets it)`,
    );
    this.name = 'ConnectTimeoutError';
  }
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/**
 * Connects a client within the connect timeout. node-postgres has none by default,
 * and reports its own as a bare "timeout expired" or "Connection terminated".
 */
export async function connectWithin(client: Client, timeoutMs = connectTimeoutMs): Promise<void> {
  const started = Date.now();
  try {
    await client.connect();
  } catch (error) {
    if ((error as { code?: string }).code === undefined && Date.now() - started >= timeoutMs * 0.9)
      throw new ConnectTimeoutError(timeoutMs);
    throw error;
  }
}

/**
 * One connection, closed again when it fails to open. The connect timeout bounds a
 * host that accepts and never answers.
 */
export async function openClient(url: string, applicationName: string, password?: string): Promise<Client> {
  const timeoutMs = connectTimeoutMs;
  const client = new Client({
    // pg lets a connection string's password win over a `password` option.
    connectionString: password ? withPassword(url, password) : url,
    application_name: applicationName,
    connectionTimeoutMillis: timeoutMs,
  });
  client.on('error', () => undefined);
  try {
    await connectWithin(client, timeoutMs);
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}

/**
 * Admin connections a command opened ahead, by URL. A command that will need a
 * database's admin connection opens it while the control store opens rather than after
 * it: the two logins take as long as one. The first connectAdmin of that URL takes it,
 * and fails as it would have, the same error handled the same way.
 */
const ahead = new Map<string, Promise<Client>>();

/** Opens a connection to `url` into `opened`, unless one is there; handled where it is taken, or by closeUnclaimed. */
function openInto(opened: Map<string, Promise<Client>>, url: string): void {
  if (opened.has(url)) return;
  const opening = openClient(url, 'pgcred');
  opening.catch(() => undefined);
  opened.set(url, opening);
}

function takeFrom(opened: Map<string, Promise<Client>>, url: string): Promise<Client> | undefined {
  const opening = opened.get(url);
  opened.delete(url);
  return opening;
}

export function openAhead(url: string): void {
  openInto(ahead, url);
}

/**
 * A second admin connection to a database, opened ahead beside the first for a command
 * that works on that one database: inspection reads most catalogs there while the
 * first reads pg_class (see inspect's helper). Only ever one opened ahead: a command
 * that would have to open it when needed gains nothing from it.
 */
const spares = new Map<string, Promise<Client>>();

export function openSpareAhead(url: string): void {
  openInto(spares, url);
}

/** The spare connection of a URL, if one was opened ahead and opened; undefined otherwise. */
export async function takeSpare(url: string): Promise<Client | undefined> {
  return takeFrom(spares, url)?.catch(() => undefined);
}

/** Ends the connections opened ahead that no command took (it failed before it needed them). */
export async function closeUnclaimed(): Promise<void> {
  const left = [...ahead.values(), ...spares.values()];
  ahead.clear();
  spares.clear();
  await Promise.all(left.map((opening) => opening.then(endBeforeExit).catch(() => undefined)));
}

/**
 * Ends a connection of a command about to exit, without waiting for its server to close
 * it: once the Terminate message is handed to the kernel the socket stops keeping the
 * process alive. A backend takes 10 to 30 ms to exit after a long session, and every
 * command waited for each of its connections' in turn. Falls back to end() when the
 * driver's socket is not where it has been in every node-postgres 8 release.
 */
export function endBeforeExit(client: Client): Promise<void> {
  const ended = client.end().catch(() => undefined);
  const socket = (client as { connection?: { stream?: unknown } }).connection?.stream as
    | (NodeJS.WritableStream & { writableFinished?: boolean; destroyed?: boolean; unref?: () => void })
    | undefined;
  if (!socket || typeof socket.unref !== 'function' || typeof socket.once !== 'function') return ended;
  return new Promise<void>((resolve) => {
    const done = () => {
      socket.unref?.();
      resolve();
    };
    if (socket.writableFinished || socket.destroyed) done();
    else {
      socket.once('finish', done);
      socket.once('close', done);
      socket.once('error', done);
    }
  });
}

/**
 * Opens the admin connection of a database; errors name the database, never the URL.
 *
 * When pgcred logs in as the default credential and has rotated it, the URL's
 * password is out of date: `storedPassword` gives the one pgcred keeps, and pgcred
 * uses it (and says so) rather than locking itself out.
 */
export async function connectAdmin(
  url: string,
  label: string,
  storedPassword?: (user: string) => Promise<string | undefined>,
  warn?: (line: string) => void,
): Promise<Client> {
  const open = (password?: string) => openClient(url, 'pgcred', password);
  try {
    return await (takeFrom(ahead, url) ?? open());
  } catch (error) {
    if ((error as { code?: string }).code === '28P01' && storedPassword) {
      const user = decodeURIComponent(new URL(url).username);
      const stored = await storedPassword(user);
      if (stored && stored !== decodeURIComponent(new URL(url).password)) {
        const client = await open(stored).catch(() => undefined);
        if (client) {
          warn?.(
            `The admin URL of ${label} has the password ${user} had before pgcred rotated it; pgcred uses the one it keeps. ` +
              `Update the URL: pgcred credentials:url ${label}`,
          );
          return client;
        }
      }
    }
    throw new Error(`cannot connect to database ${label} ${whereOf(url)}: ${describeConnectionError(error)}`);
  }
}

export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly sslmode?: string;
}

/** Where credentials connect: the admin URL's host, port and database. */
export function endpointOf(url: string): Endpoint {
  const parsed = new URL(url);
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new Error('a database URL starts with postgres://');
  }
  return {
    host: decodeURIComponent(parsed.hostname) || 'localhost',
    port: parsed.port ? Number(parsed.port) : 5432,
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || decodeURIComponent(parsed.username),
    sslmode: parsed.searchParams.get('sslmode') ?? undefined,
  };
}

/** A credential's connection URL. Passwords are alphanumeric; the other parts are escaped. */
export function credentialUrl(endpoint: Endpoint, user: string, password: string): string {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  const query = endpoint.sslmode ? `?sslmode=${encodeURIComponent(endpoint.sslmode)}` : '';
  return `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${endpoint.port}/${encodeURIComponent(endpoint.database)}${query}`;
}

/** libpq's key=value form, as `heroku pg:credentials:url` prints it. */
export function connectionInfoString(endpoint: Endpoint, user: string, password: string): string {
  const quote = (v: string) => (/^[^\s'\\]+$/.test(v) ? v : `'${v.replace(/(['\\])/g, '\\$1')}'`);
  return [
    `dbname=${quote(endpoint.database)}`,
    `host=${quote(endpoint.host)}`,
    `port=${endpoint.port}`,
    `user=${quote(user)}`,
    `password=${quote(password)}`,
    `sslmode=${quote(endpoint.sslmode ?? 'prefer')}`,
  ].join(' ');
}

/** The same URL with another password. */
export function withPassword(url: string, password: string): string {
  const parsed = new URL(url);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

/** `on HOST:PORT as USER`: where a connection went, in words, without its password. */
export function whereOf(url: string): string {
  try {
    const { host, port } = endpointOf(url);
    const user = decodeURIComponent(new URL(url).username);
    return `on ${host}:${port}${user ? ` as ${user}` : ''}`;
  } catch {
    return '(its URL does not parse)';
  }
}

/** A connection error in words, without the URL (it holds a password). */
export function describeConnectionError(error: unknown): string {
  const e = error as { code?: string; message?: string };
  if (e.code === 'ECONNREFUSED') return 'connection refused';
  if (e.code === 'ENOTFOUND') return 'host not found';
  if (e.code === '28P01') return 'password authentication failed';
  if (e.code === '3D000') return e.message ?? 'database does not exist';
  return e.message ?? String(error);
}
