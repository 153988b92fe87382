import { clusterOf } from './cluster';
import { type Config, type CredentialSpec, DEFAULT_CREDENTIAL, type GrantOn, type GrantSpec } from './config';
import { parseQualifiedName, parseRoutineSignature, parseSchemaName } from './identifiers';
import {
  credentialNameProblem,
  credentialUsername,
  reservedRoleProblem,
  showName,
  USERNAME_PREFIX_PATTERN,
  usernameProblem,
} from './names';
import {
  COLUMN_PRIVILEGES,
  SCHEMA_PRIVILEGES,
  SEQUENCE_PRIVILEGES,
  TABLE_PRIVILEGES,
} from './permission-level';
import { planLimits } from './plans';
import type { Problem } from './problem';
import {
  type AttributePath,
  essentialTierRefusal,
  followerRefusal,
  tooManyCredentials,
  withContext,
} from './refusals';

/** One thing wrong below a subject, at an attribute path relative to it. */
export interface AttributeProblem {
  readonly attribute: AttributePath;
  readonly message: string;
}

/** `['grants', 1, 'privileges', 0]` as a JSON path's rest: `.grants[1].privileges[0]`. */
export function jsonPath(attribute: AttributePath): string {
  return attribute.map((step) => (typeof step === 'number' ? `[${step}]` : `.${step}`)).join('');
}

const ALLOWED_PRIVILEGES: Record<GrantOn, readonly string[]> = {
  database: ['CONNECT', 'TEMPORARY'],
  schema: SCHEMA_PRIVILEGES,
  table: [...TABLE_PRIVILEGES, 'ALL'],
  'all-tables': [...TABLE_PRIVILEGES, 'ALL'],
  'default-tables': [...TABLE_PRIVILEGES, 'ALL'],
  sequence: [...SEQUENCE_PRIVILEGES, 'ALL'],
  'all-sequences': [...SEQUENCE_PRIVILEGES, 'ALL'],
  'default-sequences': [...SEQUENCE_PRIVILEGES, 'ALL'],
  'default-schemas': ['USAGE'],
  column: COLUMN_PRIVILEGES,
  routine: ['EXECUTE'],
};

/**
 * The rules that a JSON Schema cannot say: limits, uniqueness, references between
 * sections, and the Essential-tier and follower rules. Pure, so the file loader, the
 * constructs (at synth) and the imperative commands share it.
 */
