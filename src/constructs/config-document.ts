import type { Config, CredentialSpec, DatabaseSpec } from '../model/config';

/**
 * The model written back in pgcred.yaml's shape (schemas/pgcred.schema.json), for
 * the manifest: the inverse of the loader's normalization. Its JSON paths are the
 * model's (`databases[0].credentials[3].name`), so a problem found in either maps
 * to the same construct.
 */
export function configDocument(config: Config): Record<string, unknown> {
  const control = compact({ url: config.control.url, keyFile: config.control.keyFile });
  return compact({
    version: 1,
    control: Object.keys(control).length > 0 ? control : undefined,
    databases: config.databases.map(databaseDocument),
    apps: config.apps.map((app) =>
      compact({
        name: app.name,
        envFile: app.envFile,
        restart: app.restart,
        restartTimeout: durationText(app.restartTimeoutMs),
      }),
    ),
    attachments: config.attachments.map((a) =>
      compact({ database: a.database, credential: a.credential, app: a.app, as: a.as }),
    ),
  });
}

function databaseDocument(db: DatabaseSpec): Record<string, unknown> {
  return compact({
    name: db.name,
    url: db.url,
    plan: db.plan,
    color: db.color,
    role: db.role,
    source: db.source,
    owner: db.owner,
    usernamePrefix: db.usernamePrefix,
    credentialLimit: db.credentialLimit,
    executor: db.executor,
    ignoreRoles: db.ignoreRoles.length > 0 ? [...db.ignoreRoles] : undefined,
    public: db.public,
    credentials: db.credentials.map(credentialDocument),
  });
}

function credentialDocument(credential: CredentialSpec): Record<string, unknown> {
  const access = credential.access;
  return compact({
    name: credential.name,
    permission: access.kind === 'level' ? access.level : undefined,
    grants:
      access.kind === 'grants'
        ? access.grants.map((g) =>
            compact({
              privileges: [...g.privileges],
              on: g.on,
              objects: g.objects.length > 0 ? [...g.objects] : undefined,
              columns: g.columns ? [...g.columns] : undefined,
            }),
          )
        : undefined,
    memberOf: credential.memberOf && credential.memberOf.length > 0 ? [...credential.memberOf] : undefined,
    rotation: credential.rotation
      ? compact({
          every:
            credential.rotation.everyMs === undefined ? undefined : durationText(credential.rotation.everyMs),
          // Written even when it is the default: a reader of the manifest sees the grace the stack declares.
          grace: durationText(credential.rotation.graceMs),
        })
      : undefined,
  });
}

const UNITS: readonly [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** Milliseconds as the file writes them, in the largest unit that divides them (`90d`, `30m`). */
export function durationText(ms: number): string {
  for (const [unit, size] of UNITS) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  throw new Error(`${ms} ms is not a whole number of seconds`);
}

function compact(object: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
}
