/**
 * Parses `schema.name` the way a reviewer would write it: parts may be
 * double-quoted (`"my schema"."odd ""name"""`), unquoted parts are kept as written
 * (pgcred never folds case: what you see is the catalog name), and an unqualified
 * name is in `public`.
 */
export interface QualifiedName {
  readonly schema: string;
  readonly name: string;
}

export function parseQualifiedName(text: string): QualifiedName {
  const parts = splitQualified(text);
  if (parts.length === 1) return { schema: 'public', name: parts[0]! };
  if (parts.length === 2) return { schema: parts[0]!, name: parts[1]! };
  throw new Error(`${JSON.stringify(text)} has more than two parts: write schema.name`);
}

export function parseSchemaName(text: string): string {
  const parts = splitQualified(text);
  if (parts.length !== 1)
    throw new Error(`${JSON.stringify(text)} is a schema, so it takes no dot (quote it: "a.b")`);
  return parts[0]!;
}

function splitQualified(text: string): string[] {
  const parts: string[] = [];
  let i = 0;
  while (i <= text.length) {
    if (text[i] === '"') {
      let part = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new Error(`unterminated quoted name in ${JSON.stringify(text)}`);
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += text[i];
        i++;
      }
      parts.push(part);
    } else {
      const dot = text.indexOf('.', i);
      const end = dot === -1 ? text.length : dot;
      parts.push(text.slice(i, end));
      i = end;
    }
    if (i === text.length) break;
    if (text[i] !== '.') throw new Error(`unexpected ${JSON.stringify(text[i])} in ${JSON.stringify(text)}`);
    i++;
  }
  if (parts.some((part) => part.length === 0)) throw new Error(`empty name part in ${JSON.stringify(text)}`);
  if (parts.some((part) => Buffer.byteLength(part) > 63)) {
    throw new Error(`${JSON.stringify(text)} has a part longer than PostgreSQL's 63 bytes`);
  }
  return parts;
}

/** PostgreSQL's quote_ident: always quoted, so case and odd characters survive. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteQualified(q: QualifiedName): string {
  return `${quoteIdent(q.schema)}.${quoteIdent(q.name)}`;
}

/** A qualified name as a reviewer reads it: quotes only where needed. */
export function displayQualified(q: QualifiedName): string {
  return `${displayIdent(q.schema)}.${displayIdent(q.name)}`;
}

export function displayIdent(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : quoteIdent(name);
}

export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A function or procedure as grants name it: `schema.name(argument types)`. */
export interface RoutineSignature extends QualifiedName {
  /** The argument types as written, without the parentheses: `integer, text`. */
  readonly arguments: string;
}

/**
 * Parses `schema.name(integer, text)`: the name as parseQualifiedName reads it
 * (unqualified means public), then the argument types in parentheses, which the
 * server resolves (types are not pgcred's to normalize: `int` is `integer`).
 */
export function parseRoutineSignature(text: string): RoutineSignature {
  // The name ends at the first '(' outside double quotes.
  let quoted = false;
  let open = -1;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') quoted = !quoted;
    else if (text[i] === '(' && !quoted) {
      open = i;
      break;
    }
  }
  if (open === -1 || !text.endsWith(')'))
    throw new Error(
      `${JSON.stringify(text)} is not a routine: write schema.name(argument types), e.g. public.f()`,
    );
  const args = text.slice(open + 1, -1).trim();
  if (/[;()]/.test(args.replace(/"[^"]*"/g, '')))
    throw new Error(`${JSON.stringify(text)}: the argument list holds only type names`);
  return { ...parseQualifiedName(text.slice(0, open).trim()), arguments: args };
}

/** A routine signature as SQL reads it, the name quoted: `"public"."f"(integer)`. */
export function quoteRoutine(r: RoutineSignature): string {
  return `${quoteQualified(r)}(${r.arguments})`;
}

/** A routine signature as a reviewer reads it. */
export function displayRoutine(r: RoutineSignature): string {
  return `${displayQualified(r)}(${r.arguments})`;
}