export function validateConfig(config: Config): Problem[] {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });

  const databaseIndex = new Map<string, number>();
  config.databases.forEach((db, d) => {
    const at = `databases[${d}]`;
    if (databaseIndex.has(db.name)) {
      add(
        `${at}.name`,
        `duplicate database ${showName(db.name)} (also databases[${databaseIndex.get(db.name)}])`,
      );
    } else {
      databaseIndex.set(db.name, d);
    }
    const limits = planLimits(db.plan, db.credentialLimit);
    if (db.role === 'follower' && db.credentials.length > 0) {
      add(
        `${at}.credentials`,
        `${followerRefusal(db.name).message} A follower has its primary's credentials: declare them there.`,
      );
    } else if (limits.defaultOnly && db.credentials.length > 0) {
      add(`${at}.credentials`, withContext(essentialTierRefusal(db)));
    } else if (db.credentials.length > limits.credentials) {
      add(
        `${at}.credentials[${limits.credentials}]`,
        tooManyCredentials(db, { declared: db.credentials.length, by: 'this file' }).message,
      );
    }
    const ownerProblem = db.owner === undefined ? undefined : reservedRoleProblem(db.owner);
    if (ownerProblem) add(`${at}.owner`, ownerProblem);
    if (db.usernamePrefix !== undefined && !USERNAME_PREFIX_PATTERN.test(db.usernamePrefix)) {
      // The file's schema says it first; the constructs reach this.
      add(
        `${at}.usernamePrefix`,
        `${showName(db.usernamePrefix)} is not a username prefix (a letter or '_', then letters, digits, '-' and '_', at most 54)`,
      );
    } else if (db.usernamePrefix !== undefined && db.role === 'follower') {
      add(
        `${at}.usernamePrefix`,
        "a follower logs in with its primary's usernames: declare usernamePrefix on the primary",
      );
    }
    if (db.role !== 'primary' && !db.source) {
      add(`${at}.source`, `a ${db.role} names the database it came from`);
    }
    if (db.role === 'primary' && db.source) {
      add(`${at}.source`, 'only a follower or a fork has a source');
    }
    const seen = new Map<string, number>();
    db.credentials.forEach((credential, c) => {
      const cat = `${at}.credentials[${c}]`;
      for (const problem of credentialProblems(credential, db.owner))
        add(`${cat}${jsonPath(problem.attribute)}`, problem.message);
      const schemeProblem = credentialNameProblem(credential.name)
        ? undefined
        : usernameProblem(db, credential.name);
      if (schemeProblem) add(`${cat}.name`, schemeProblem);
      else if (db.usernamePrefix !== undefined && credentialUsername(db, credential.name) === db.owner)
        add(
          `${cat}.name`,
          `${showName(credential.name)} would log in as ${showName(db.owner)}, the default credential's username (owner)`,
        );
      const groups = new Set<string>();
      (credential.memberOf ?? []).forEach((group, m) => {
        const problem = memberOfProblem(group, credential.name, db.owner, credentialsOf(config, db.name));
        if (problem) add(`${cat}.memberOf[${m}]`, problem);
        else if (groups.has(group)) add(`${cat}.memberOf[${m}]`, `${showName(group)} is named twice`);
        groups.add(group);
      });
      const key = credential.name.toLowerCase();
      if (seen.has(key)) {
        add(
          `${cat}.name`,
          `duplicate credential ${showName(credential.name)} (also ${at}.credentials[${seen.get(key)}])`,
        );
      } else {
        seen.set(key, c);
      }
    });
  });

  config.databases.forEach((db, d) => {
    if (db.source && db.role !== 'primary') {
      const source = config.databases.find((other) => other.name === db.source);
      if (!source) add(`databases[${d}].source`, `unknown database ${showName(db.source)}`);
      else if (source === db) add(`databases[${d}].source`, 'a database cannot follow itself');
    }
  });

  for (const problem of sharedUsernameProblems(config)) problems.push(problem);

  const appIndex = new Map<string, number>();
  config.apps.forEach((app, a) => {
    if (appIndex.has(app.name))
      add(`apps[${a}].name`, `duplicate app ${showName(app.name)} (also apps[${appIndex.get(app.name)}])`);
    else appIndex.set(app.name, a);
  });

  const names = new Map<string, number>();
  config.attachments.forEach((attachment, i) => {
    const at = `attachments[${i}]`;
    const db = config.databases.find((candidate) => candidate.name === attachment.database);
    if (!db) {
      add(`${at}.database`, `unknown database ${showName(attachment.database)}`);
    } else if (
      attachment.credential !== DEFAULT_CREDENTIAL &&
      !credentialsOf(config, db.name).some((credential) => credential === attachment.credential)
    ) {
      add(`${at}.credential`, `unknown credential ${showName(attachment.credential)} of database ${db.name}`);
    }
    if (!appIndex.has(attachment.app)) add(`${at}.app`, `unknown app ${showName(attachment.app)}`);
    if (attachment.as) {
      if (attachment.as.endsWith('_URL')) {
        add(`${at}.as`, `give the attachment name without _URL: ${showName(attachment.as.slice(0, -4))}`);
      }
      const key = `${attachment.app}\u0000${attachment.as}`;
      if (names.has(key)) {
        add(
          `${at}.as`,
          `app ${attachment.app} already has an attachment named ${attachment.as} (attachments[${names.get(key)}])`,
        );
      } else {
        names.set(key, i);
      }
    }
  });
  return problems;
}

/**
 * Roles are cluster-wide: two databases of one cluster whose username schemes give
 * the same username would share a role. Refused here when one of them declares a
 * scheme; without any scheme the apply that comes second is refused, naming the
 * database that has the role (the Fleets section of the README).
 */
function sharedUsernameProblems(config: Config): Problem[] {
  const problems: Problem[] = [];
  const taken = new Map<string, { at: string; database: string; credential: string; scheme: boolean }>();
  config.databases.forEach((db, d) => {
    if (db.role === 'follower') return;
    const cluster = clusterOf(db);
    db.credentials.forEach((credential, c) => {
      const username = credentialUsername(db, credential.name);
      const key = `${cluster}\u0000${username}`;
      const at = `databases[${d}].credentials[${c}].name`;
      const first = taken.get(key);
      const scheme = db.usernamePrefix !== undefined;
      if (!first) {
        taken.set(key, { at, database: db.name, credential: credential.name, scheme });
        return;
      }
      if (!scheme && !first.scheme) return;
      problems.push({
        path: at,
        message:
          `credential ${showName(credential.name)} of database ${db.name} and credential ${showName(first.credential)} ` +
          `of database ${first.database} (${first.at}) would both log in as ${showName(username)} on cluster ${cluster}: ` +
          'roles are cluster-wide; give the databases different usernamePrefix values',
      });
    });
  });
  return problems;
}

