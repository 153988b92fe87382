// What inspection finds of column and routine privileges, beside live-state.ts.

/** A privilege on one column (GRANT SELECT (email) ON customers). */
export interface ColumnPrivilege {
  readonly schema: string;
  readonly table: string;
  readonly column: string;
  /** null is PUBLIC */
  readonly grantee: string | null;
  readonly privilege: string;
}

/** A function or procedure as GRANT names it: `"public"."f"(amount integer)`. */
export interface LiveRoutine {
  readonly signature: string;
  readonly kind: 'function' | 'procedure';
  readonly schema: string;
  readonly name: string;
  /** As pg_get_function_identity_arguments prints them: `amount integer`. */
  readonly arguments: string;
  /** The argument types alone, as a grant writes them: `integer`. */
  readonly types: string;
}

/** EXECUTE on a routine, granted to a role that does not own it. */
export interface RoutinePrivilege extends LiveRoutine {
  readonly grantee: string;
}

/** A routine that custom grants name (`schema\tname\targuments` as routineKey writes it), and what it is. */
export interface DeclaredRoutine {
  readonly key: string;
  /** Absent: no such routine. */
  readonly routine?: LiveRoutine;
}
