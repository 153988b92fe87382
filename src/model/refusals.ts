import type { DatabaseSpec } from './config';
import { DEFAULT_CREDENTIAL } from './config';
import { credentialNameProblem, usernameProblem } from './names';
import { ESSENTIAL_TIER_MESSAGE, FOLLOWER_MESSAGE, planLimits } from './plans';

/**
 * The catalogue of refusals: what pgcred refuses about a credential, as data, from
 * one set of checks. The CLI prints `message`; the file loader and the constructs
 * put it at a JSON path or a construct path; the provider turns it into a Terraform
 * diagnostic titled `TITLES[code]` on `attribute`. The words are Heroku's where the
 * Heroku CLI refuses the same thing (see the constants of ./plans and below).
 */
export type RefusalCode =
  | 'follower'
  | 'essential-tier'
  | 'too-many-credentials'
  | 'default-exists'
  | 'default-not-destroyable'
  | 'default-has-no-level'
  | 'invalid-name'
  | 'credential-exists'
  | 'name-taken'
  | 'unmanaged-role'
  | 'not-found'
  | 'other-database'
  | 'not-a-credential'
  | 'not-managed'
  | 'attached';

/** An attribute below the refused subject: `['name']`, `['grants', 1, 'privileges', 0]`. */
export type AttributePath = readonly (string | number)[];

export interface Refusal {
  readonly code: RefusalCode;
  /** What the user reads. */
  readonly message: string;
  /** Where the message is whole only with it (the plan a limit comes from): `plan essential-0`. */
  readonly context?: string;
  /** The database or credential refused. */
  readonly subject: string;
  /** The attribute the refusal is about, as the model names it. */
  readonly attribute: AttributePath;
}

/** Terraform's diagnostic summary of each refusal. */
export const REFUSAL_TITLES: Record<RefusalCode, string> = {
  follower: 'Follower database',
  'essential-tier': 'Essential-tier database',
  'too-many-credentials': 'Too many credentials',
  'default-exists': 'Invalid credential name',
  'default-not-destroyable': 'Default credential',
  'default-has-no-level': 'Default credential',
  'invalid-name': 'Invalid credential name',
  'credential-exists': 'Credential already exists',
  'name-taken': 'Name taken in this cluster',
  'unmanaged-role': 'Name taken in this cluster',
  'not-found': 'Unknown credential',
  'other-database': 'Credential of another database',
  'not-a-credential': 'Not a credential',
  'not-managed': 'Role not managed by pgcred',
  attached: 'Credential attached',
};

export const DEFAULT_NOT_DESTROYABLE_MESSAGE = 'Default credential cannot be destroyed.';

/** The message with its context, as a file, a stack or Terraform shows it: `… (plan essential-0)`. */
export function withContext(refusal: Refusal): string {
  return refusal.context ? `${refusal.message} (${refusal.context})` : refusal.message;
}

type Limited = Pick<DatabaseSpec, 'name' | 'plan' | 'credentialLimit'>;

export function followerRefusal(database: string): Refusal {
  return { code: 'follower', message: FOLLOWER_MESSAGE, subject: database, attribute: ['database'] };
}

export function essentialTierRefusal(db: Pick<DatabaseSpec, 'name' | 'plan'>): Refusal {
  return {
    code: 'essential-tier',
    message: ESSENTIAL_TIER_MESSAGE,
    context: `plan ${db.plan}`,
    subject: db.name,
    attribute: ['database'],
  };
}

/**
 * The credential limit, counted the way the caller can count: credentials declared
 * (by a file, a stack, a Terraform configuration), or the live ones and what a
 * plan or command would make them.
 */
export type CredentialCount =
  | { readonly declared: number; readonly by: 'this file' | 'the stack' | 'this configuration' }
  | { readonly existing: number; readonly total: number; readonly by: 'this plan' | 'this command' };

export function tooManyCredentials(db: Limited, count: CredentialCount): Refusal {
  const limit = planLimits(db.plan, db.credentialLimit).credentials;
  const counted =
    'declared' in count
      ? `${count.by} declares ${count.declared}`
      : `it has ${count.existing} and ${count.by} would make it ${count.total}`;
  return {
    code: 'too-many-credentials',
    message: `database ${db.name} allows at most ${limit} credentials besides default (plan ${db.plan}); ${counted}`,
    subject: db.name,
    attribute: ['database'],
  };
}

/** What can be refused about a new credential's name and database before connecting anywhere. */
export function createRefusals(
  db: Limited & Pick<DatabaseSpec, 'role' | 'usernamePrefix'>,
  name: string,
): Refusal[] {
  if (db.role === 'follower') return [followerRefusal(db.name)];
  if (name === DEFAULT_CREDENTIAL) {
    return [
      {
        code: 'default-exists',
        message: 'the default credential exists with every database',
        subject: name,
        attribute: ['name'],
      },
    ];
  }
  const problem = credentialNameProblem(name);
  if (problem) return [{ code: 'invalid-name', message: problem, subject: name, attribute: ['name'] }];
  const username = usernameProblem(db, name);
  if (username) return [{ code: 'invalid-name', message: username, subject: name, attribute: ['name'] }];
  if (planLimits(db.plan, db.credentialLimit).defaultOnly) return [essentialTierRefusal(db)];
  return [];
}