/**
 * What is wrong with one credential on its own, name first: the file loader, the
 * constructs and the provider's `terraform validate` check it the same way.
 * `owner`: the default credential's username, which no credential may take.
 */
export function credentialProblems(credential: CredentialSpec, owner?: string): AttributeProblem[] {
  const problems: AttributeProblem[] = [];
  const nameProblem = credentialNameProblem(credential.name);
  if (nameProblem) problems.push({ attribute: ['name'], message: nameProblem });
  if (owner && credential.name === owner) {
    problems.push({
      attribute: ['name'],
      message: `${showName(credential.name)} is the default credential's username (owner)`,
    });
  }
  if (credential.access.kind === 'grants') {
    credential.access.grants.forEach((grant, g) => {
      for (const problem of grantProblems(grant))
        problems.push({ attribute: ['grants', g, ...problem.attribute], message: problem.message });
    });
  }
  if (
    credential.rotation?.everyMs !== undefined &&
    credential.rotation.everyMs < credential.rotation.graceMs
  ) {
    problems.push({ attribute: ['rotation'], message: 'every must be longer than grace' });
  }
  return problems;
}

/** A follower's credentials are its primary's; a fork's are its own. */
export function credentialsOf(config: Config, database: string): string[] {
  const db = config.databases.find((candidate) => candidate.name === database);
  if (!db) return [];
  if (db.role === 'follower' && db.source && db.source !== db.name) {
    const primary = config.databases.find((candidate) => candidate.name === db.source);
    return primary && primary.role !== 'follower' ? primary.credentials.map((c) => c.name) : [];
  }
  return db.credentials.map((credential) => credential.name);
}

/** A group role a credential may belong to: one pgcred does not manage. */
function memberOfProblem(
  group: string,
  credential: string,
  owner: string | undefined,
  credentials: readonly string[],
): string | undefined {
  if (group === credential) return 'a credential cannot be a member of itself';
  if (group === owner || group === DEFAULT_CREDENTIAL)
    return 'the default credential is no group role: membership in it would give its privileges away';
  if (credentials.includes(group))
    return `${showName(group)} is a credential: credentials share nothing through one another`;
  if (group.startsWith('pgcred:')) return `${showName(group)} is a level role: declare the level instead`;
  return reservedRoleProblem(group) && !group.startsWith('pg_') ? reservedRoleProblem(group) : undefined;
}

function grantProblems(grant: GrantSpec): AttributeProblem[] {
  const problems: AttributeProblem[] = [];
  const allowed = ALLOWED_PRIVILEGES[grant.on];
  grant.privileges.forEach((privilege, p) => {
    if (!allowed.includes(privilege)) {
      problems.push({
        attribute: ['privileges', p],
        message: `${privilege} cannot be granted on ${grant.on}; use ${allowed.join(', ')}`,
      });
    }
  });
  if (grant.on === 'database') {
    if (grant.objects.length > 0)
      problems.push({ attribute: ['objects'], message: 'a database grant names no objects' });
    return problems;
  }
  const optional = grant.on.startsWith('default-');
  if (!optional && grant.objects.length === 0) {
    problems.push({
      attribute: ['objects'],
      message:
        grant.on === 'routine'
          ? 'name at least one schema.name(argument types)'
          : grant.on === 'table' || grant.on === 'sequence' || grant.on === 'column'
            ? 'name at least one schema.name'
            : 'name at least one schema',
    });
  }
  if (grant.on === 'column' && (grant.columns ?? []).length === 0)
    problems.push({ attribute: ['columns'], message: 'name at least one column of the tables' });
  if (grant.on !== 'column' && grant.columns !== undefined)
    problems.push({ attribute: ['columns'], message: 'only a grant on column names columns' });
  grant.objects.forEach((object, o) => {
    try {
      if (grant.on === 'table' || grant.on === 'sequence' || grant.on === 'column')
        parseQualifiedName(object);
      else if (grant.on === 'routine') parseRoutineSignature(object);
      else parseSchemaName(object);
    } catch (error) {
      problems.push({ attribute: ['objects', o], message: (error as Error).message });
    }
  });
  if (grant.on === 'default-schemas' && grant.objects.length > 0) {
    problems.push({
      attribute: ['objects'],
      message: 'default privileges on schemas apply to the whole database: name no schema',
    });
  }
  return problems;
}
