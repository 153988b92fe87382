import { CommandContext, worseExit } from '../../src/cli/context';
import { fleetExit, runFleet } from '../../src/cli/fleet';
import type { Io } from '../../src/cli/io';
import type { DatabaseSpec } from '../../src/model/config';

/** The fleet runner's scheduling, without databases: the jobs are ours, and finish in an order we choose. */
describe('the fleet runner', () => {
  let stderr = '';
  const io: Io = {
    stdout: () => undefined,
    stderr: (text) => {
      stderr += text;
    },
    env: {},
    cwd: process.cwd(),
    interactive: false,
    prompt: async () => '',
  };
  const spec = (name: string, cluster: string): DatabaseSpec => ({
    name,
    url: `postgres://u@${cluster}.example.com:5432/${name}`,
    plan: 'standard-0',
    color: 'CYAN',
    role: 'primary',
    executor: 'pgcred',
    ignoreRoles: [],
    credentials: [],
  });
  const ticks = async (count: number) => {
    for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
  };

  beforeEach(() => {
    stderr = '';
  });

  it('keeps within --parallel and the per-cluster budget, and prints in the file order', async () => {
    const specs = [
      spec('a1', 'a'),
      spec('a2', 'a'),
      spec('a3', 'a'),
      spec('a4', 'a'),
      spec('b1', 'b'),
      spec('b2', 'b'),
    ];
    const running = new Map<string, number>();
    const most = new Map<string, number>();
    let total = 0;
    let mostTotal = 0;
    const outcomes = await runFleet(
      new CommandContext(io, {}),
      specs,
      { parallel: 3, perCluster: 2, isolate: true },
      async (db, say) => {
        const cluster = db.name[0]!;
        running.set(cluster, (running.get(cluster) ?? 0) + 1);
        most.set(cluster, Math.max(most.get(cluster) ?? 0, running.get(cluster)!));
        total += 1;
        mostTotal = Math.max(mostTotal, total);
        // Later databases finish first.
        await ticks(20 - specs.indexOf(db) * 3);
        running.set(cluster, running.get(cluster)! - 1);
        total -= 1;
        say(`${db.name} done`);
        if (db.name === 'a3') throw new Error('cannot connect to database a3: connection refused');
        return db.name.toUpperCase();
      },
    );
    expect(most.get('a')).toBe(2);
    expect(mostTotal).toBe(3);
    expect(outcomes.map((o) => [o.spec.name, o.cluster, o.value ?? o.error])).toEqual([
      ['a1', 'a.example.com:5432', 'A1'],
      ['a2', 'a.example.com:5432', 'A2'],
      ['a3', 'a.example.com:5432', 'cannot connect to database a3: connection refused'],
      ['a4', 'a.example.com:5432', 'A4'],
      ['b1', 'b.example.com:5432', 'B1'],
      ['b2', 'b.example.com:5432', 'B2'],
    ]);
    expect(stderr).toBe(
      [
        'a1 done',
        'a2 done',
        'a3 done',
        ' ▸    a3: cannot connect to database a3: connection refused',
        'a4 done',
        'b1 done',
        'b2 done',
        '',
      ].join('\n'),
    );
    expect(fleetExit(outcomes, () => false)).toBe(1);
  });

  it('exits 2 when any database drifted and none failed, 0 when all are in sync', async () => {
    const specs = [spec('x1', 'x'), spec('x2', 'x')];
    const drifted = await runFleet(
      new CommandContext(io, {}),
      specs,
      { parallel: 2, isolate: true },
      async (db) => (db.name === 'x2' ? 'drifted' : 'ok'),
    );
    expect(fleetExit(drifted, (v) => v === 'drifted')).toBe(2);
    expect(fleetExit(drifted, () => false)).toBe(0);
  });

  it('throws the error of a single database as it is', async () => {
    await expect(
      runFleet(new CommandContext(io, {}), [spec('one', 'x')], { parallel: 4, isolate: false }, async () => {
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
  });

  it('an error outranks drift, whichever a command records first, so a scheduled job never reads a failure as drift', () => {
    expect(worseExit(1, 2)).toBe(1);
    expect(worseExit(2, 1)).toBe(1);
    expect(worseExit(0, 2)).toBe(2);
    expect(worseExit(2, 0)).toBe(2);
    expect(worseExit(0, 0)).toBe(0);
  });
});
