import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createProject, type Project } from '../harness/project';

/**
 * One change to the file removes a credential and its declared attachment: apply
 * --prune must detach it (the file says so) before it destroys the credential, which
 * it refuses while the credential is attached.
 */
describe('apply --prune with the credential’s declared attachment removed in the same change', () => {
  let p: Project;
  let keep: string;
  let gone: string;
  const file = (credentials: string[], attachments: string[]) => `version: 1
databases:
  - name: sunny
    url: \${DATABASE_ADMIN_URL}
    credentials: [${credentials.map((c) => `{ name: ${c}, permission: read-only }`).join(', ')}]
apps:
  - { name: web, envFile: ./run/web.env }
attachments: [${attachments.map((c) => `{ database: sunny, credential: ${c}, app: web }`).join(', ')}]
`;

  beforeAll(async () => {
    p = await createProject('prunedecl', ({ name }) => {
      keep = name('keep');
      gone = name('gone');
      return file([keep, gone], [keep, gone]);
    });
    await p.ok('apply', '--yes');
  });
  afterAll(() => p.cleanup());

  it('detaches, then destroys, in one apply', async () => {
    const env = join(p.dir, 'run', 'web.env');
    expect(readFileSync(env, 'utf8')).toContain(`${gone}:`);
    p.writeConfig(file([keep], [keep]));
    const result = await p.run('apply', '--prune', '--yes');
    expect(result.stderr).not.toContain('must be detached');
    expect(result.status).toBe(0);
    expect(await p.db.sql('SELECT 1 FROM pg_roles WHERE rolname = $1', [gone])).toEqual([]);
    expect(existsSync(env) && readFileSync(env, 'utf8')).not.toContain(`${gone}:`);
    expect(readFileSync(env, 'utf8')).toContain(`${keep}:`);
    expect((await p.run('drift')).status).toBe(0);
  });

  it('still refuses to destroy a credential that an attachment made with pgcred attach holds', async () => {
    const held = p.name('held');
    p.writeConfig(file([keep, held], [keep]));
    await p.ok('apply', '--yes');
    await p.ok('attach', '--credential', held, '--app', 'web', '--as', 'HELD');
    p.writeConfig(file([keep], [keep]));
    const result = await p.run('apply', '--prune', '--yes');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `Credential ${held} must be detached from the app ⬢ web before destroying.`,
    );
    expect(await p.db.sql('SELECT 1 AS x FROM pg_roles WHERE rolname = $1', [held])).toEqual([{ x: 1 }]);
  });
});
