import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ATTACHMENT_COLORS } from '../model/colors';
import {
  type Access,
  type AppSpec,
  type AttachmentSpec,
  type Config,
  type CredentialSpec,
  type DatabaseSpec,
  DEFAULT_GRACE_MS,
  type GrantOn,
} from '../model/config';
import { parseDuration } from '../model/duration';
import type { PermissionLevelName } from '../model/permission-level';
import { InvalidInputError, type Problem } from '../model/problem';
import { validateConfig } from '../model/validate';
import { readYaml } from './read-yaml';
import { validateAgainstSchema } from './schema';

/** Larger files are refused before parsing: no credential file is a megabyte. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
const DEFAULT_RESTART_TIMEOUT_MS = 60_000;

export interface LoadOptions {
  readonly env?: NodeJS.ProcessEnv;
}

/** Reads, validates and normalizes pgcred.yaml (or .json). Throws InvalidInputError; never connects. */
export function loadConfigFile(path: string, options: LoadOptions = {}): Config {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new InvalidInputError([{ path: '', message: `${path}: no such file (pass -f FILE)` }]);
  }
  if (size > MAX_CONFIG_BYTES) {
    throw new InvalidInputError([
      { path: '', message: `${path}: ${size} bytes is larger than the ${MAX_CONFIG_BYTES}-byte limit` },
    ]);
  }
  return parseConfig(readFileSync(path, 'utf8'), { ...options, file: path });
}

export function parseConfig(text: string, options: LoadOptions & { file?: string } = {}): Config {
  const file = options.file ?? 'pgcred.yaml';
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) {
    throw new InvalidInputError([
      { path: '', message: `${file}: larger than the ${MAX_CONFIG_BYTES}-byte limit` },
    ]);
  }
  const raw = readYaml(text, file);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InvalidInputError([
      { path: '', message: `${file}: must be a mapping with version and databases` },
    ]);
  }
  const envProblems: Problem[] = [];
  const substituted = substituteEnv(raw, options.env ?? process.env, '', envProblems);
  // An unset variable is reported once, not again as the empty value it left behind.
  const unset = new Set(envProblems.map((p) => p.path));
  const problems = [
    ...envProblems,
    ...validateAgainstSchema('pgcred.schema.json', substituted).filter((p) => !unset.has(p.path)),
    ...urlProblems(substituted).filter((p) => !unset.has(p.path)),
  ];
  if (problems.length > 0) throw new InvalidInputError(problems, file);
  const shape = credentialShapeProblems(substituted as RawConfig);
  if (shape.length > 0) throw new InvalidInputError(shape, file);
  const config = normalize(substituted as RawConfig, dirname(resolve(file)));
  const semantic = validateConfig(config);
  if (semantic.length > 0) throw new InvalidInputError(semantic, file);
  return config;
}

/**
 * Admin URLs are checked for shape before anything connects (a string that is not a
 * URL would otherwise reach the driver's defaults). The value is never echoed: it holds a password.
 */
function urlProblems(raw: unknown): Problem[] {
  const problems: Problem[] = [];
  const check = (value: unknown, path: string) => {
    if (typeof value !== 'string' || value === '') return; // the schema reports those
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') || !url.hostname) {
      problems.push({
        path,
        message:
          'is not a PostgreSQL URL such as postgres://USER:PASSWORD@HOST:5432/DATABASE (value not shown)',
      });
    }
  };
  const doc = raw as { databases?: unknown; control?: { url?: unknown } };
  if (Array.isArray(doc.databases)) {
    doc.databases.forEach((db, d) => {
      if (db && typeof db === 'object') check((db as { url?: unknown }).url, `databases[${d}].url`);
    });
  }
  if (doc.control && typeof doc.control === 'object') check(doc.control.url, 'control.url');
  return problems;
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** `${VAR}` reads the environment; `$${` writes a literal `${`. The value itself is never echoed. */
function substituteEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  path: string,
  problems: Problem[],
  within: ReadonlySet<unknown> = new Set(),
): unknown {
  if (typeof value === 'string') {
    return value
      .replace(VARIABLE, (match, name: string, offset: number, whole: string) => {
        if (offset > 0 && whole[offset - 1] === '$') return match;
        const found = env[name];
        if (found === undefined || found === '') {
          problems.push({ path, message: `environment variable ${name} is not set` });
          return '';
        }
        return found;
      })
      .replace(/\$\$\{/g, '${');
  }
  if (value && typeof value === 'object') {
    // An alias inside its own anchor (`&a [*a]`) makes a cycle, which no pgcred file has.
    if (within.has(value)) {
      problems.push({ path, message: 'refers to itself (a YAML alias inside its own anchor)' });
      return null;
    }
    const inner = new Set([...within, value]);
    if (Array.isArray(value))
      return value.map((item, i) => substituteEnv(item, env, `${path}[${i}]`, problems, inner));
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        substituteEnv(item, env, path ? `${path}.${key}` : key, problems, inner),
      ]),
    );
  }
  return value;
}

