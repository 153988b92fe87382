import { stringify } from 'yaml';

/**
 * A generated corpus of bad input: every case is invalid by construction, so each
 * must be refused. A case is a pgcred.yaml text (run with plan, apply, drift…) or a
 * command line against a valid file.
 */
export type BadInput =
  | { readonly kind: 'file'; readonly family: string; readonly name: string; readonly text: string | Buffer }
  | {
      readonly kind: 'argv';
      readonly family: string;
      readonly name: string;
      readonly argv: readonly string[];
    };

/** Deterministic, so a failing case can be found again by its name. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Names no credential may have: quotes, semicolons, spaces, unicode, control characters, too long. */
export const HOSTILE_NAMES: readonly string[] = [
  "a'b",
  'a"b',
  '"',
  "'",
  'a;b',
  "x'; DROP ROLE postgres; --",
  '"; DROP TABLE users; --',
  'a b',
  ' a',
  'a ',
  'a\tb',
  'a\nb',
  'a\u0000b',
  'a\u200bb',
  'ünïcødé',
  'имя',
  '名前',
  'emoji😀',
  'ｆｕｌｌｗｉｄｔｈ',
  'a.b',
  'a/b',
  'a\\b',
  '$(id)',
  '`id`',
  '%s%n',
  'a:b',
  'a@b',
  'a,b',
  '(a)',
  '*',
  'a'.repeat(51),
  'b'.repeat(64),
  'c'.repeat(1000),
  `${'é'.repeat(26)}`,
  '',
];

/** Legal in shape, reserved in meaning. */
export const RESERVED_NAMES: readonly string[] = [
  'postgres',
  'POSTGRES',
  'public',
  'Public',
  'pg_monitor',
  'pg_read_all_data',
  'pg_signal_backend',
  'PG_anything',
  'default',
  'DEFAULT',
  'none',
  'all',
  'current_user',
  'current_role',
  'session_user',
  'user',
  'pgcred',
  'x-rotating',
  'analyst-ROTATING',
];

type Doc = Record<string, unknown>;

/** A valid file, to break one place at a time. */
export function validDoc(): Doc {
  return {
    version: 1,
    databases: [
      {
        name: 'main',
        url: '${DATABASE_ADMIN_URL}',
        plan: 'standard-0',
        color: 'CYAN',
        credentials: [
          { name: 'analyst', permission: 'read-only', rotation: { every: '90d', grace: '30m' } },
          { name: 'limited', grants: [{ privileges: ['SELECT'], on: 'table', objects: ['public.users'] }] },
        ],
      },
    ],
    apps: [{ name: 'web', envFile: './run/web.env', restart: 'true' }],
    attachments: [{ database: 'main', credential: 'analyst', app: 'web', as: 'ANALYTICS' }],
  };
}

function clone(doc: Doc): Doc {
  return JSON.parse(JSON.stringify(doc));
}

/** Sets `value` at a path such as databases.0.credentials.1.name (undefined deletes). */
function setAt(doc: Doc, path: string, value: unknown): Doc {
  const parts = path.split('.');
  let node = doc as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) node = node[part] as Record<string, unknown>;
  const last = parts[parts.length - 1]!;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return doc;
}

function yaml(doc: Doc): string {
  return stringify(doc, { lineWidth: 0 });
}

/** One way to break a valid file: a path and a value that is wrong there. */
export interface Mutation {
  readonly label: string;
  readonly apply: (doc: Doc) => Doc;
}

const at =
  (path: string, value: unknown): Mutation['apply'] =>
  (doc) =>
    setAt(doc, path, value);

