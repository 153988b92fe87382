import type { GrantSpec } from '../model/config';
import type { SchemaPrivilege, SequencePrivilege, TablePrivilege } from '../model/permission-level';

/** What a column grant may name: `GRANT SELECT (email) ON TABLE customers`. */
export type ColumnGrantPrivilege = 'SELECT' | 'INSERT' | 'UPDATE' | 'REFERENCES';

/** Privileges a table grant may name; `ALL` is every one PostgreSQL 14 knows. */
export type TableGrantPrivilege = TablePrivilege | 'ALL';
export type SequenceGrantPrivilege = SequencePrivilege | 'ALL';

/**
 * One custom grant, instead of a permission level, in the shapes the seed's GRANT
 * examples take. Objects are written `schema.name` (unqualified means `public`);
 * quote odd names as SQL does (`"My Schema".users`).
 */
export class Grant {
  /** `GRANT ... ON TABLE t1, t2` (tables, views, materialized views, foreign tables). */
  static onTables(tables: readonly string[], privileges: readonly TableGrantPrivilege[]): Grant {
    return new Grant({ on: 'table', objects: [...tables], privileges: [...privileges] });
  }

  /** `GRANT ... ON SEQUENCE s1, s2`. */
  static onSequences(sequences: readonly string[], privileges: readonly SequenceGrantPrivilege[]): Grant {
    return new Grant({ on: 'sequence', objects: [...sequences], privileges: [...privileges] });
  }

  /** `GRANT ... ON ALL TABLES IN SCHEMA s` (implies USAGE on the schema). */
  static onAllTablesIn(schemas: readonly string[], privileges: readonly TableGrantPrivilege[]): Grant {
    return new Grant({ on: 'all-tables', objects: [...schemas], privileges: [...privileges] });
  }

  /** `GRANT ... ON ALL SEQUENCES IN SCHEMA s` (implies USAGE on the schema). */
  static onAllSequencesIn(schemas: readonly string[], privileges: readonly SequenceGrantPrivilege[]): Grant {
    return new Grant({ on: 'all-sequences', objects: [...schemas], privileges: [...privileges] });
  }

  /** `GRANT USAGE ON SCHEMA s`: look up objects in the schema. */
  static usageOnSchemas(schemas: readonly string[]): Grant {
    return new Grant({ on: 'schema', objects: [...schemas], privileges: ['USAGE'] });
  }

  /** `GRANT ... ON SCHEMA s`: USAGE looks objects up, CREATE makes new ones there (which the credential then owns). */
  static onSchemas(schemas: readonly string[], privileges: readonly SchemaPrivilege[]): Grant {
    return new Grant({ on: 'schema', objects: [...schemas], privileges: [...privileges] });
  }

  /** `GRANT SELECT (c1, c2) ON TABLE t`: privileges on some columns of each table (implies USAGE on its schema). */
  static onColumns(
    tables: readonly string[],
    columns: readonly string[],
    privileges: readonly ColumnGrantPrivilege[],
  ): Grant {
    return new Grant({
      on: 'column',
      objects: [...tables],
      columns: [...columns],
      privileges: [...privileges],
    });
  }

  /** `GRANT EXECUTE ON FUNCTION public.f(integer)`: functions and procedures, `schema.name(argument types)`. */
  static executeOn(routines: readonly string[]): Grant {
    return new Grant({ on: 'routine', objects: [...routines], privileges: ['EXECUTE'] });
  }

  /** `GRANT ... ON DATABASE`: CONNECT (every credential has it) and TEMPORARY. */
  static onDatabase(privileges: readonly ('CONNECT' | 'TEMPORARY')[]): Grant {
    return new Grant({ on: 'database', objects: [], privileges: [...privileges] });
  }

  /**
   * `ALTER DEFAULT PRIVILEGES [IN SCHEMA s] GRANT ... ON TABLES`: tables the default
   * credential creates later.
   * @param schemas - the schemas it applies in; empty means every schema
   */
  static onFutureTables(privileges: readonly TableGrantPrivilege[], schemas: readonly string[] = []): Grant {
    return new Grant({ on: 'default-tables', objects: [...schemas], privileges: [...privileges] });
  }

  /** `ALTER DEFAULT PRIVILEGES [IN SCHEMA s] GRANT ... ON SEQUENCES`; empty `schemas` means every schema. */
  static onFutureSequences(
    privileges: readonly SequenceGrantPrivilege[],
    schemas: readonly string[] = [],
  ): Grant {
    return new Grant({ on: 'default-sequences', objects: [...schemas], privileges: [...privileges] });
  }

  /** `ALTER DEFAULT PRIVILEGES GRANT USAGE ON SCHEMAS`: schemas the default credential creates later. */
  static usageOnFutureSchemas(): Grant {
    return new Grant({ on: 'default-schemas', objects: [], privileges: ['USAGE'] });
  }

  /** Escape hatch: a grant in the model's (and pgcred.yaml's) shape. */
  static fromSpec(spec: GrantSpec): Grant {
    return new Grant({
      on: spec.on,
      objects: [...spec.objects],
      privileges: [...spec.privileges],
      ...(spec.columns ? { columns: [...spec.columns] } : {}),
    });
  }

  private constructor(
    /** The grant in the model's terms; validated with the rest of the stack at synth. */
    readonly spec: GrantSpec,
  ) {}

  /** As a reviewer reads it: `SELECT on table public.users`. */
  toString(): string {
    const on = this.spec.on.replace('-', ' ');
    const objects = this.spec.objects.length > 0 ? ` ${this.spec.objects.join(', ')}` : '';
    const columns = this.spec.columns ? ` (${this.spec.columns.join(', ')})` : '';
    return `${this.spec.privileges.join(', ')} on ${on}${objects}${columns}`;
  }
}

/** What a grant method did, aws-cdk style: the grant and whom it went to. */
export interface GrantResult {
  /** The credential that received the grant. */
  readonly grantee: string;
  readonly grant: Grant;
}
