import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { PostgresServer } from '../../src/embedded/server';

/**
 * A database built the way a real one grows over years, by hand and by an app's
 * migrations, never by pgcred:
 *
 * - `shop_owner` (LOGIN, a password the apps use) owns the database and every object
 *   the platform team made; it installed citext and wrote two SECURITY DEFINER
 *   functions the app calls (`public.place_order`, `inventory.reserve_stock`).
 * - `shop_app` logs in with a password and hand-made grants (SELECT on a few tables,
 *   USAGE on inventory, CREATE on public for its migrations) and otherwise relies on
 *   PUBLIC: CONNECT on the database, USAGE on public, EXECUTE on the functions. Its
 *   migrations made tables it owns (`app_cache`, `schema_migrations`).
 * - `reporting` was made read-only with the seed's manual GRANTs (USAGE, SELECT ON ALL
 *   TABLES, ALTER DEFAULT PRIVILEGES), has its own password, a connection limit and a
 *   per-role setting.
 * - `etl` and `dba_jane` log in through PUBLIC's CONNECT and read through `staff`, a
 *   NOLOGIN group role they are members of.
 * - `public.customers` has row-level security with a policy for the app only.
 * - Schemas: public, inventory, archive.
 *
 * Roles are cluster-wide: each name is the run's prefix and the role's part.
 */
export interface ShopRoles {
  readonly owner: string;
  readonly app: string;
  readonly reporting: string;
  readonly etl: string;
  readonly jane: string;
  /** The NOLOGIN group etl and dba_jane are members of. */
  readonly staff: string;
}

