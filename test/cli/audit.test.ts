import { createProject, type Project } from '../harness/project';

describe('pgcred audit', () => {
  let p: Project;
  let analyst: string;

  beforeAll(async () => {
    p = await createProject('audit', ({ url, name }) => {
      analyst = name('analyst');
      return `version: 1\ndatabases:\n  - name: sunny\n    url: ${url}\n    credentials: [ { name: ${analyst}, permission: read-only } ]\n`;
    });
    await p.ok('apply', '--yes');
    await p.ok('attach', '--credential', analyst, '--app', 'web');
  });
  afterAll(() => p.cleanup());

  it('lists who did what and when, newest first, without a secret', async () => {
    const json = JSON.parse((await p.ok('audit', '--json')).stdout) as {
      action: string;
      subject: string;
      actor: string;
    }[];
    expect(json.map((e) => e.action).slice(0, 3)).toEqual(['restart', 'release', 'attach']);
    expect(json.find((e) => e.action === 'attach')?.subject).toBe(analyst);
    expect(json.at(-1)?.action).toBe('apply');
    const text = (await p.ok('audit', '--limit', '2')).stdout;
    expect(text).toMatch(/When +│ Who +│ What/);
    expect(text.match(/restart|release|attach/g)).toHaveLength(2);
    expect(JSON.stringify(json)).not.toMatch(/[A-Za-z0-9]{65}/);
  });

  it('names a bad --limit', async () => {
    const result = await p.run('audit', '--limit', 'lots');
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe('▸    --limit: "lots" is not a number from 1 to 10000');
  });
});