function nameMutations(): Mutation[] {
  const out: Mutation[] = [];
  const cred = 'databases.0.credentials.0.name';
  // Legal where they stand, so not part of the corpus there: an owner or database name
  // may be 63 long, an owner may end in -rotating, and `default` may be attached.
  const legalOwner = new Set(['a'.repeat(51), 'x-rotating', 'analyst-ROTATING']);
  for (const name of [...HOSTILE_NAMES, ...RESERVED_NAMES]) {
    out.push({ label: `credential name ${JSON.stringify(name)}`, apply: at(cred, name) });
    if (!legalOwner.has(name))
      out.push({ label: `owner ${JSON.stringify(name)}`, apply: at('databases.0.owner', name) });
    if (name !== 'default')
      out.push({
        label: `attachment credential ${JSON.stringify(name)}`,
        apply: at('attachments.0.credential', name),
      });
  }
  for (const name of HOSTILE_NAMES) {
    if (name !== 'a'.repeat(51))
      out.push({ label: `database name ${JSON.stringify(name)}`, apply: at('databases.0.name', name) });
    out.push({ label: `app name ${JSON.stringify(name)}`, apply: at('apps.0.name', name) });
    out.push({ label: `attachment as ${JSON.stringify(name)}`, apply: at('attachments.0.as', name) });
    out.push({ label: `plan ${JSON.stringify(name)}`, apply: at('databases.0.plan', name) });
    out.push({ label: `attachment app ${JSON.stringify(name)}`, apply: at('attachments.0.app', name) });
    out.push({
      label: `attachment database ${JSON.stringify(name)}`,
      apply: at('attachments.0.database', name),
    });
  }
  return out;
}

/** Values of the wrong type (or out of range) for every field of the file. */
function typeMutations(): Mutation[] {
  const wrong: [string, unknown[]][] = [
    ['version', [2, '1', null, true, [1], 0]],
    ['databases', [{}, 'main', null, [], 7]],
    ['databases.0', ['main', [], null, 1]],
    ['databases.0.name', [1, true, null, ['main'], { a: 1 }]],
    [
      'databases.0.url',
      [1, true, null, ['x'], {}, '', 'not a url', 'http://db/x', 'postgres://', 'mysql://a:b@h/d'],
    ],
    ['databases.0.plan', [1, null, ['standard-0'], 'Standard 0']],
    ['databases.0.color', ['cyan', 'TEAL', 1, null]],
    ['databases.0.role', ['leader', 1, 'FOLLOWER']],
    ['databases.0.source', [1, '']],
    ['databases.0.owner', [1, '', '1abc']],
    ['databases.0.usernamePrefix', [1, '', '1abc', 'a b', null, 'p'.repeat(50), 'pg_']],
    ['databases.0.credentialLimit', ['60', -1, 1.5, 100000, null]],
    ['databases.0.executor', ['ansible', 1]],
    ['databases.0.ignoreRoles', ['bob', 1, [1], ['']]],
    ['databases.0.credentials', [{}, 'analyst', 1]],
    ['databases.0.credentials.0', ['analyst', 1, null, []]],
    ['databases.0.credentials.0.permission', ['admin', 'READ-ONLY', 1, ['read-only'], 'owner']],
    ['databases.0.credentials.0.rotation', ['90d', 1, []]],
    ['databases.0.credentials.0.rotation.every', ['90 days', '0d', 5, '1y', '', '-1d', '9999999d']],
    ['databases.0.credentials.0.rotation.grace', ['-1m', '30', 30, '1.5h']],
    ['databases.0.credentials.1.grants', [{}, 'SELECT', 1]],
    ['databases.0.credentials.1.grants.0', ['SELECT', 1]],
    ['databases.0.credentials.1.grants.0.privileges', ['SELECT', [], [1], ['DROP'], ['select'], ['CREATE']]],
    ['databases.0.credentials.1.grants.0.on', ['tables', 'TABLE', 1, 'function']],
    [
      'databases.0.credentials.1.grants.0.objects',
      ['public.users', [1], [''], ['a.b.c'], ['"unterminated'], [`public.${'x'.repeat(64)}`], []],
    ],
    ['apps', [{}, 'web', 1]],
    ['apps.0', ['web', 1]],
    ['apps.0.envFile', [1, '', []]],
    ['apps.0.restart', [1, '', ['systemctl']]],
    ['apps.0.restartTimeout', ['1 hour', 60, '0s']],
    ['attachments', [{}, 'x', 1]],
    ['attachments.0', ['analyst', 1]],
    ['attachments.0.as', ['analytics', 'ANALYTICS_URL', 1, '']],
    ['control', ['postgres://x', 1, []]],
    ['control.url', [1, 'nope', '']],
    ['control.keyFile', [1, '']],
  ];
  const out: Mutation[] = [];
  for (const [path, values] of wrong) {
    for (const value of values) {
      out.push({
        label: `${path} = ${JSON.stringify(value)}`,
        apply: (doc) => {
          if (path.startsWith('control') && !doc.control)
            doc.control = { url: 'postgres://a:b@127.0.0.1:1/c' };
          return setAt(doc, path, value);
        },
      });
    }
  }
  for (const path of [
    '',
    'databases.0',
    'databases.0.credentials.0',
    'databases.0.credentials.0.rotation',
    'apps.0',
    'attachments.0',
    'databases.0.credentials.1.grants.0',
  ]) {
    out.push({
      label: `unknown key at ${path || 'top'}`,
      apply: (doc) => {
        const node = path ? (path.split('.').reduce((n, p) => (n as Doc)[p], doc as unknown) as Doc) : doc;
        node.levle = 'read-only';
        return doc;
      },
    });
  }
  for (const path of [
    'version',
    'databases',
    'databases.0.name',
    'databases.0.url',
    'databases.0.credentials.0.name',
    'apps.0.name',
    'attachments.0.app',
    'attachments.0.credential',
    'attachments.0.database',
    'databases.0.credentials.1.grants.0.on',
    'databases.0.credentials.1.grants.0.privileges',
  ]) {
    out.push({ label: `missing ${path}`, apply: at(path, undefined) });
  }
  return out;
}

