import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pgcred } from '../harness/cli';
import { type BadInput, badInputCorpus, validFileText } from './corpus';
import { LONG, scale } from './scale';

/**
 * The bad-input corpus: every generated case is refused with exit 1 and a short,
 * clear message, and no SQL is issued. The proof of the last part: the database and
 * the control store are a TCP listener that counts connections, and it must count
 * none; a valid file run the same way does reach it.
 */
const SECRET = 'Listener0Pa55word0Never0Shown';
const COMMANDS_FOR_FILES: readonly (readonly string[])[] = [
  ['plan'],
  ['apply', '--yes'],
  ['drift'],
  ['credentials'],
  ['reconcile'],
  ['credentials:create', 'main', '--name', 'fresh'],
  ['credentials:rotate', 'main', '--name', 'analyst', '--confirm', 'main'],
  ['attach', 'main', '--credential', 'analyst', '--app', 'web'],
];

describe('bad input: a generated corpus, refused before any connection', () => {
  let server: Server;
  let port: number;
  let connections = 0;
  const corpus = badInputCorpus(scale({ ci: 300, long: 1500 }));

  beforeAll(async () => {
    server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const env = () => ({
    DATABASE_ADMIN_URL: `postgres://admin:${SECRET}@127.0.0.1:${port}/app`,
    PGCRED_CONTROL_URL: `postgres://admin:${SECRET}@127.0.0.1:${port}/control`,
    PGCRED_MASTER_KEY: 'a'.repeat(64),
  });

  /** What a refusal must look like: exit 1, nothing on stdout, a few short lines, no stack, no secret. */
  function checkRefusal(
    c: BadInput,
    result: { status: number; stdout: string; stderr: string },
    failures: string[],
    file?: string,
  ): void {
    const where = `${c.family}: ${c.name}`;
    const lines = result.stderr.trim().split('\n');
    const problems: string[] = [];
    if (result.status !== 1) problems.push(`exit ${result.status}`);
    if (result.stdout !== '') problems.push(`stdout: ${result.stdout.slice(0, 200)}`);
    if (result.stderr.trim() === '') problems.push('no message');
    if (lines.length > 12) problems.push(`${lines.length} lines`);
    for (const line of lines) {
      if (line.length > 400) problems.push(`a line of ${line.length} characters`);
      if (
        /^\s+at |TypeError|RangeError|ReferenceError|Cannot read prop|undefined|\[object Object\]/.test(line)
      )
        problems.push(`not a clear message: ${line.slice(0, 200)}`);
      if (file && !line.startsWith(file)) problems.push(`does not name the file: ${line.slice(0, 200)}`);
    }
    if (result.stderr.includes(SECRET)) problems.push('the admin password appears');
    if (problems.length > 0)
      failures.push(`${where}\n  ${problems.join('\n  ')}\n  stderr: ${result.stderr.slice(0, 600)}`);
  }

  it(`has at least 1,000 cases (${corpus.length} here)`, () => {
    expect(corpus.length).toBeGreaterThanOrEqual(1000);
    const families = new Map<string, number>();
    for (const c of corpus) families.set(c.family, (families.get(c.family) ?? 0) + 1);
    process.stderr.write(
      `bad-input corpus: ${corpus.length} cases (${[...families].map(([f, n]) => `${f}: ${n}`).join(', ')})\n`,
    );
  });

  it('refuses every file case with exit 1, a clear message naming the file, and no connection', async () => {
    const files = corpus.filter((c): c is Extract<BadInput, { kind: 'file' }> => c.kind === 'file');
    let runs = 0;
    const failures: string[] = [];
    for (const [i, c] of files.entries()) {
      const dir = mkdtempSync(join(tmpdir(), 'pgcred-bad-'));
      const path = join(dir, 'pgcred.yaml');
      writeFileSync(path, c.text);
      // Each case under one command in CI, rotating through all of them; under plan as well in the long run.
      const commands = [COMMANDS_FOR_FILES[i % COMMANDS_FOR_FILES.length]!];
      if (LONG && i % COMMANDS_FOR_FILES.length !== 0) commands.push(COMMANDS_FOR_FILES[0]!);
      for (const args of commands) {
        const before = connections;
        const result = await pgcred(args, { cwd: dir, env: env() });
        runs++;
        checkRefusal(c, result, failures, path);
        if (connections !== before)
          failures.push(`${c.family}: ${c.name}: pgcred ${args.join(' ')} connected`);
      }
    }
    expect(failures.slice(0, 15)).toEqual([]);
    expect(runs).toBeGreaterThanOrEqual(files.length);
    expect(connections).toBe(0);
  }, 300_000);

  it('refuses every command-line case with exit 1 and a clear message, and no connection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgcred-bad-'));
    writeFileSync(join(dir, 'pgcred.yaml'), validFileText());
    const failures: string[] = [];
    const argvs = corpus.filter((c): c is Extract<BadInput, { kind: 'argv' }> => c.kind === 'argv');
    for (const c of argvs) {
      const before = connections;
      const result = await pgcred(c.argv, { cwd: dir, env: env() });
      checkRefusal(c, result, failures);
      if (connections !== before) failures.push(`${c.family}: ${c.name}: connected`);
    }
    expect(failures.slice(0, 15)).toEqual([]);
    expect(argvs.length).toBeGreaterThan(400);
    expect(connections).toBe(0);
  }, 300_000);

  it('the valid file the cases break does reach the listener (so a count of zero means something)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgcred-bad-'));
    writeFileSync(join(dir, 'pgcred.yaml'), validFileText());
    const result = await pgcred(['plan'], { cwd: dir, env: env() });
    expect(result.status).toBe(1);
    expect(connections).toBeGreaterThan(0);
    expect(result.stderr).not.toContain(SECRET);
  });
});
