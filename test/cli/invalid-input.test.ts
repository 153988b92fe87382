import { createServer, type Server } from 'node:net';
import { configDir, pgcred } from '../harness/cli';

/**
 * Bad input is refused before pgcred opens any connection: a listener stands
 * where the database and the control store would be and counts who knocks.
 */
describe('invalid input', () => {
  let server: Server;
  let port: number;
  let connections = 0;

  beforeAll(async () => {
    server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    connections = 0;
  });

  const env = () => ({
    DATABASE_ADMIN_URL: `postgres://admin:pw@127.0.0.1:${port}/app`,
    PGCRED_CONTROL_URL: `postgres://admin:pw@127.0.0.1:${port}/control`,
    PGCRED_MASTER_KEY: 'a'.repeat(64),
  });

  const file = (credentials: string, extra = '') => `version: 1
databases:
  - name: main
    url: \${DATABASE_ADMIN_URL}
${extra}    credentials:
${credentials}
`;
  const sixtyOne = Array.from({ length: 61 }, (_, i) => `      - { name: c${i} }`).join('\n');

  const cases: [string, string, string[]][] = [
    [
      'a bad name',
      file('      - { name: "bad name!" }'),
      [`"bad name!" may contain only letters, digits, '-' and '_' (at most 50)`],
    ],
    ['61 credentials', file(sixtyOne), ['allows at most 60 credentials besides default']],
    ['an unknown key', file('      - { name: a, level: read-only }'), ['unknown key "level"']],
    [
      'a wrong type',
      file('      - name: [a]'),
      ['databases[0].credentials[0].name: must be a string, got a list'],
    ],
    ['a duplicate name', file('      - { name: a }\n      - { name: a }'), ['duplicate credential "a"']],
    [
      'a dangling attachment',
      `${file('      - { name: a }')}apps: [ { name: web } ]\nattachments: [ { database: main, credential: b, app: web } ]\n`,
      ['attachments[0].credential: unknown credential "b" of database main'],
    ],
    [
      'an Essential plan',
      file('      - { name: a }', '    plan: essential-0\n'),
      ["You can't create a custom credential on Essential-tier databases."],
    ],
    [
      'two problems at once',
      file('      - { name: "x;y" }\n      - { name: b, permission: owner }'),
      [`"x;y" may contain only letters`, '"owner" is not one of none, read-only, read-write'],
    ],
  ];

  it.each(cases)('%s: exit 1, one line per problem, no connection', async (_what, text, expected) => {
    const dir = configDir(text);
    for (const args of [['plan'], ['apply', '--yes'], ['drift'], ['credentials']]) {
      const result = await pgcred(args, { cwd: dir, env: env() });
      expect(result.status).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(expected.length);
      expected.forEach((fragment, i) => {
        expect(lines[i]).toContain(fragment);
        expect(lines[i]).toContain('pgcred.yaml');
      });
      expect(result.stdout).toBe('');
    }
    expect(connections).toBe(0);
  });

  it('an unset ${VAR}: exit 1 naming the variable and where it is used, no connection', async () => {
    const dir = configDir(file('      - { name: a }'));
    const result = await pgcred(['apply', '--yes'], { cwd: dir, env: { PGCRED_MASTER_KEY: 'a'.repeat(64) } });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      `${dir}/pgcred.yaml: databases[0].url: environment variable DATABASE_ADMIN_URL is not set`,
    );
    expect(connections).toBe(0);
  });

  it('bad flags of an imperative command: exit 1 before connecting', async () => {
    const dir = configDir(file('      - { name: a }'));
    const bad = await pgcred(['credentials:create', 'main', '--name', 'bad name'], { cwd: dir, env: env() });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(
      `--name: "bad name" may contain only letters, digits, '-' and '_' (at most 50)`,
    );
    const level = await pgcred(['credentials:permissions', 'main', '--name', 'a', '--level', 'admin'], {
      cwd: dir,
      env: env(),
    });
    expect(level.status).toBe(1);
    expect(level.stderr).toContain("option '--level <level>' argument 'admin' is invalid");
    expect(connections).toBe(0);
  });

  it('a valid file does reach the listener (the count above can fail)', async () => {
    const dir = configDir(file('      - { name: a }'));
    const result = await pgcred(['plan'], { cwd: dir, env: env() });
    expect(result.status).toBe(1);
    expect(connections).toBeGreaterThan(0);
    expect(result.stderr).not.toContain('pw@');
  });
});
