import type { ControlStore } from '../control/store';
import { faultPoint } from '../faults';
import { chooseAttachmentName, configVarName } from '../model/colors';
import { type DatabaseSpec, DEFAULT_CREDENTIAL } from '../model/config';
import { ATTACHMENT_NAME_PATTERN } from '../model/names';
import { usernamesAt } from '../model/rotation-steps';
import { endpointOf } from '../postgres/connection';
import { inspectDatabase, liveCredentialRoles } from '../reconciler/credentials';
import { ownerName } from '../reconciler/diff';
import type { LiveState } from '../reconciler/live-state';
import { credentialSource, type ReconcileContext } from '../reconciler/reconcile';
import { deliver, type RestartOutcome, recordRelease } from './config-vars';

export class AttachmentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AttachmentError';
  }
}

export interface Attachment {
  readonly app: string;
  readonly name: string;
  readonly database: string;
  readonly credential: string;
  readonly username: string;
  readonly declared: boolean;
  readonly configVar: string;
}

export interface AttachResult {
  readonly attachment: Attachment;
  readonly release: number;
  readonly restart: RestartOutcome;
}

/** The username apps should use for a credential right now: `<name>-rotating` during part of a rotation. */
export async function activeUsername(
  control: ControlStore,
  database: string,
  credential: string,
  base: string,
): Promise<string> {
  const rotation = await control.rotations.open(database, credential);
  if (!rotation) return base;
  return usernamesAt(base, rotation.step, rotation.force).find((u) => u.state === 'active')!.user;
}

/** The role behind a credential name (`default` is the owner), after checking it exists. */
export function resolveCredential(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  live: LiveState,
  credential: string,
): string {
  const source = credentialSource(ctx.config, spec);
  if (credential === DEFAULT_CREDENTIAL) {
    return ownerName(source, live);
  }
  const role = liveCredentialRoles(live, source).get(credential);
  if (!role) throw new AttachmentError(`Could not find credential ${credential} on ${spec.name}`);
  return role;
}

/**
 * The admin URL's own password is the default credential's when pgcred logs in as
 * it; keep it in the store so URLs can be built without the config file.
 */
export async function rememberAdminPassword(
  control: ControlStore,
  spec: DatabaseSpec,
  database: string,
  username: string,
): Promise<void> {
  const url = new URL(spec.url);
  if (decodeURIComponent(url.username) !== username || !url.password) return;
  if (await control.getPassword(database, username)) return;
  await control.setPassword(database, username, decodeURIComponent(url.password));
}

export interface AttachRequest {
  readonly spec: DatabaseSpec;
  readonly credential: string;
  readonly app: string;
  readonly as?: string;
  readonly declared?: boolean;
}

/** `pgcred attach`: one config var on the app, named DATABASE, HEROKU_POSTGRESQL_<COLOR> or `--as`. */
export async function attach(
  ctx: ReconcileContext,
  request: AttachRequest,
  live?: LiveState,
): Promise<AttachResult> {
  if (request.as !== undefined && !ATTACHMENT_NAME_PATTERN.test(request.as)) {
    throw new AttachmentError(
      `--as: "${request.as}" is not an attachment name (upper-case letters, digits and '_', e.g. ANALYTICS)`,
    );
  }
  const { spec } = request;
  const state = live ?? (await inspectDatabase(spec, ctx));
  const source = credentialSource(ctx.config, spec).name;
  const username = resolveCredential(ctx, spec, state, request.credential);
  await rememberAdminPassword(ctx.control, spec, source, username);
  if (!(await ctx.control.getPassword(source, username))) {
    throw new AttachmentError(
      `pgcred does not know the password of ${request.credential}: run pgcred credentials:rotate ${spec.name}${request.credential === DEFAULT_CREDENTIAL ? '' : ` --name ${request.credential}`} first`,
    );
  }
  const endpoint = endpointOf(spec.url);
  const control = ctx.control;
  const { attachment, release } = await control.transaction(async (db) => {
    await control.apps.ensure(request.app);
    await control.apps.lock(request.app);
    const taken = new Set(await control.attachments.namesOf(request.app));
    if (request.as && taken.has(request.as)) {
      throw new AttachmentError(
        `⬢ ${request.app} already has an attachment named ${request.as}; choose another --as`,
      );
    }
    const name = request.as ?? chooseAttachmentName(taken, spec.color);
    const active = await activeUsername(control, source, request.credential, username);
    await control.attachments.insert({
      app: request.app,
      name,
      database: source,
      credential: request.credential,
      username: active,
      host: endpoint.host,
      port: endpoint.port,
      dbname: endpoint.database,
      sslmode: endpoint.sslmode ?? null,
      declared: request.declared ?? false,
    });
    await control.audit(
      {
        action: 'attach',
        database: spec.name,
        subject: request.credential,
        detail: { app: request.app, name },
      },
      db,
    );
    const { release } = await recordRelease(
      control,
      db,
      request.app,
      `Attach ${request.credential} of ${spec.name} as ${name}`,
    );
    const attachment: Attachment = {
      app: request.app,
      name,
      database: source,
      credential: request.credential,
      username: active,
      declared: request.declared ?? false,
      configVar: configVarName(name),
    };
    return { attachment, release };
  });
  faultPoint('attach:recorded');
  const restart = await deliver(control, request.app);
  return { attachment, release, restart };
}

