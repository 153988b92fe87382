import type { ColumnPrivilege, DeclaredRoutine, RoutinePrivilege } from './live-grants';

export type { ColumnPrivilege, DeclaredRoutine, LiveRoutine, RoutinePrivilege } from './live-grants';

/**
 * What inspection finds in one database: plain data, so the diff that reads it is
 * a pure function and its tests can write it out by hand.
 */
import type { DefaultObjectType, RelationClass } from '../model/access';

export type { DefaultObjectType, RelationClass };

export interface AclEntry {
  /** null is PUBLIC */
  readonly grantee: string | null;
  readonly privilege: string;
}

export interface LiveServer {
  readonly versionNum: number;
  readonly currentUser: string;
  readonly isSuperuser: boolean;
  readonly canCreateRoles: boolean;
  readonly inRecovery: boolean;
  readonly database: string;
  readonly owner: string;
  readonly ownerIsSuperuser: boolean;
  readonly bootstrapUser: string;
  readonly publicSchemaOwner: string | null;
  readonly acl: readonly AclEntry[];
}

/** One row of pg_auth_members: from PostgreSQL 16 on, one per grantor, each with its options. */
export interface LiveMembership {
  readonly role: string;
  readonly admin: boolean;
  /** Who granted it (absent in hand-written states). */
  readonly grantor?: string | null;
  /** 16 and later: the grant's INHERIT and SET options; null (or absent) before 16. */
  readonly inherit?: boolean | null;
  readonly set?: boolean | null;
}

export interface LiveRole {
  readonly name: string;
  readonly superuser: boolean;
  readonly createdb: boolean;
  readonly createrole: boolean;
  readonly replication: boolean;
  readonly bypassrls: boolean;
  readonly login: boolean;
  readonly inherit: boolean;
  readonly connectionLimit: number;
  readonly hasValidUntil: boolean;
  /** `role=analyst` and the like, from ALTER ROLE ... SET */
  readonly config: readonly string[];
  readonly comment: string | null;
  readonly memberOf: readonly LiveMembership[];
  readonly connections: number;
}

export interface LiveSchema {
  readonly name: string;
  readonly owner: string;
  readonly acl: readonly AclEntry[];
}

export interface RelationPrivilegeGroup {
  readonly schema: string;
  readonly class: RelationClass;
  /** null is PUBLIC */
  readonly grantee: string | null;
  readonly privilege: string;
  readonly holding: number;
  readonly total: number;
  /** The relations that hold it, when few do. */
  readonly holders?: readonly string[];
  /** The relations that lack it, when few do. */
  readonly lacking?: readonly string[];
}

export interface DefaultPrivilegeEntry {
  readonly owner: string;
  /** null: the database-wide entry */
  readonly schema: string | null;
  readonly objtype: DefaultObjectType;
  readonly grantee: string | null;
  readonly privilege: string;
}

export interface ForeignOwnership {
  readonly owner: string;
  readonly schema: string;
  readonly kind: string;
  readonly count: number;
  readonly sample: readonly string[];
}

export interface DeclaredObject {
  readonly schema: string;
  readonly name: string;
  readonly class: RelationClass | null;
}

/** A SECURITY DEFINER function or procedure: it runs with its owner's privileges, whoever calls it. */
export interface DefinerFunction {
  readonly schema: string;
  readonly name: string;
  readonly kind: 'function' | 'procedure';
  /** The argument list that identifies it, as ALTER FUNCTION takes it: `amount integer`. */
  readonly arguments: string;
  readonly owner: string;
  /** Roles besides the owner that may execute it; null is PUBLIC. */
  readonly executors: readonly (string | null)[];
}

/** A table with row-level security enabled: only the roles its policies name see rows ('' is PUBLIC). */
export interface RowSecurityTable {
  readonly schema: string;
  readonly name: string;
  readonly policyRoles: readonly string[];
}

export interface LiveState {
  readonly server: LiveServer;
  readonly roles: ReadonlyMap<string, LiveRole>;
  readonly schemas: readonly LiveSchema[];
  /** How many relations of each class each schema has. */
  readonly relationTotals: readonly {
    readonly schema: string;
    readonly class: RelationClass;
    readonly total: number;
  }[];
  readonly relationPrivileges: readonly RelationPrivilegeGroup[];
  readonly defaultPrivileges: readonly DefaultPrivilegeEntry[];
  readonly foreignOwnership: readonly ForeignOwnership[];
  /** Tables and sequences named by custom grants, found or not. */
  readonly declaredObjects: readonly DeclaredObject[];
  readonly definerFunctions: readonly DefinerFunction[];
  /** Absent in hand-written states: no table has row-level security. */
  readonly rowSecurity?: readonly RowSecurityTable[];
  /** Absent in hand-written states: no column has privileges of its own. */
  readonly columnPrivileges?: readonly ColumnPrivilege[];
  /** The columns custom grants name that exist; absent in hand-written states: every one does. */
  readonly declaredColumns?: readonly {
    readonly schema: string;
    readonly table: string;
    readonly column: string;
  }[];
  /** Absent in hand-written states: EXECUTE is granted to no role. */
  readonly routinePrivileges?: readonly RoutinePrivilege[];
  /** The routines custom grants name, as the server resolved them; absent: none is declared. */
  readonly declaredRoutines?: readonly DeclaredRoutine[];
}

/** How many exception names inspection ships per group. */
export const EXCEPTION_CAP = 50;
