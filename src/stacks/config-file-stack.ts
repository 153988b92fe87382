import { readFileSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { loadConfigFile } from '../config/load';
import { readYaml } from '../config/read-yaml';
import {
  AdminConnection,
  Application,
  Attachment,
  Credential,
  Database,
  DatabasePlan,
  DatabaseRole,
  Grant,
  Manifest,
  Permission,
  Rotation,
  type TerraformProviderName,
} from '../constructs';
import { durationText } from '../constructs/config-document';
import type { AttachmentColor } from '../model/colors';
import type { Config, DatabaseSpec, Executor } from '../model/config';
import { DEFAULT_CREDENTIAL } from '../model/config';
import { InvalidInputError } from '../model/problem';

const REFERENCE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** Props of a `ConfigFileStack`. */
export interface ConfigFileStackProps {
  /** The pgcred.yaml (or .json) to build the stack from. */
  readonly file: string;
  /**
   * The schemas each database's levels cover in Terraform, by database name.
   * @default - ['public'] for every database
   */
  readonly schemas?: Readonly<Record<string, readonly string[]>>;
  /**
   * How Terraform connects to each database.
   * @default - AdminConnection.fromVariables, with the file's `${VAR}` as the URL variable
   */
  readonly admin?: (database: DatabaseSpec) => AdminConnection;
  /**
   * Who creates roles and grants for a database whose entry in the file names no `executor`.
   * @default 'terraform': the stack's postgresql_* resources
   */
  readonly executor?: Executor;
  /**
   * The Terraform provider the credentials synthesize to (see DatabaseProps.terraformProvider).
   * @default 'postgresql'
   */
  readonly terraformProvider?: TerraformProviderName;
}

/**
 * A stack built from a pgcred.yaml through the same constructs a TypeScript stack
 * uses, so a YAML user gets the same Terraform and the same manifest. `${VAR}`
 * references are kept as references: synth never reads a secret.
 *
 * One difference from running pgcred on the file directly: the manifest names each
 * database's default credential (derived from the name unless `owner` is given),
 * because Terraform's default privileges need it at synth time.
 */
export class ConfigFileStack extends TerraformStack {
  /** The file's model, as loaded (each admin URL stands for its variable). */
  readonly config: Config;

  constructor(scope: Construct, id: string, props: ConfigFileStackProps) {
    super(scope, id);
    // The file as written: which databases name an executor, and which ${VAR} each URL is.
    let raw: RawFile | null = null;
    try {
      raw = readYaml(readFileSync(props.file, 'utf8'), props.file) as RawFile | null;
    } catch {
      // A missing or broken file: the loader reports it below, in its words.
    }
    const rawDatabases = Array.isArray(raw?.databases) ? raw.databases : [];
    const urlVariables = new Set(
      [...rawDatabases.map((db) => db?.url), raw?.control?.url].flatMap((url) =>
        typeof url === 'string' && REFERENCE.test(url) ? [REFERENCE.exec(url)![1]!] : [],
      ),
    );
    this.config = loadConfigFile(props.file, { env: referencesOnly(urlVariables) });
    // The loader fills in `executor: pgcred` for the CLI; here only an explicit one counts.
    const declared = new Set(rawDatabases.filter((db) => db?.executor !== undefined).map((db) => db.name));
    const variableOf = (value: unknown, path: string) => {
      const match = typeof value === 'string' ? REFERENCE.exec(value) : null;
      if (!match) {
        throw new InvalidInputError(
          [{ path, message: 'must be a ${VAR} reference for cdktf: the manifest is a build artifact' }],
          props.file,
        );
      }
      return match[1]!;
    };

    const databases = new Map<string, Database>();
    this.config.databases.forEach((spec, d) => {
      const urlVariable = variableOf(rawDatabases[d]?.url, `databases[${d}].url`);
      const database = new Database(this, spec.name, {
        name: spec.name,
        admin: props.admin?.(spec) ?? AdminConnection.fromVariables({ urlVariable }),
        plan: DatabasePlan.of(spec.plan),
        color: spec.color as AttachmentColor,
        role:
          spec.role === 'follower'
            ? DatabaseRole.followerOf({ name: spec.source! })
            : spec.role === 'fork'
              ? DatabaseRole.forkOf({ name: spec.source! })
              : DatabaseRole.PRIMARY,
        schemas: props.schemas?.[spec.name],
        owner: spec.owner,
        ...(spec.usernamePrefix !== undefined ? { usernamePrefix: spec.usernamePrefix } : {}),
        credentialLimit: spec.credentialLimit,
        executor: declared.has(spec.name) ? spec.executor : (props.executor ?? 'terraform'),
        ignoreRoles: spec.ignoreRoles,
        terraformProvider: props.terraformProvider,
      });
      for (const credential of spec.credentials) {
        const rotation = credential.rotation;
        database.addCredential(credential.name, {
          name: credential.name,
          permission: credential.access.kind === 'level' ? Permission.of(credential.access.level) : undefined,
          grants:
            credential.access.kind === 'grants' ? credential.access.grants.map(Grant.fromSpec) : undefined,
          rotation: rotation
            ? rotation.everyMs === undefined
              ? Rotation.onRequest({ grace: durationText(rotation.graceMs) })
              : Rotation.every(durationText(rotation.everyMs), { grace: durationText(rotation.graceMs) })
            : undefined,
        });
      }
      databases.set(spec.name, database);
    });

    // The loader resolves the file's relative paths; the constructs take them relative
    // to the directory synth runs in, so synthesized JSON holds no machine's path.
    const asWritten = (path: string | undefined, written: unknown) =>
      path !== undefined && typeof written === 'string' && !isAbsolute(written)
        ? relative(process.cwd(), path) || '.'
        : path;
    const apps = new Map<string, Application>();
    this.config.apps.forEach((app, i) => {
      apps.set(
        app.name,
        new Application(this, `app-${app.name}`, {
          name: app.name,
          envFile: asWritten(app.envFile, raw?.apps?.[i]?.envFile),
          restart: app.restart,
          restartTimeout: durationText(app.restartTimeoutMs),
        }),
      );
    });
    this.config.attachments.forEach((attachment, i) => {
      const database = databases.get(attachment.database)!;
      new Attachment(this, `attachment-${i}`, {
        credential:
          attachment.credential === DEFAULT_CREDENTIAL
            ? database.defaultCredential
            : (database.credentials.find((c) => c.credentialName === attachment.credential) ??
              Credential.fromName(database, attachment.credential)),
        app: apps.get(attachment.app)!,
        as: attachment.as,
      });
    });

    if (this.config.control.url !== undefined || this.config.control.keyFile !== undefined) {
      Manifest.of(this).configureControl({
        urlVariable:
          this.config.control.url === undefined ? undefined : variableOf(raw?.control?.url, 'control.url'),
        keyFile: asWritten(this.config.control.keyFile, raw?.control?.keyFile),
      });
    }
  }
}

interface RawFile {
  readonly databases?: { name?: unknown; url?: unknown; executor?: unknown }[];
  readonly apps?: { envFile?: unknown }[];
  readonly control?: { url?: unknown; keyFile?: unknown };
}

/**
 * An environment in which the loader validates the file without a secret: a URL
 * variable reads as a URL that names it (the loader checks URLs for shape), any
 * other `${NAME}` as itself.
 */
function referencesOnly(urlVariables: ReadonlySet<string>): NodeJS.ProcessEnv {
  return new Proxy({} as NodeJS.ProcessEnv, {
    get: (_target, name) => {
      if (typeof name !== 'string') return undefined;
      return urlVariables.has(name) ? `postgres://reference.invalid/${name}` : `\${${name}}`;
    },
  });
}