/** Rules between fields that only the semantic validation sees. */
function semanticMutations(): Mutation[] {
  const creds = (n: number, prefix = 'c') =>
    Array.from({ length: n }, (_, i) => ({ name: `${prefix}${i}`, permission: 'read-only' }));
  return [
    { label: '61 credentials', apply: at('databases.0.credentials', creds(61)) },
    { label: '1001 credentials', apply: at('databases.0.credentials', creds(1001)) },
    {
      label: '121 credentials over a limit of 120',
      apply: (doc) =>
        setAt(setAt(doc, 'databases.0.credentialLimit', 120), 'databases.0.credentials', creds(121)),
    },
    {
      label: 'duplicate credential, other case',
      apply: at('databases.0.credentials', [{ name: 'Analyst' }, { name: 'analyst' }]),
    },
    {
      label: 'duplicate database',
      apply: (doc) => {
        (doc.databases as Doc[]).push({ name: 'main', url: '${DATABASE_ADMIN_URL}' });
        return doc;
      },
    },
    {
      label: 'duplicate app',
      apply: (doc) => {
        (doc.apps as Doc[]).push({ name: 'web' });
        return doc;
      },
    },
    {
      label: 'follower with credentials',
      apply: (doc) => setAt(setAt(doc, 'databases.0.role', 'follower'), 'databases.0.source', 'main'),
    },
    { label: 'Essential plan with credentials', apply: at('databases.0.plan', 'essential-0') },
    { label: 'hobby-dev plan with credentials', apply: at('databases.0.plan', 'hobby-dev') },
    { label: 'fork without source', apply: at('databases.0.role', 'fork') },
    { label: 'primary with source', apply: at('databases.0.source', 'main') },
    {
      label: 'follower of an unknown database',
      apply: (doc) => {
        (doc.databases as Doc[]).push({
          name: 'replica',
          url: '${DATABASE_ADMIN_URL}',
          role: 'follower',
          source: 'nope',
        });
        return doc;
      },
    },
    {
      label: 'follower of itself',
      apply: (doc) => {
        (doc.databases as Doc[]).push({
          name: 'replica',
          url: '${DATABASE_ADMIN_URL}',
          role: 'follower',
          source: 'replica',
        });
        return doc;
      },
    },
    {
      label: 'rotation every shorter than grace',
      apply: at('databases.0.credentials.0.rotation', { every: '1m', grace: '30m' }),
    },
    {
      label: 'permission and grants at once',
      apply: at('databases.0.credentials.1.permission', 'read-only'),
    },
    { label: 'CONNECT on a table', apply: at('databases.0.credentials.1.grants.0.privileges', ['CONNECT']) },
    {
      label: 'USAGE on all tables',
      apply: (doc) =>
        setAt(
          setAt(doc, 'databases.0.credentials.1.grants.0.on', 'all-tables'),
          'databases.0.credentials.1.grants.0.privileges',
          ['USAGE'],
        ),
    },
    {
      label: 'database grant with objects',
      apply: (doc) =>
        setAt(
          setAt(doc, 'databases.0.credentials.1.grants.0.on', 'database'),
          'databases.0.credentials.1.grants.0.privileges',
          ['CONNECT'],
        ),
    },
    {
      label: 'CREATE on a schema',
      apply: (doc) =>
        setAt(
          setAt(doc, 'databases.0.credentials.1.grants.0.on', 'schema'),
          'databases.0.credentials.1.grants.0.privileges',
          ['CREATE'],
        ),
    },
    {
      label: 'default-schemas naming a schema',
      apply: (doc) =>
        setAt(
          setAt(doc, 'databases.0.credentials.1.grants.0.on', 'default-schemas'),
          'databases.0.credentials.1.grants.0.privileges',
          ['USAGE'],
        ),
    },
    {
      label: 'table grant naming no table',
      apply: at('databases.0.credentials.1.grants.0.objects', undefined),
    },
    {
      label: 'a schema grant with a dot',
      apply: (doc) =>
        setAt(
          setAt(doc, 'databases.0.credentials.1.grants.0.on', 'schema'),
          'databases.0.credentials.1.grants.0.privileges',
          ['USAGE'],
        ),
    },
    { label: 'owner named like a credential', apply: at('databases.0.owner', 'analyst') },
    { label: 'attachment name ending _URL', apply: at('attachments.0.as', 'DATABASE_URL') },
    {
      label: 'two attachments with one name on one app',
      apply: (doc) => {
        (doc.attachments as Doc[]).push({
          database: 'main',
          credential: 'limited',
          app: 'web',
          as: 'ANALYTICS',
        });
        return doc;
      },
    },
    { label: 'unset environment variable', apply: at('databases.0.url', '${NOT_SET_ANYWHERE}') },
    {
      label: 'unset variable inside a URL',
      apply: at('databases.0.url', 'postgres://u:${NOT_SET_PASSWORD}@h/d'),
    },
    { label: 'environment variable with a bad name', apply: at('databases.0.url', '${1BAD}') },
  ];
}