/** `pgcred detach --app APP NAME`: NAME is the attachment (DATABASE) or its config var (DATABASE_URL). */
export async function detach(ctx: ReconcileContext, app: string, name: string): Promise<AttachResult> {
  const attachmentName = name.endsWith('_URL') ? name.slice(0, -4) : name;
  const control = ctx.control;
  const { attachment, release } = await control.transaction(async (db) => {
    const row = await control.attachments.delete(app, attachmentName);
    if (!row) {
      const names = await control.attachments.namesOf(app);
      throw new AttachmentError(
        `⬢ ${app} has no attachment named ${attachmentName}${names.length ? ` (it has ${names.join(', ')})` : ''}`,
      );
    }
    await control.audit(
      {
        action: 'detach',
        database: row.database,
        subject: row.credential,
        detail: { app, name: attachmentName },
      },
      db,
    );
    const { release } = await recordRelease(control, db, app, `Detach ${attachmentName}`);
    const attachment: Attachment = {
      app,
      name: attachmentName,
      database: row.database,
      credential: row.credential,
      username: row.username,
      declared: row.declared,
      configVar: configVarName(attachmentName),
    };
    return { attachment, release };
  });
  const restart = await deliver(control, app);
  return { attachment, release, restart };
}

export async function attachmentsOf(
  control: ControlStore,
  where: { app?: string; database?: string },
): Promise<Attachment[]> {
  const rows = await control.attachments.list(where);
  return rows.map((row) => ({
    app: row.app,
    name: row.name,
    database: row.database,
    credential: row.credential,
    username: row.username,
    declared: row.declared,
    configVar: configVarName(row.name),
  }));
}

export interface AttachmentSync {
  readonly attached: AttachResult[];
  readonly detached: AttachResult[];
}

/**
 * Makes the declared attachments exist, and removes declared ones that left the
 * file. Names already given stay; new ones are handed out in a fixed order
 * (database, the default credential first, credential, app), so reordering the file renames nothing.
 * Attachments made with `pgcred attach` are left alone.
 */
export async function syncDeclaredAttachments(
  ctx: ReconcileContext,
  lives: ReadonlyMap<string, LiveState>,
  options: {
    readonly detachOnly?: boolean;
    /** Databases not to attach to now (their apply failed): what they have stays, nothing is added. */
    readonly skipDatabases?: ReadonlySet<string>;
  } = {},
): Promise<AttachmentSync> {
  const existing = await attachmentsOf(ctx.control, {});
  const declared = ctx.config.attachments;
  const keyOf = (a: { app: string; database: string; credential: string }) =>
    `${a.app}\u0000${a.database}\u0000${a.credential}`;
  const sourceOf = (database: string) => {
    const spec = ctx.config.databases.find((db) => db.name === database);
    return spec ? credentialSource(ctx.config, spec).name : database;
  };
  const wanted = declared.map((a) => ({ ...a, source: sourceOf(a.database) }));
  const matched = new Set<Attachment>();
  const missing: typeof wanted = [];
  for (const want of wanted) {
    const found = existing.find(
      (e) =>
        e.declared &&
        !matched.has(e) &&
        keyOf(e) === keyOf({ app: want.app, database: want.source, credential: want.credential }) &&
        (want.as === undefined || e.name === want.as),
    );
    if (found) matched.add(found);
    else missing.push(want);
  }
  const detached: AttachResult[] = [];
  for (const stale of existing.filter((e) => e.declared && !matched.has(e))) {
    detached.push(await detach(ctx, stale.app, stale.name));
  }
  if (options.detachOnly) return { attached: [], detached };
  // The default credential first: it is the app's own database, as on Heroku.
  const rank = (credential: string) => (credential === DEFAULT_CREDENTIAL ? '' : credential);
  missing.sort(
    (a, b) =>
      a.database.localeCompare(b.database) ||
      rank(a.credential).localeCompare(rank(b.credential)) ||
      a.app.localeCompare(b.app),
  );
  const attached: AttachResult[] = [];
  for (const want of missing) {
    if (options.skipDatabases?.has(want.database)) continue;
    const spec = ctx.config.databases.find((db) => db.name === want.database)!;
    attached.push(
      await attach(
        ctx,
        { spec, credential: want.credential, app: want.app, as: want.as, declared: true },
        lives.get(spec.name),
      ),
    );
  }
  return { attached, detached };
}
