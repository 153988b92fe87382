import { DATABASE_NAME_PATTERN, showName, USERNAME_PREFIX_PATTERN } from '../model/names';
import { type Diagnostic, error } from './diagnostics';
import { isWhollyKnown, type ObjectValue, stringOf, UNKNOWN } from './values';

/** A `database` block of the provider. The URL is a secret: it never reaches state, logs or diagnostics. */
export interface DatabaseSettings {
  readonly name: string;
  readonly url: string;
  readonly plan: string;
  readonly color?: string;
  readonly owner?: string;
  readonly credentialLimit?: number;
  /** The username scheme (usernamePrefix in pgcred.yaml). */
  readonly usernamePrefix?: string;
}

export interface ProviderSettings {
  readonly databases: readonly DatabaseSettings[];
  /** From the provider block, else PGCRED_CONTROL_URL, else the first database's url. */
  readonly controlUrl: string;
  /** Where controlUrl came from, for messages that name it. */
  readonly controlUrlFrom: 'block' | 'env' | 'database';
  /** From the provider block, else PGCRED_MASTER_KEY (MasterKey reads it). */
  readonly masterKey?: string;
  readonly keyFile?: string;
}

export const DEFAULT_PLAN = 'standard-0';

/**
 * Checks the provider block and, when it is wholly known, reads it into settings.
 * Unknown values (a URL from a resource not created yet) are allowed until apply:
 * then `settings` is undefined and resources plan without looking at the database.
 */
export function readProviderConfig(
  config: ObjectValue,
  env: NodeJS.ProcessEnv,
): { settings?: ProviderSettings; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const blocks = Array.isArray(config.database) ? (config.database as ObjectValue[]) : [];
  const seen = new Map<string, number>();
  blocks.forEach((block, i) => {
    const name = block.name;
    if (typeof name === 'string') {
      if (!DATABASE_NAME_PATTERN.test(name)) {
        diagnostics.push(
          error(
            'Invalid database name',
            `"${name}" may contain only letters, digits, '-' and '_' (at most 63)`,
            ['database', i, 'name'],
          ),
        );
      } else if (seen.has(name)) {
        diagnostics.push(
          error('Duplicate database', `database "${name}" is also database block ${seen.get(name)}`, [
            'database',
            i,
            'name',
          ]),
        );
      } else {
        seen.set(name, i);
      }
    }
    const url = block.url;
    if (typeof url === 'string' && !/^postgres(ql)?:\/\/[^\s]+$/.test(url)) {
      diagnostics.push(
        error('Invalid database URL', 'the url must be a postgres:// or postgresql:// URL', [
          'database',
          i,
          'url',
        ]),
      );
    }
    const prefix = block.username_prefix;
    if (typeof prefix === 'string' && !USERNAME_PREFIX_PATTERN.test(prefix)) {
      diagnostics.push(
        error(
          'Invalid username prefix',
          `${showName(prefix)} is not a username prefix (a letter or '_', then letters, digits, '-' and '_', at most 54)`,
          ['database', i, 'username_prefix'],
        ),
      );
    }
    const limit = block.credential_limit;
    if (typeof limit === 'number' && (!Number.isInteger(limit) || limit < 0 || limit > 10_000)) {
      diagnostics.push(
        error('Invalid credential limit', 'credential_limit is a whole number from 0 to 10000', [
          'database',
          i,
          'credential_limit',
        ]),
      );
    }
  });
  const controlUrl = config.control_url;
  if (typeof controlUrl === 'string' && !/^postgres(ql)?:\/\/[^\s]+$/.test(controlUrl)) {
    diagnostics.push(
      error('Invalid control store URL', 'control_url must be a postgres:// URL', ['control_url']),
    );
  }
  if (diagnostics.length > 0 || !isWhollyKnown(config)) return { diagnostics };

  const databases = blocks.map(
    (block): DatabaseSettings => ({
      name: block.name as string,
      url: block.url as string,
      plan: stringOf(block.plan) ?? DEFAULT_PLAN,
      color: stringOf(block.color),
      owner: stringOf(block.owner),
      credentialLimit: typeof block.credential_limit === 'number' ? block.credential_limit : undefined,
      usernamePrefix: stringOf(block.username_prefix),
    }),
  );
  const control = stringOf(controlUrl) || env.PGCRED_CONTROL_URL || databases[0]?.url;
  if (!control) {
    return {
      diagnostics: [
        error(
          'No control store',
          'declare a database block, or set control_url (or PGCRED_CONTROL_URL): pgcred keeps passwords there',
        ),
      ],
    };
  }
  return {
    settings: {
      databases,
      controlUrl: control,
      controlUrlFrom: stringOf(controlUrl) ? 'block' : env.PGCRED_CONTROL_URL ? 'env' : 'database',
      masterKey: stringOf(config.master_key),
      keyFile: stringOf(config.key_file) ?? env.PGCRED_KEY_FILE,
    },
    diagnostics,
  };
}

/** True when the value is known and a string, for checks that wait until a value is known. */
export function knownString(value: unknown): value is string {
  return value !== UNKNOWN && typeof value === 'string';
}