/** Texts that are not a pgcred file at all: bombs, huge, deep, binary, broken YAML. */
function structuralCases(): { name: string; text: string | Buffer }[] {
  const out: { name: string; text: string | Buffer }[] = [];
  for (const depth of [3, 5, 8, 10]) {
    for (const width of [9, 20]) {
      const lines = [`a0: &a0 [${Array(width).fill('"lol"').join(', ')}]`];
      for (let i = 1; i < depth; i++)
        lines.push(
          `a${i}: &a${i} [${Array(width)
            .fill(`*a${i - 1}`)
            .join(', ')}]`,
        );
      out.push({ name: `alias bomb ${depth}x${width}`, text: `${lines.join('\n')}\n` });
      out.push({
        name: `alias bomb ${depth}x${width} inside a valid file`,
        text: `${lines.join('\n')}\nversion: 1\ndatabases: [{ name: main, url: "\${DATABASE_ADMIN_URL}", ignoreRoles: *a${depth - 1} }]\n`,
      });
    }
  }
  out.push({
    name: 'merge-key bomb',
    text: `a: &a {x: 1}\nb: &b {<<: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]}\n${Array.from({ length: 60 }, (_, i) => `c${i}: *b`).join('\n')}\n`,
  });
  out.push({ name: 'undefined alias', text: 'version: 1\ndatabases: *nope\n' });
  out.push({ name: 'self-referencing alias', text: 'version: 1\ndatabases: &d [*d]\n' });
  for (const mib of [1.01, 2, 8]) {
    const size = Math.floor(mib * 1024 * 1024);
    out.push({ name: `huge file ${mib} MiB of comment`, text: `version: 1\n#${'x'.repeat(size)}\n` });
  }
  out.push({
    name: 'huge file: one credential name of a million characters',
    text: `version: 1\ndatabases: [{ name: main, url: "\${DATABASE_ADMIN_URL}", credentials: [{ name: ${'a'.repeat(1_100_000)} }] }]\n`,
  });
  out.push({
    name: 'many credentials near the size limit',
    text: `version: 1\ndatabases: [{ name: main, url: "\${DATABASE_ADMIN_URL}", credentials: [${Array.from({ length: 30000 }, (_, i) => `{name: c${i}}`).join(',')}] }]\n`,
  });
  for (const depth of [200, 1000, 20000, 200000]) {
    out.push({
      name: `nested sequences ${depth} deep`,
      text: `version: 1\ndatabases: ${'['.repeat(depth)}${']'.repeat(depth)}\n`,
    });
    out.push({
      name: `nested mappings ${depth} deep`,
      text: `version: 1\ndatabases: ${'{a: '.repeat(depth)}1${'}'.repeat(depth)}\n`,
    });
  }
  const random = prng(7);
  for (let i = 0; i < 12; i++) {
    out.push({
      name: `random bytes #${i}`,
      text: Buffer.from(Array.from({ length: 64 + i * 300 }, () => Math.floor(random() * 256))),
    });
  }
  out.push({
    name: 'invalid UTF-8 in a name',
    text: Buffer.concat([
      Buffer.from('version: 1\ndatabases: [{ name: "m'),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from('", url: "${DATABASE_ADMIN_URL}" }]\n'),
    ]),
  });
  for (const [name, text] of [
    ['empty file', ''],
    ['only a comment', '# nothing here\n'],
    ['a scalar', 'hello\n'],
    ['a list', '- version: 1\n'],
    ['null document', '~\n'],
    ['two documents', 'version: 1\ndatabases: []\n---\nversion: 1\n'],
    ['tab indentation', 'version: 1\ndatabases:\n\t- name: main\n'],
    ['unterminated quote', 'version: 1\ndatabases: [{ name: "main }]\n'],
    ['unterminated flow', 'version: 1\ndatabases: [{ name: main\n'],
    ['duplicate keys', 'version: 1\nversion: 1\ndatabases: []\n'],
    ['duplicate keys in JSON', '{"version": 1, "databases": [], "databases": []}'],
    ['JSON with a trailing comma', '{"version": 1, "databases": [],}'],
    ['a custom tag', 'version: 1\ndatabases: !!js/function "function () {}"\n'],
    ['a binary tag', 'version: 1\ndatabases: !!binary aGVsbG8=\n'],
    ['an unknown tag', 'version: 1\ndatabases: !include other.yaml\n'],
    ['a set', 'version: 1\ndatabases: !!set { a, b }\n'],
    ['NUL bytes', 'version: 1\u0000\ndatabases: []\n'],
    ['a BOM and nothing else', '\ufeff'],
    ['control characters', 'version: 1\ndatabases: [{ name: "\u0007\u0008", url: x }]\n'],
    ['version as a float', 'version: 1.0e0\ndatabases: []\n'],
    ['no databases', 'version: 1\n'],
    ['empty databases', 'version: 1\ndatabases: []\n'],
  ] as const) {
    out.push({ name, text });
  }
  return out;
}