/** What the live database tells about a role: pgcred's marker on it, if any. */
export interface RoleFacts {
  /** pgcred's marker: a credential, or another of its roles, of which database. */
  readonly managed?: { readonly kind: string; readonly database: string };
  /** Not pgcred's, not a superuser, able to log in: an import may adopt it. */
  readonly adoptable: boolean;
}

/** What the checks read of a live database: recovery, its credentials, the cluster's roles. */
export interface CredentialFacts {
  readonly inRecovery: boolean;
  /** The database's managed credentials, besides default. */
  readonly credentials: readonly string[];
  role(name: string): RoleFacts | undefined;
}

/** A new credential against the live database: under the apply lock, and at `terraform plan`. */
export function liveCreateRefusals(
  db: Limited,
  name: string,
  live: CredentialFacts,
  /** The credentials there would be, when others are planned besides this one. */
  total = live.credentials.length + 1,
  by: 'this plan' | 'this command' = 'this command',
): Refusal[] {
  if (live.inRecovery) return [followerRefusal(db.name)];
  if (live.credentials.includes(name)) {
    return [
      {
        code: 'credential-exists',
        message: `credential ${name} already exists on ${db.name}`,
        subject: name,
        attribute: ['name'],
      },
    ];
  }
  const role = live.role(name);
  if (role) {
    if (!role.managed) {
      const message = `a role named ${name} already exists in this cluster and pgcred does not manage it`;
      return [{ code: 'unmanaged-role', message, subject: name, attribute: ['name'] }];
    }
    const message = `role ${name} is already a ${role.managed.kind} of database "${role.managed.database}": roles are cluster-wide, so ${db.name} cannot have its own ${name}`;
    return [{ code: 'name-taken', message, subject: name, attribute: ['name'] }];
  }
  const limits = planLimits(db.plan, db.credentialLimit);
  if (total > limits.credentials) {
    return [tooManyCredentials(db, { existing: live.credentials.length, total, by })];
  }
  return [];
}

/**
 * Why a command cannot act on credential `name` of this database: nothing when it is
 * one of the database's managed credentials (or, with `adopt`, a role an import may adopt).
 */
export function managedCredentialRefusals(
  database: string,
  name: string,
  live: CredentialFacts,
  options: { readonly adopt?: boolean } = {},
): Refusal[] {
  if (live.credentials.includes(name)) return [];
  const at = (code: RefusalCode, message: string): Refusal[] => [
    { code, message, subject: name, attribute: ['name'] },
  ];
  const role = live.role(name);
  if (!role) return at('not-found', `Could not find credential ${name} on ${database}`);
  if (options.adopt && role.adoptable) return [];
  const mark = role.managed;
  if (mark?.kind === 'credential') {
    // Roles are cluster-wide: another database's credential is reachable by name from here.
    return at(
      'other-database',
      `Credential ${name} belongs to database ${mark.database}, not ${database}: change it through that database`,
    );
  }
  if (mark)
    return at(
      'not-a-credential',
      `Role ${name} is pgcred's ${mark.kind} of database ${mark.database}, not a credential`,
    );
  return at(
    'not-managed',
    `Credential ${name} is not managed by pgcred on ${database}, and pgcred never changes a role it does not manage: ` +
      'declare it in the file and apply to adopt it first',
  );
}

/** The default credential owns the database: it is never destroyed (`owner`: its username, when known). */
export function destroyRefusals(name: string, owner?: string): Refusal[] {
  if (name !== DEFAULT_CREDENTIAL && name !== owner) return [];
  return [
    {
      code: 'default-not-destroyable',
      message: DEFAULT_NOT_DESTROYABLE_MESSAGE,
      subject: name,
      attribute: ['name'],
    },
  ];
}

export function defaultLevelRefusals(name: string): Refusal[] {
  if (name !== DEFAULT_CREDENTIAL) return [];
  return [
    {
      code: 'default-has-no-level',
      message: 'the default credential owns the database; its access has no level',
      subject: name,
      attribute: ['name'],
    },
  ];
}

/** Heroku's: a credential attached to apps is detached from them first. */
export function attachedRefusal(name: string, apps: readonly string[]): Refusal {
  return {
    code: 'attached',
    message: `Credential ${name} must be detached from the app${apps.length > 1 ? 's' : ''} ${apps.map((a) => `⬢ ${a}`).join(', ')} before destroying.`,
    subject: name,
    attribute: ['name'],
  };
}
