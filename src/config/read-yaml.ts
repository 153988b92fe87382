import { FAILSAFE_SCHEMA, load, Type } from 'js-yaml';
import { parseDocument } from 'yaml';
import { InvalidInputError } from '../model/problem';

/**
 * A pgcred file as plain data. The `yaml` package reads it, with line and column in
 * every syntax error and a budget of aliases; but a process reads the file once and
 * cold, and there `yaml` took some 15 ms for 60 credentials, a tenth of a no-op
 * drift, where js-yaml takes 2. So a file that uses only what js-yaml reads exactly
 * as `yaml` does (no anchor, alias, tag, directive or complex key, which the screen
 * below finds by their indicators) is read by js-yaml with `yaml`'s YAML 1.2 core
 * schema rebuilt on it; anything else, and any file js-yaml refuses, goes to `yaml`,
 * so errors are worded and placed as they always were.
 * test/config/read-yaml.test.ts reads every YAML file of the repository, edge
 * scalars and generated documents both ways and finds the same data.
 */
export function readYaml(text: string, file: string): unknown {
  const fast = readFast(text, file);
  return fast ? fast.data : readWithYaml(text, file);
}

/** js-yaml's reading, for a file the screen lets through and js-yaml accepts; else undefined. */
export function readFast(text: string, file: string): { data: unknown } | undefined {
  if (UNSCREENED.test(text)) return undefined;
  try {
    // An empty document is null to `yaml`, undefined to js-yaml.
    return { data: load(text, { schema: CORE, filename: file }) ?? null };
  } catch {
    // `yaml` says what is wrong, and where.
    return undefined;
  }
}

/**
 * Indicators of what the fast path leaves to `yaml`: `&` anchors, `*` aliases and `!`
 * tags (wherever the characters appear, in comments and strings too, which only costs
 * the fast path), `%` directives and `?` complex keys at the start of a line, and a key
 * that may be null (`~:`, `null:`, ` :`), which `yaml` names "" and js-yaml "null".
 */
const UNSCREENED = /[&*!]|^\s*%|^[\s-]*\?(?:\s|$)|(?:^|[\s{,[-])(?:~|[Nn]ull|NULL)?[ \t]*:(?=[\s,\]}]|$)/m;

/**
 * `yaml`'s core schema (yaml/dist/schema/core): each tag's forms, tried in its order,
 * and read as it reads them. js-yaml keeps one implicit type per tag, hence one type
 * for the three forms of int and for the three of float.
 */
const scalar = (name: string, forms: [RegExp, (text: string) => unknown][]) => {
  const formOf = (text: string | null) =>
    text === null ? undefined : forms.find(([test]) => test.test(text));
  return new Type(`tag:yaml.org,2002:${name}`, {
    kind: 'scalar',
    resolve: (text: string | null) => formOf(text) !== undefined,
    construct: (text: string) => formOf(text)![1](text),
  });
};
const CORE = FAILSAFE_SCHEMA.extend({
  implicit: [
    scalar('null', [[/^(?:~|[Nn]ull|NULL)?$/, () => null]]),
    scalar('bool', [[/^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/, (text) => text[0] === 't' || text[0] === 'T']]),
    scalar('int', [
      [/^0o[0-7]+$/, (text) => Number.parseInt(text.substring(2), 8)],
      [/^[-+]?[0-9]+$/, (text) => Number.parseInt(text, 10)],
      [/^0x[0-9a-fA-F]+$/, (text) => Number.parseInt(text.substring(2), 16)],
    ]),
    scalar('float', [
      [
        /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/,
        (text) =>
          text.slice(-3).toLowerCase() === 'nan'
            ? Number.NaN
            : text[0] === '-'
              ? Number.NEGATIVE_INFINITY
              : Number.POSITIVE_INFINITY,
      ],
      [/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/, Number.parseFloat],
      [/^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/, Number.parseFloat],
    ]),
  ],
});

/** The `yaml` package's reading: a small alias budget stops "billion laughs" documents before they expand. */
export function readWithYaml(text: string, file: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    // The first syntax error is the one to fix; the rest usually follow from it.
    const error = doc.errors[0]!;
    const pos = error.linePos?.[0];
    const message = readable(error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''));
    throw new InvalidInputError([
      { path: '', message: `${file}${pos ? `:${pos.line}:${pos.col}` : ''}: ${message}` },
    ]);
  }
  try {
    return doc.toJS({ maxAliasCount: 50 });
  } catch (error) {
    throw new InvalidInputError([
      { path: '', message: `${file}: ${readable((error as Error).message.split('\n')[0]!)}` },
    ]);
  }
}

/** The parser's words for a document nested past the stack, in the reader's. */
function readable(message: string): string {
  return /call stack/i.test(message) ? 'nested too deeply to be a pgcred file' : message;
}
