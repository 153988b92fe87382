import { PostgresqlProvider } from '@cdktf/provider-postgresql/lib/provider';
import { TerraformVariable } from 'cdktf';
import type { Construct } from 'constructs';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TERRAFORM_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Options of every admin connection. */
export interface AdminConnectionOptions {
  /**
   * The environment variable that holds the admin URL for `pgcred plan|apply|drift
   * --manifest`. The manifest stores `${NAME}`, never the URL.
   * @default 'DATABASE_ADMIN_URL'
   */
  readonly urlVariable?: string;
}

/** Options of `AdminConnection.fromVariables`. */
export interface VariablesConnectionOptions extends AdminConnectionOptions {
  /**
   * Prefix of the Terraform variables (`<prefix>_host`, `_port`, `_username`,
   * `_password`, `_database`, `_sslmode`; `<prefix>_url` with the pgcred provider),
   * set as `TF_VAR_<prefix>_password` and so on.
   * @default - the database's name with '-' written '_'
   */
  readonly variablePrefix?: string;
}

/** Options of `AdminConnection.fromProvider`. */
export interface ProviderConnectionOptions extends AdminConnectionOptions {
  /**
   * The PostgreSQL database (pg_database.datname) the grants are in.
   * @default - the provider's `database`
   */
  readonly database?: string;
}

/** What Terraform's resources of one database need: where to connect and which database. */
export interface BoundAdminConnection {
  readonly provider: PostgresqlProvider;
  /** pg_database.datname, or a Terraform expression that yields it. */
  readonly database: string;
}

/**
 * How Terraform and pgcred log in to a database as its admin (a superuser, or the
 * database owner with CREATEROLE). Neither way puts a secret into cdk.tf.json or
 * the manifest: Terraform reads a sensitive variable or its provider's own
 * configuration, pgcred reads an environment variable.
 */
export abstract class AdminConnection {
  /**
   * Terraform connects with a postgresql provider configured from Terraform
   * variables; the password variable is sensitive. Port defaults to 5432, username
   * to `postgres`, sslmode to `require`. A database that targets the pgcred provider
   * reads one sensitive variable instead, `<prefix>_url`.
   */
  static fromVariables(options: VariablesConnectionOptions = {}): AdminConnection {
    return new VariablesConnection(options);
  }

  /** Terraform connects with a postgresql provider you configure (e.g. from PGHOST, PGUSER, PGPASSWORD). */
  static fromProvider(
    provider: PostgresqlProvider,
    options: ProviderConnectionOptions = {},
  ): AdminConnection {
    return new ProviderConnection(provider, options);
  }

  /** The environment variable pgcred reads the admin URL from. */
  readonly urlVariable: string;

  protected constructor(options: AdminConnectionOptions) {
    this.urlVariable = options.urlVariable ?? 'DATABASE_ADMIN_URL';
    if (!ENV_NAME.test(this.urlVariable)) {
      throw new Error(`urlVariable ${JSON.stringify(this.urlVariable)} is not an environment variable name`);
    }
  }

  /** The admin URL as the manifest writes it: a reference that pgcred resolves from the environment. */
  get urlReference(): string {
    return `\${${this.urlVariable}}`;
  }

  /** Called once by the database construct that uses this connection for its Terraform resources. */
  abstract bind(scope: Construct, databaseName: string): BoundAdminConnection;

  /**
   * The admin URL as a Terraform expression (a sensitive variable), for the pgcred
   * provider's `database` block. Called once by a database that targets that provider.
   */
  abstract bindUrl(scope: Construct, databaseName: string): string;
}

/** Terraform variable names are what users type (TF_VAR_...), so they are fixed rather than path-hashed. */
function fixedVariable(
  scope: Construct,
  prefix: string,
  id: string,
  config: ConstructorParameters<typeof TerraformVariable>[2],
): TerraformVariable {
  const variable = new TerraformVariable(scope, id, config);
  variable.overrideLogicalId(`${prefix}_${id.toLowerCase()}`);
  return variable;
}

class VariablesConnection extends AdminConnection {
  constructor(private readonly options: VariablesConnectionOptions) {
    super(options);
    if (options.variablePrefix !== undefined && !TERRAFORM_NAME.test(options.variablePrefix)) {
      throw new Error(
        `variablePrefix ${JSON.stringify(options.variablePrefix)} is not a Terraform name (letters, digits, '_', '-')`,
      );
    }
  }

  private prefixOf(databaseName: string): string {
    return this.options.variablePrefix ?? databaseName.replace(/-/g, '_').replace(/^(?=\d)/, '_');
  }

  bindUrl(scope: Construct, databaseName: string): string {
    return fixedVariable(scope, this.prefixOf(databaseName), 'Url', {
      type: 'string',
      sensitive: true,
      description: `Admin URL of ${databaseName} (postgres://...): a superuser, or the owner with CREATEROLE`,
    }).stringValue;
  }

  bind(scope: Construct, databaseName: string): BoundAdminConnection {
    const prefix = this.prefixOf(databaseName);
    const variable = (id: string, config: ConstructorParameters<typeof TerraformVariable>[2]) =>
      fixedVariable(scope, prefix, id, config);
    const host = variable('Host', { type: 'string', description: `Host of ${databaseName}` });
    const port = variable('Port', { type: 'number', default: 5432, description: `Port of ${databaseName}` });
    const username = variable('Username', {
      type: 'string',
      default: 'postgres',
      description: `Admin role of ${databaseName}: a superuser, or the owner with CREATEROLE`,
    });
    const password = variable('Password', {
      type: 'string',
      sensitive: true,
      description: `Password of the admin role of ${databaseName}`,
    });
    const database = variable('Database', {
      type: 'string',
      description: `The PostgreSQL database (datname) of ${databaseName}`,
    });
    const sslmode = variable('Sslmode', {
      type: 'string',
      default: 'require',
      description: `sslmode for ${databaseName} (disable, require, verify-full, ...)`,
    });
    const provider = new PostgresqlProvider(scope, 'Provider', {
      alias: prefix,
      host: host.stringValue,
      port: port.numberValue,
      username: username.stringValue,
      password: password.stringValue,
      database: database.stringValue,
      sslmode: sslmode.stringValue,
    });
    return { provider, database: database.stringValue };
  }
}

class ProviderConnection extends AdminConnection {
  constructor(
    private readonly provider: PostgresqlProvider,
    private readonly options: ProviderConnectionOptions,
  ) {
    super(options);
  }

  bind(): BoundAdminConnection {
    const database = this.options.database ?? this.provider.database;
    if (!database) {
      throw new Error(
        'AdminConnection.fromProvider: give `database` (the PostgreSQL database the grants are in) ' +
          'or set it on the provider',
      );
    }
    return { provider: this.provider, database };
  }

  bindUrl(): string {
    throw new Error(
      'AdminConnection.fromProvider configures a postgresql provider, which the pgcred Terraform provider ' +
        'cannot use: give a database that targets it AdminConnection.fromVariables() (a sensitive <prefix>_url variable)',
    );
  }
}
