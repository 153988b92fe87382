import { clusterOf } from '../../src/cli/fleet';
import { parseConfig } from '../../src/config/load';
import { InvalidInputError } from '../../src/model/problem';

function problemsOf(text: string, env: NodeJS.ProcessEnv = { URL: 'postgres://a@b/c' }): string[] {
  try {
    parseConfig(text, { env });
  } catch (error) {
    if (error instanceof InvalidInputError)
      return error.problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message));
    throw error;
  }
  return [];
}

const db = (credentials: string, extra = '') => `version: 1
databases:
  - name: postgresql-sunny-1234
    url: \${URL}
${extra}    credentials:
${credentials}`;

describe('parseConfig', () => {
  it('reads the cluster and tags of a fleet, the cluster defaulting to HOST:PORT', () => {
    const config = parseConfig(
      `version: 1
databases:
  - { name: db17, url: "\${URL}", cluster: eu-1, tags: [eu, billing] }
  - { name: db18, url: "postgres://a@db.internal:6432/x" }
`,
      { env: { URL: 'postgres://a@b/c' } },
    );
    expect(config.databases.map((d) => [d.cluster, d.tags])).toEqual([
      ['eu-1', ['eu', 'billing']],
      [undefined, undefined],
    ]);
    expect(clusterOf(config.databases[0]!)).toBe('eu-1');
    expect(clusterOf(config.databases[1]!)).toBe('db.internal:6432');
    expect(
      problemsOf(`version: 1
databases:
  - { name: db17, url: "\${URL}", cluster: "eu 1", tags: ["a b"] }
`),
    ).toEqual([
      `databases[0].cluster: "eu 1" is not a cluster name (letters, digits, '.', ':', '-' and '_', at most 100)`,
      `databases[0].tags[0]: "a b" is not a tag (letters, digits, '.', ':', '/', '=', '-' and '_', at most 63)`,
    ]);
  });

  it('reads the SPEC example into the model', () => {
    const config = parseConfig(
      `version: 1
databases:
  - name: postgresql-sunny-1234
    url: \${DATABASE_ADMIN_URL}
    plan: standard-0
    color: CYAN
    credentials:
      - { name: analyst, permission: read-only }
      - { name: limited_user, grants: [ { privileges: [SELECT], on: table, objects: [public.users] } ] }
      - { name: billing, permission: read-write, rotation: { every: 90d, grace: 30m } }
apps:
  - { name: example-app, envFile: ./run/example-app.env, restart: "systemctl restart example-app" }
attachments:
  - { database: postgresql-sunny-1234, credential: analyst, app: example-app }
`,
      {
        env: { DATABASE_ADMIN_URL: 'postgres://admin:secret@db.example.com/sunny' },
        file: '/srv/infra/pgcred.yaml',
      },
    );
    const [database] = config.databases;
    expect(database!.url).toBe('postgres://admin:secret@db.example.com/sunny');
    expect(database!.credentials.map((c) => c.access)).toEqual([
      { kind: 'level', level: 'read-only' },
      { kind: 'grants', grants: [{ privileges: ['SELECT'], on: 'table', objects: ['public.users'] }] },
      { kind: 'level', level: 'read-write' },
    ]);
    expect(database!.credentials[2]!.rotation).toEqual({ everyMs: 90 * 86_400_000, graceMs: 30 * 60_000 });
    expect(config.apps[0]!.envFile).toBe('/srv/infra/run/example-app.env');
  });

  it('gives a credential without a level or grants the level none, as a new Heroku credential', () => {
    const config = parseConfig(db('      - { name: fresh }'), { env: { URL: 'postgres://a@b/c' } });
    expect(config.databases[0]!.credentials[0]!.access).toEqual({ kind: 'level', level: 'none' });
  });

  it.each([
    [
      'a bad name',
      db('      - { name: "bad name!" }'),
      [
        `databases[0].credentials[0].name: "bad name!" may contain only letters, digits, '-' and '_' (at most 50)`,
      ],
    ],
    [
      'a 51-character name',
      db(`      - { name: ${'a'.repeat(51)} }`),
      [
        `databases[0].credentials[0].name: "${'a'.repeat(51)}" may contain only letters, digits, '-' and '_' (at most 50)`,
      ],
    ],
    [
      'a reserved name',
      db('      - { name: postgres }'),
      ['databases[0].credentials[0].name: "postgres" is a reserved name'],
    ],
    [
      'a name ending in -rotating',
      db('      - { name: app-rotating }'),
      [
        'databases[0].credentials[0].name: "app-rotating" is reserved: names ending in -rotating are used during rotation',
      ],
    ],
    [
      'an unknown key',
      db('      - { name: analyst, permisions: read-only }'),
      [
        'databases[0].credentials[0]: unknown key "permisions" (known: name, permission, grants, memberOf, rotation)',
      ],
    ],
    [
      'a wrong type',
      db('      - { name: 42 }'),
      ['databases[0].credentials[0].name: must be a string, got number 42'],
    ],
    [
      'an unknown level',
      db('      - { name: analyst, permission: admin }'),
      ['databases[0].credentials[0].permission: "admin" is not one of none, read-only, read-write'],
    ],
    [
      'both a level and grants',
      db(
        '      - { name: analyst, permission: read-only, grants: [ { privileges: [SELECT], on: table, objects: [t] } ] }',
      ),
      ['databases[0].credentials[0]: give either permission or grants, not both'],
    ],
    [
      'a duplicate name',
      db('      - { name: analyst }\n      - { name: analyst }'),
      ['databases[0].credentials[1].name: duplicate credential "analyst" (also databases[0].credentials[0])'],
    ],
    [
      'a privilege that does not fit its object',
      db('      - { name: analyst, grants: [ { privileges: [INSERT], on: schema, objects: [public] } ] }'),
      [
        'databases[0].credentials[0].grants[0].privileges[0]: INSERT cannot be granted on schema; use USAGE, CREATE',
      ],
    ],
    [
      'credentials on an Essential plan',
      db('      - { name: analyst }', '    plan: essential-0\n'),
      [
        "databases[0].credentials: You can't create a custom credential on Essential-tier databases. (plan essential-0)",
      ],
    ],
    [
      'a bad duration',
      db('      - { name: billing, rotation: { every: 90 days } }'),
      ['databases[0].credentials[0].rotation.every: "90 days" is not a duration such as 90d, 12h, 30m or 3s'],
    ],
  ])('rejects %s with one line naming the path', (_what, text, expected) => {
    expect(problemsOf(text)).toEqual(expected);
  });

  it('rejects the 61st credential, naming it', () => {
    const credentials = Array.from({ length: 61 }, (_, i) => `      - { name: c${i} }`).join('\n');
    expect(problemsOf(db(credentials))).toEqual([
      'databases[0].credentials[60]: database postgresql-sunny-1234 allows at most 60 credentials besides default (plan standard-0); this file declares 61',
    ]);
    expect(problemsOf(db(credentials.split('\n').slice(0, 60).join('\n')))).toEqual([]);
  });

  it('takes a credential limit per database, as Heroku raised its own to 120', () => {
    const credentials = Array.from({ length: 61 }, (_, i) => `      - { name: c${i} }`).join('\n');
    expect(problemsOf(db(credentials, '    credentialLimit: 120\n'))).toEqual([]);
  });

  it('names an unset environment variable without guessing its value', () => {
    expect(problemsOf(db('      - { name: analyst }'), {})).toEqual([
      'databases[0].url: environment variable URL is not set',
    ]);
  });

  it('reports attachments to unknown credentials, apps and databases', () => {
    const text = `version: 1
databases:
  - { name: main, url: "\${URL}", credentials: [ { name: analyst } ] }
apps:
  - { name: web }
attachments:
  - { database: main, credential: analist, app: web }
  - { database: main, credential: analyst, app: wbe }
  - { database: mian, credential: analyst, app: web }
  - { database: main, credential: default, app: web }
`;
    expect(problemsOf(text)).toEqual([
      'attachments[0].credential: unknown credential "analist" of database main',
      'attachments[1].app: unknown app "wbe"',
      'attachments[2].database: unknown database "mian"',
    ]);
  });

  it('reports every problem at once, one line each', () => {
    const text = `version: 2
databases:
  - name: "x y"
    url: 7
    colour: CYAN
`;
    expect(problemsOf(text)).toEqual([
      'version: must be 1, got 2',
      'databases[0]: unknown key "colour" (known: name, url, plan, color, cluster, tags, role, source, owner, usernamePrefix, credentialLimit, executor, public, ignoreRoles, credentials)',
      `databases[0].name: "x y" may contain only letters, digits, '-' and '_' (at most 63)`,
      'databases[0].url: must be a string, got number 7',
    ]);
  });

  it('refuses YAML alias bombs before they expand', () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x","x"]',
      ...Array.from({ length: 8 }, (_, i) => {
        const prev = String.fromCharCode(97 + i);
        const name = String.fromCharCode(98 + i);
        return `${name}: &${name} [*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev}]`;
      }),
    ].join('\n');
    const problems = problemsOf(bomb);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/alias/i);
  });

  it('refuses duplicate keys, which YAML would otherwise resolve silently', () => {
    expect(problemsOf('version: 1\nversion: 1\ndatabases: []')[0]).toMatch(/pgcred\.yaml:2:1: .*unique/i);
  });
});
