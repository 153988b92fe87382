import { Client } from 'pg';
import { describeConnectionError } from '../control/store';

/** Opens the admin connection of a database; errors name the database, never the URL. */
export async function connectAdmin(url: string, label: string): Promise<Client> {
  const client = new Client({
    connectionString: url,
    application_name: 'pgcred',
    connectionTimeoutMillis: 15_000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new Error(`cannot connect to database ${label}: ${describeConnectionError(error)}`);
  }
  return client;
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
