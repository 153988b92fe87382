import type { Rotation } from '../../src/control/rotation-journal';
import { planRotationStep, type RotationFacts } from '../../src/rotation/rotate';

/**
 * A rotation's steps as pure functions from the journal entry and the live state: what
 * each step runs, in statements, and what it does around them, with no database.
 */
const rotation = (over: Partial<Rotation> = {}): Rotation => ({
  id: 1,
  database: 'sunny',
  credential: 'analyst',
  username: 'analyst',
  step: 'journaled',
  force: false,
  graceMs: 60_000,
  stepAt: new Date(0),
  startedAt: new Date(0),
  ...over,
});

const facts = (over: Partial<RotationFacts> = {}): RotationFacts => ({
  database: 'd1',
  isSuperuser: true,
  currentUser: 'postgres',
  isAdmin: false,
  rotatingExists: false,
  connections: 0,
  borrow: [],
  waitedMs: 0,
  ...over,
});

const sqlOf = (step: ReturnType<typeof planRotationStep>) =>
  step && 'plan' in step ? step.plan.statements.map((s) => s.sql) : step;

describe('rotation steps', () => {
  it('journaled: the rotating username is made with the new password, then the apps move to it', () => {
    const step = planRotationStep(rotation(), facts());
    expect(sqlOf(step)).toEqual([
      `CREATE ROLE "analyst-rotating" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD :'password'`,
      `COMMENT ON ROLE "analyst-rotating" IS 'managed by pgcred: rotating username of database "d1"'`,
      'GRANT "analyst" TO "analyst-rotating"',
      'ALTER ROLE "analyst-rotating" SET role = "analyst"',
    ]);
    expect(step).toMatchObject({
      before: [{ kind: 'store-password', username: 'analyst-rotating' }],
      after: [{ kind: 'point-apps', username: 'analyst-rotating' }],
      next: 'rotating-username',
      audit: 'rotation:rotating-username',
    });
  });

  it('journaled again after a crash: the rotating username that exists gets the password anew', () => {
    const step = planRotationStep(rotation(), facts({ rotatingExists: true }));
    expect(sqlOf(step)).toContain(`ALTER ROLE "analyst-rotating" PASSWORD :'password'`);
  });

  it('rotating-username waits for the old sessions, then for the settle time, until the grace is up', () => {
    const at = rotation({ step: 'rotating-username', settleMs: 5_000 });
    expect(planRotationStep(at, facts({ connections: 2, waitedMs: 10_000 }))).toEqual({
      waiting: { credential: 'analyst', waitingFor: 'analyst', connections: 2, remainingMs: 50_000 },
    });
    expect(planRotationStep(at, facts({ waitedMs: 1_000 }))).toHaveProperty('waiting');
    expect(sqlOf(planRotationStep(at, facts({ waitedMs: 6_000 })))).toEqual([
      `ALTER ROLE "analyst" PASSWORD :'password'`,
    ]);
    // Past the grace, what is left is ended: the step goes on with connections open.
    const late = planRotationStep(at, facts({ connections: 3, waitedMs: 60_000 }));
    expect(late).toMatchObject({
      after: [
        { kind: 'end-sessions', username: 'analyst' },
        { kind: 'point-apps', username: 'analyst' },
      ],
      next: 'password-set',
    });
  });

  it('password-set: the rotating username goes, its objects to the credential; a CREATEROLE admin borrows the credential', () => {
    const at = rotation({ step: 'password-set', graceMs: 0 });
    expect(sqlOf(planRotationStep(at, facts({ rotatingExists: true })))).toEqual([
      'REASSIGN OWNED BY "analyst-rotating" TO "analyst"',
      'DROP OWNED BY "analyst-rotating"',
      'DROP ROLE "analyst-rotating"',
    ]);
    expect(
      sqlOf(
        planRotationStep(
          at,
          facts({ rotatingExists: true, isSuperuser: false, currentUser: 'admin', borrow: ['analyst'] }),
        ),
      ),
    ).toEqual([
      'GRANT "analyst" TO CURRENT_USER',
      'GRANT "analyst-rotating" TO CURRENT_USER',
      'REASSIGN OWNED BY "analyst-rotating" TO "analyst"',
      'DROP OWNED BY "analyst-rotating"',
      'DROP ROLE "analyst-rotating"',
      'REVOKE "analyst" FROM CURRENT_USER',
    ]);
    // Gone already (a crash after the drop): nothing to run, the journal just moves on.
    expect(planRotationStep(at, facts())).toMatchObject({ plan: { statements: [] }, next: 'finished' });
  });

  it('force: the new password at once, sessions ended, the admin keeps its own new password', () => {
    const step = planRotationStep(rotation({ force: true }), facts({ isAdmin: true }));
    expect(sqlOf(step)).toEqual([`ALTER ROLE "analyst" PASSWORD :'password'`]);
    expect(step).toMatchObject({
      after: [
        { kind: 'end-sessions', username: 'analyst', always: true },
        { kind: 'keep-admin-password' },
        { kind: 'point-apps', username: 'analyst' },
      ],
      next: 'finished',
    });
  });

  it('finished: nothing to do', () => {
    expect(planRotationStep(rotation({ step: 'finished' }), facts())).toBeUndefined();
  });
});
