import type { Config, DatabaseSpec } from '../../src/model/config';
import {
  type CredentialFacts,
  createRefusals,
  destroyRefusals,
  liveCreateRefusals,
  managedCredentialRefusals,
  tooManyCredentials,
} from '../../src/model/refusals';
import { validateConfig } from '../../src/model/validate';
import { validateCredentialConfig } from '../../src/provider/credential-config';
import { UNKNOWN } from '../../src/provider/values';

const database = (props: Partial<DatabaseSpec> = {}): DatabaseSpec => ({
  name: 'sunny',
  url: '${SUNNY_URL}',
  plan: 'standard-0',
  color: 'CYAN',
  role: 'primary',
  executor: 'pgcred',
  ignoreRoles: [],
  credentials: [],
  ...props,
});

const config = (db: DatabaseSpec): Config => ({
  version: 1,
  databases: [db],
  apps: [],
  attachments: [],
  control: {},
});

function facts(credentials: string[], roles: Record<string, { kind: string; database: string } | null> = {}) {
  const live: CredentialFacts = {
    inRecovery: false,
    credentials,
    role: (name) => {
      if (credentials.includes(name))
        return { managed: { kind: 'credential', database: 'sunny' }, adoptable: false };
      if (!(name in roles)) return undefined;
      const managed = roles[name];
      return managed ? { managed, adoptable: false } : { adoptable: true };
    },
  };
  return live;
}

describe('the catalogue of refusals', () => {
  it("refuses a credential on an Essential-tier plan in Heroku's words, which the file shows with the plan", () => {
    const tiny = database({ plan: 'essential-0' });
    expect(createRefusals(tiny, 'analyst')).toEqual([
      {
        code: 'essential-tier',
        message: "You can't create a custom credential on Essential-tier databases.",
        context: 'plan essential-0',
        subject: 'sunny',
        attribute: ['database'],
      },
    ]);
    expect(
      validateConfig(
        config({ ...tiny, credentials: [{ name: 'analyst', access: { kind: 'level', level: 'none' } }] }),
      ),
    ).toEqual([
      {
        path: 'databases[0].credentials',
        message: "You can't create a custom credential on Essential-tier databases. (plan essential-0)",
      },
    ]);
  });

  it('words the credential limit one way, whoever counts', () => {
    const db = database({ credentialLimit: 2 });
    const credentials = ['a1', 'a2', 'a3'].map((name) => ({
      name,
      access: { kind: 'level' as const, level: 'none' as const },
    }));
    expect(validateConfig(config({ ...db, credentials }))).toEqual([
      {
        path: 'databases[0].credentials[2]',
        message:
          'database sunny allows at most 2 credentials besides default (plan standard-0); this file declares 3',
      },
    ]);
    expect(liveCreateRefusals(db, 'a3', facts(['a1', 'a2']))).toEqual([
      tooManyCredentials(db, { existing: 2, total: 3, by: 'this command' }),
    ]);
    expect(liveCreateRefusals(db, 'a3', facts(['a1', 'a2']))[0]?.message).toBe(
      'database sunny allows at most 2 credentials besides default (plan standard-0); it has 2 and this command would make it 3',
    );
  });

  it('tells a taken name from a role pgcred does not manage', () => {
    const db = database();
    expect(liveCreateRefusals(db, 'analyst', facts(['analyst']))[0]).toMatchObject({
      code: 'credential-exists',
      message: 'credential analyst already exists on sunny',
      attribute: ['name'],
    });
    expect(
      liveCreateRefusals(db, 'etl', facts([], { etl: { kind: 'credential', database: 'other' } }))[0],
    ).toMatchObject({
      code: 'name-taken',
      message:
        'role etl is already a credential of database "other": roles are cluster-wide, so sunny cannot have its own etl',
    });
    expect(liveCreateRefusals(db, 'legacy', facts([], { legacy: null }))[0]).toMatchObject({
      code: 'unmanaged-role',
      message: 'a role named legacy already exists in this cluster and pgcred does not manage it',
    });
  });

  it("never destroys the default credential, by its name or its username, in Heroku's words", () => {
    for (const [name, owner] of [
      ['default', undefined],
      ['sunny_owner', 'sunny_owner'],
    ] as const) {
      expect(destroyRefusals(name, owner)).toEqual([
        {
          code: 'default-not-destroyable',
          message: 'Default credential cannot be destroyed.',
          subject: name,
          attribute: ['name'],
        },
      ]);
    }
    expect(destroyRefusals('analyst', 'sunny_owner')).toEqual([]);
  });

  it('acts only on managed credentials, unless an import adopts the role', () => {
    expect(managedCredentialRefusals('sunny', 'nobody', facts([]))[0]?.message).toBe(
      'Could not find credential nobody on sunny',
    );
    expect(
      managedCredentialRefusals('sunny', 'legacy', facts([], { legacy: null }), { adopt: true }),
    ).toEqual([]);
    expect(managedCredentialRefusals('sunny', 'legacy', facts([], { legacy: null }))[0]?.code).toBe(
      'not-managed',
    );
  });
});

describe("the provider's validate renders the model's credential checks on Terraform attributes", () => {
  const attribute = (...steps: (string | number)[]) => ({
    steps: steps.map((step) =>
      typeof step === 'number' ? { element_key_int: step } : { attribute_name: step },
    ),
  });

  it('names the grant block, counting the blocks whose parts are still unknown', () => {
    const diagnostics = validateCredentialConfig({
      database: 'sunny',
      name: 'bad name',
      permission: null,
      grant: [
        { privileges: ['SELECT'], on: 'all-tables', objects: UNKNOWN },
        { privileges: ['DELETE'], on: 'database', objects: [] },
      ],
      rotation: { every: '1h', grace: '2h', settle: null },
    });
    expect(diagnostics.map((d) => [d.summary, d.detail, d.attribute])).toEqual([
      [
        'Invalid credential name',
        `"bad name" may contain only letters, digits, '-' and '_' (at most 50)`,
        attribute('name'),
      ],
      [
        'Invalid grant',
        'DELETE cannot be granted on database; use CONNECT, TEMPORARY',
        attribute('grant', 1, 'privileges', 0),
      ],
      ['Invalid rotation policy', 'every must be longer than grace', attribute('rotation', 'every')],
    ]);
  });
});