export interface Shop {
  readonly server: PostgresServer;
  readonly database: string;
  readonly roles: ShopRoles;
  /** The passwords the legacy logins use today (staff has none). */
  readonly passwords: Readonly<Record<'owner' | 'app' | 'reporting' | 'etl' | 'jane', string>>;
  /** The superuser URL of the shop database. */
  readonly adminUrl: string;
  /** A login URL on the shop database (loopback). */
  url(user: string, password: string): string;
  /** Runs SQL in the shop database as the superuser. */
  sql(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** Runs SQL in the shop database as one of its login roles, with the password it has today. */
  sqlAs(
    role: 'owner' | 'app' | 'reporting' | 'etl' | 'jane',
    text: string,
    params?: unknown[],
  ): Promise<Record<string, unknown>[]>;
  /** Every role the fixture made, for cleanup. */
  readonly allRoles: readonly string[];
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** A legacy password: whatever the team chose years ago, not pgcred's 65-character kind. */
const legacyPassword = () => randomBytes(12).toString('hex');

export async function run(url: string, text: string, params?: unknown[]): Promise<Record<string, unknown>[]> {
  const client = new Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(text, params)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function loginUrl(server: PostgresServer, database: string, user: string, password: string): string {
  return `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${server.host}:${server.port}/${encodeURIComponent(database)}`;
}

/** Builds the shop database on `server`; `prefix` (from uniqueName) makes every role name unique. */
export async function buildShop(server: PostgresServer, prefix: string, database = 'shop'): Promise<Shop> {
  const roles: ShopRoles = {
    owner: `${prefix}_shop_owner`,
    app: `${prefix}_shop_app`,
    reporting: `${prefix}_reporting`,
    etl: `${prefix}_etl`,
    jane: `${prefix}_dba_jane`,
    staff: `${prefix}_staff`,
  };
  const passwords = {
    owner: legacyPassword(),
    app: legacyPassword(),
    reporting: legacyPassword(),
    etl: legacyPassword(),
    jane: legacyPassword(),
  };
  const { owner, app, reporting, etl, jane, staff } = roles;

  // Cluster level, as the DBA did it once, as a superuser.
  await run(
    server.url(),
    `CREATE ROLE ${ident(owner)} LOGIN PASSWORD ${literal(passwords.owner)};
     CREATE ROLE ${ident(app)} LOGIN CONNECTION LIMIT 50 PASSWORD ${literal(passwords.app)};
     CREATE ROLE ${ident(reporting)} LOGIN CONNECTION LIMIT 10 PASSWORD ${literal(passwords.reporting)};
     ALTER ROLE ${ident(reporting)} SET statement_timeout = '30s';
     CREATE ROLE ${ident(etl)} LOGIN PASSWORD ${literal(passwords.etl)};
     CREATE ROLE ${ident(jane)} LOGIN PASSWORD ${literal(passwords.jane)};
     CREATE ROLE ${ident(staff)} NOLOGIN;
     GRANT ${ident(staff)} TO ${ident(etl)}, ${ident(jane)};`,
  );
  await run(server.url(), `CREATE DATABASE ${ident(database)} OWNER ${ident(owner)}`);
  const url = (user: string, password: string) => loginUrl(server, database, user, password);
  const ownerUrl = url(owner, passwords.owner);

  // The platform team's migrations, as the owner.
  await run(
    ownerUrl,
    `CREATE EXTENSION citext;
     CREATE SCHEMA inventory;
     CREATE SCHEMA archive;
     CREATE TABLE public.customers (
       id serial PRIMARY KEY, email citext UNIQUE NOT NULL, active boolean NOT NULL DEFAULT true);
     CREATE TABLE public.products (id serial PRIMARY KEY, name text NOT NULL, price_cents int NOT NULL);
     CREATE TABLE public.orders (
       id bigserial PRIMARY KEY,
       customer_id int NOT NULL REFERENCES public.customers,
       product_id int NOT NULL REFERENCES public.products,
       quantity int NOT NULL,
       status text NOT NULL DEFAULT 'placed',
       placed_at timestamptz NOT NULL DEFAULT now());
     CREATE VIEW public.order_totals AS
       SELECT o.customer_id, sum(o.quantity * p.price_cents) AS cents
       FROM public.orders o JOIN public.products p ON p.id = o.product_id GROUP BY o.customer_id;
     CREATE TABLE inventory.stock (product_id int PRIMARY KEY REFERENCES public.products, on_hand int NOT NULL);
     CREATE TABLE archive.orders_2019 (LIKE public.orders);
     INSERT INTO public.customers (email, active) VALUES ('Ada@Example.com', true), ('grace@example.com', true), ('gone@example.com', false);
     INSERT INTO public.products (name, price_cents) VALUES ('mug', 1200), ('tee', 2500);
     INSERT INTO inventory.stock VALUES (1, 1000000), (2, 1000000);
     INSERT INTO public.orders (customer_id, product_id, quantity) VALUES (1, 1, 2);
     INSERT INTO archive.orders_2019 SELECT * FROM public.orders;

     -- Row-level security: the app sees active customers; nobody else has a policy.
     ALTER TABLE public.customers ENABLE ROW LEVEL SECURITY;
     CREATE POLICY customers_active_for_app ON public.customers FOR SELECT TO ${ident(app)} USING (active);

     -- What the app calls: it may not write orders or stock itself.
     CREATE FUNCTION public.place_order(p_customer int, p_product int, p_quantity int) RETURNS bigint
       LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
       AS $$ INSERT INTO public.orders (customer_id, product_id, quantity)
             VALUES (p_customer, p_product, p_quantity) RETURNING id $$;
     CREATE FUNCTION inventory.reserve_stock(p_product int, p_quantity int) RETURNS int
       LANGUAGE sql SECURITY DEFINER SET search_path = inventory, pg_temp
       AS $$ UPDATE inventory.stock SET on_hand = on_hand - p_quantity
             WHERE product_id = p_product RETURNING on_hand $$;

     -- The app's hand-made grants. CONNECT, USAGE on public and EXECUTE come from PUBLIC.
     GRANT SELECT ON public.customers, public.products, public.orders TO ${ident(app)};
     GRANT USAGE ON SCHEMA inventory TO ${ident(app)};
     GRANT SELECT ON inventory.stock TO ${ident(app)};
     GRANT CREATE ON SCHEMA public TO ${ident(app)};

     -- reporting, read-only the way the seed says to do it by hand.
     GRANT USAGE ON SCHEMA public TO ${ident(reporting)};
     GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${ident(reporting)};
     ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO ${ident(reporting)};

     -- The staff group etl and dba_jane read through.
     GRANT USAGE ON SCHEMA inventory TO ${ident(staff)};
     GRANT SELECT ON inventory.stock, public.products, public.orders TO ${ident(staff)};`,
  );

  // The app's own migrations, as the app: tables it owns.
  await run(
    url(app, passwords.app),
    `CREATE TABLE public.schema_migrations (version text PRIMARY KEY, applied_at timestamptz DEFAULT now());
     CREATE TABLE public.app_cache (key text PRIMARY KEY, value jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
     INSERT INTO public.schema_migrations (version) VALUES ('20190301000000'), ('20210714000000');
     INSERT INTO public.app_cache (key, value) VALUES ('home', '{"hits": 0}');`,
  );

  const loginPassword: Record<'owner' | 'app' | 'reporting' | 'etl' | 'jane', [string, string]> = {
    owner: [owner, passwords.owner],
    app: [app, passwords.app],
    reporting: [reporting, passwords.reporting],
    etl: [etl, passwords.etl],
    jane: [jane, passwords.jane],
  };
  const adminUrl = server.url(database);
  return {
    server,
    database,
    roles,
    passwords,
    adminUrl,
    url,
    sql: (text, params) => run(adminUrl, text, params),
    sqlAs: (role, text, params) => run(url(...loginPassword[role]), text, params),
    allRoles: [owner, app, reporting, etl, jane, staff],
  };
}