interface RawGrant {
  privileges: string[];
  on: GrantOn;
  objects?: string[];
  columns?: string[];
}
interface RawCredential {
  name: string;
  permission?: PermissionLevelName;
  grants?: RawGrant[];
  memberOf?: string[];
  rotation?: { every?: string; grace?: string };
}
interface RawDatabase {
  name: string;
  url: string;
  plan?: string;
  color?: string;
  role?: DatabaseSpec['role'];
  cluster?: string;
  tags?: string[];
  source?: string;
  owner?: string;
  usernamePrefix?: string;
  credentialLimit?: number;
  executor?: DatabaseSpec['executor'];
  ignoreRoles?: string[];
  public?: DatabaseSpec['public'];
  credentials?: RawCredential[];
}
interface RawConfig {
  version: 1;
  control?: { url?: string; keyFile?: string };
  databases: RawDatabase[];
  apps?: { name: string; envFile?: string; restart?: string; restartTimeout?: string }[];
  attachments?: AttachmentSpec[];
}

function normalize(raw: RawConfig, baseDir: string): Config {
  const path = (p: string | undefined) =>
    p === undefined ? undefined : isAbsolute(p) ? p : resolve(baseDir, p);
  const databases: DatabaseSpec[] = raw.databases.map((db) => ({
    name: db.name,
    url: db.url,
    plan: db.plan ?? 'standard-0',
    color: db.color ?? defaultColor(db.name),
    role: db.role ?? 'primary',
    ...(db.cluster ? { cluster: db.cluster } : {}),
    ...(db.tags && db.tags.length > 0 ? { tags: db.tags } : {}),
    source: db.source,
    owner: db.owner,
    ...(db.usernamePrefix !== undefined ? { usernamePrefix: db.usernamePrefix } : {}),
    credentialLimit: db.credentialLimit,
    executor: db.executor ?? 'pgcred',
    ignoreRoles: db.ignoreRoles ?? [],
    ...(db.public && db.public !== 'auto' ? { public: db.public } : {}),
    credentials: (db.credentials ?? []).map(normalizeCredential),
  }));
  const apps: AppSpec[] = (raw.apps ?? []).map((app) => ({
    name: app.name,
    envFile: path(app.envFile),
    restart: app.restart,
    restartTimeoutMs: app.restartTimeout ? parseDuration(app.restartTimeout) : DEFAULT_RESTART_TIMEOUT_MS,
  }));
  return {
    version: 1,
    databases,
    apps,
    attachments: (raw.attachments ?? []).map((a) => ({ ...a })),
    control: { url: raw.control?.url, keyFile: path(raw.control?.keyFile) },
  };
}

function credentialShapeProblems(raw: RawConfig): Problem[] {
  const problems: Problem[] = [];
  raw.databases.forEach((db, d) => {
    (db.credentials ?? []).forEach((credential, c) => {
      if (credential.permission && credential.grants) {
        problems.push({
          path: `databases[${d}].credentials[${c}]`,
          message: 'give either permission or grants, not both',
        });
      }
    });
  });
  return problems;
}

export function normalizeCredential(raw: RawCredential): CredentialSpec {
  let access: Access;
  if (raw.grants) {
    access = {
      kind: 'grants',
      grants: raw.grants.map((g) => ({
        privileges: g.privileges,
        on: g.on,
        objects: g.objects ?? [],
        ...(g.columns ? { columns: g.columns } : {}),
      })),
    };
  } else {
    access = { kind: 'level', level: raw.permission ?? 'none' };
  }
  return {
    name: raw.name,
    access,
    ...(raw.memberOf && raw.memberOf.length > 0 ? { memberOf: raw.memberOf } : {}),
    rotation: raw.rotation
      ? {
          everyMs: raw.rotation.every ? parseDuration(raw.rotation.every) : undefined,
          graceMs: raw.rotation.grace ? parseDuration(raw.rotation.grace) : DEFAULT_GRACE_MS,
        }
      : undefined,
  };
}

/** A stable color per database name, so listings and attachment names agree across runs. */
export function defaultColor(name: string): string {
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return ATTACHMENT_COLORS[hash % ATTACHMENT_COLORS.length]!;
}
