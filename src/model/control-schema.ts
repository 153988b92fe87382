/**
 * The schema that holds pgcred's control store. The inspector, the importer and the
 * constructs leave it out; only src/control writes SQL on its tables (its migrations
 * spell it out, as applied history).
 */
export const CONTROL_SCHEMA = 'pgcred';