/** Command lines that must be refused before any connection, against a valid file. */
function argvCases(): { name: string; argv: string[] }[] {
  const out: { name: string; argv: string[] }[] = [];
  const names = [
    ...HOSTILE_NAMES.filter((n) => n !== '' && !n.includes('\u0000')),
    ...RESERVED_NAMES.filter((n) => n.toLowerCase() !== 'default'),
  ];
  for (const name of names) {
    out.push({
      name: `credentials:create --name ${JSON.stringify(name)}`,
      argv: ['credentials:create', 'main', '--name', name],
    });
    out.push({
      name: `credentials:permissions --name ${JSON.stringify(name)}`,
      argv: ['credentials:permissions', 'main', '--name', name, '--level', 'read-only'],
    });
    out.push({
      name: `credentials:destroy --name ${JSON.stringify(name)}`,
      argv: ['credentials:destroy', 'main', '--name', name, '--confirm', 'main'],
    });
    out.push({
      name: `credentials:url --name ${JSON.stringify(name)}`,
      argv: ['credentials:url', 'main', '--name', name],
    });
    out.push({
      name: `credentials:rotate --name ${JSON.stringify(name)}`,
      argv: ['credentials:rotate', 'main', '--name', name, '--confirm', 'main'],
    });
    out.push({
      name: `attach --credential ${JSON.stringify(name)}`,
      argv: ['attach', 'main', '--credential', name, '--app', 'web'],
    });
    // Reserved words are fine as app and attachment names (an app called postgres, an attachment POSTGRES).
    if (HOSTILE_NAMES.includes(name)) {
      out.push({
        name: `attach --as ${JSON.stringify(name)}`,
        argv: ['attach', 'main', '--credential', 'analyst', '--app', 'web', '--as', name],
      });
      out.push({ name: `detach ${JSON.stringify(name)}`, argv: ['detach', '--app', 'web', name] });
      out.push({
        name: `attach --app ${JSON.stringify(name)}`,
        argv: ['attach', 'main', '--credential', 'analyst', '--app', name],
      });
      out.push({ name: `config --app ${JSON.stringify(name)}`, argv: ['config', '--app', name] });
    }
    out.push({ name: `unknown database ${JSON.stringify(name)}`, argv: ['credentials', name] });
  }
  for (const level of ['admin', 'READ-ONLY', 'owner', 'superuser', "read-only'; --", '']) {
    out.push({
      name: `--permission ${JSON.stringify(level)}`,
      argv: ['credentials:create', 'main', '--name', 'fresh', '--permission', level],
    });
    out.push({
      name: `--level ${JSON.stringify(level)}`,
      argv: ['credentials:permissions', 'main', '--name', 'analyst', '--level', level],
    });
  }
  for (const grace of ['forever', '30', '-1m', '1y', '0s', '30 m', '']) {
    out.push({
      name: `--grace ${JSON.stringify(grace)}`,
      argv: ['credentials:rotate', 'main', '--name', 'analyst', '--grace', grace, '--confirm', 'main'],
    });
  }
  for (const format of ['xml', 'TEXT', '']) {
    out.push({ name: `plan --format ${JSON.stringify(format)}`, argv: ['plan', '--format', format] });
    out.push({ name: `drift --format ${JSON.stringify(format)}`, argv: ['drift', '--format', format] });
  }
  out.push({ name: 'an unknown command', argv: ['credentials:delete', '--name', 'analyst'] });
  out.push({ name: 'an unknown flag', argv: ['apply', '--force-everything'] });
  out.push({
    name: '--all with --name',
    argv: ['credentials:rotate', 'main', '--all', '--name', 'analyst', '--confirm', 'main'],
  });
  out.push({ name: 'create without --name', argv: ['credentials:create', 'main'] });
  out.push({
    name: 'permissions without --level',
    argv: ['credentials:permissions', 'main', '--name', 'analyst'],
  });
  out.push({ name: 'a missing -f file', argv: ['-f', 'no-such-file.yaml', 'plan'] });
  out.push({ name: 'a -f directory', argv: ['-f', '.', 'plan'] });
  out.push({ name: 'a missing manifest', argv: ['plan', '--manifest', 'no-such-manifest.json'] });
  out.push({ name: 'a URL that is not PostgreSQL', argv: ['credentials', 'postgres://'] });
  out.push({
    name: 'a database named by a bad URL',
    argv: ['credentials:create', 'postgresql://u:p@/x', '--name', "x'y"],
  });
  return out;
}

