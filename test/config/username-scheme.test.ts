import { parseConfig } from '../../src/config/load';
import { InvalidInputError } from '../../src/model/problem';

/** The file's username scheme (usernamePrefix): what the loader refuses, one line each, with the JSON path. */
function problems(databases: string): string[] {
  try {
    parseConfig(`version: 1\ndatabases:\n${databases}`, { env: {} });
    return [];
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    return error.message.split('\n');
  }
}

describe('usernamePrefix in pgcred.yaml', () => {
  it('is read into the model, and a valid scheme passes', () => {
    const config = parseConfig(
      'version: 1\ndatabases:\n  - { name: db17, url: "postgres://a@h:5432/db17", usernamePrefix: db17_, credentials: [ { name: analyst } ] }\n',
      { env: {} },
    );
    expect(config.databases[0]!.usernamePrefix).toBe('db17_');
  });

  it.each([
    [
      'not a role-name start',
      '  - { name: a, url: "postgres://a@h/a", usernamePrefix: "1x", credentials: [ { name: analyst } ] }\n',
      'databases[0].usernamePrefix: "1x" is not a username prefix',
    ],
    [
      'a reserved username',
      '  - { name: a, url: "postgres://a@h/a", usernamePrefix: pg_, credentials: [ { name: analyst } ] }\n',
      'databases[0].credentials[0].name: "pg_analyst" is reserved: names starting with pg_ belong to PostgreSQL',
    ],
    [
      'the owner’s username',
      '  - { name: a, url: "postgres://a@h/a", owner: a_analyst, usernamePrefix: a_, credentials: [ { name: analyst } ] }\n',
      `databases[0].credentials[0].name: "analyst" would log in as "a_analyst", the default credential's username (owner)`,
    ],
    [
      'a prefix on a follower',
      '  - { name: a, url: "postgres://a@h:1/a", credentials: [ { name: analyst } ] }\n  - { name: b, url: "postgres://a@h:2/b", role: follower, source: a, usernamePrefix: b_ }\n',
      "databases[1].usernamePrefix: a follower logs in with its primary's usernames",
    ],
    [
      'one username from two schemes on one cluster',
      '  - { name: a, url: "postgres://a@h:5432/a", usernamePrefix: x_, credentials: [ { name: y_z } ] }\n  - { name: b, url: "postgres://a@h:5432/b", usernamePrefix: x_y_, credentials: [ { name: z } ] }\n',
      'databases[1].credentials[0].name: credential "z" of database b and credential "y_z" of database a (databases[0].credentials[0].name) would both log in as "x_y_z" on cluster h:5432',
    ],
  ])('%s: one line naming it', (_what, databases, expected) => {
    const lines = problems(databases);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(expected);
  });

  it('the same username on two clusters, or in two databases without a scheme, is no file problem', () => {
    expect(
      problems(
        '  - { name: a, url: "postgres://a@h:1/a", usernamePrefix: x_, credentials: [ { name: z } ] }\n  - { name: b, url: "postgres://a@h:2/b", usernamePrefix: x_, credentials: [ { name: z } ] }\n',
      ),
    ).toEqual([]);
    // Without a scheme the apply that comes second is refused (test/cli/username-scheme.test.ts).
    expect(
      problems(
        '  - { name: a, url: "postgres://a@h/a", credentials: [ { name: z } ] }\n  - { name: b, url: "postgres://a@h/b", credentials: [ { name: z } ] }\n',
      ),
    ).toEqual([]);
  });
});
