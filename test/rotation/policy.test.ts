import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tryAs } from '../harness/pg';
import { createProject, type Project } from '../harness/project';

const url = (file: string) => readFileSync(file, 'utf8').trim().split('=').slice(1).join('=');

describe('rotation policies', () => {
  let p: Project;
  let billing: string;
  let steady: string;

  beforeAll(async () => {
    p = await createProject('policy', ({ url: admin, name }) => {
      billing = name('billing');
      steady = name('steady');
      return `version: 1
databases:
  - name: sunny
    url: ${admin}
    credentials:
      - { name: ${billing}, permission: read-write, rotation: { every: 3s, grace: 1s } }
      - { name: ${steady}, permission: read-only }
apps:
  - { name: billing-app, envFile: ./run/billing.env }
  - { name: steady-app, envFile: ./run/steady.env }
attachments:
  - { database: sunny, credential: ${billing}, app: billing-app }
  - { database: sunny, credential: ${steady}, app: steady-app }
`;
    });
    await p.ok('apply', '--yes');
  });
  afterAll(() => p.cleanup());

  it('reconcile rotates a credential once its password is older than `every`, and no other', async () => {
    const billingBefore = url(join(p.dir, 'run', 'billing.env'));
    const steadyBefore = url(join(p.dir, 'run', 'steady.env'));
    const early = await p.ok('reconcile');
    expect(early.stderr).not.toContain('was due for rotation');
    await new Promise((resolve) => setTimeout(resolve, 3200));
    const due = await p.ok('reconcile');
    expect(due.stderr).toContain(`sunny: ${billing} was due for rotation`);
    for (let i = 0; i < 30 && !(await p.ok('reconcile')).stderr.includes('is complete'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const billingAfter = url(join(p.dir, 'run', 'billing.env'));
    expect(billingAfter).not.toBe(billingBefore);
    expect(await tryAs(billingAfter, 'SELECT 1')).toMatchObject({ ok: true });
    expect(await tryAs(billingBefore, 'SELECT 1')).toMatchObject({ ok: false, code: '28P01' });
    expect(url(join(p.dir, 'run', 'steady.env'))).toBe(steadyBefore);
  }, 60_000);
});