export function badInputCorpus(randomCombinations = 300): BadInput[] {
  const cases: BadInput[] = [];
  const single = [...nameMutations(), ...typeMutations(), ...semanticMutations()];
  for (const m of single) {
    cases.push({
      kind: 'file',
      family: 'one mutation',
      name: m.label,
      text: yaml(m.apply(clone(validDoc()))),
    });
  }
  // Several independent mistakes at once: each is wrong on its own, so the whole is.
  const random = prng(42);
  for (let i = 0; i < randomCombinations; i++) {
    const count = 2 + Math.floor(random() * 3);
    const picked = Array.from({ length: count }, () => single[Math.floor(random() * single.length)]!);
    let doc = clone(validDoc());
    const labels: string[] = [];
    for (const m of picked) {
      try {
        doc = m.apply(doc);
        labels.push(m.label);
      } catch {
        // a path an earlier mutation removed: that one alone is still wrong
      }
    }
    cases.push({
      kind: 'file',
      family: 'random combination',
      name: `#${i}: ${labels.join(' + ')}`,
      text: yaml(doc),
    });
  }
  for (const s of structuralCases()) cases.push({ kind: 'file', family: 'structure', ...s });
  for (const a of argvCases()) cases.push({ kind: 'argv', family: 'command line', ...a });
  return cases;
}

/** The valid file the command-line cases run against. */
export function validFileText(): string {
  return yaml(validDoc());
}
