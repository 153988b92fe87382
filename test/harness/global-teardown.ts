import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PostgresServer } from '../../src/embedded/server';

export default async function globalTeardown(): Promise<void> {
  const server = (globalThis as { __PGCRED_SERVER__?: PostgresServer }).__PGCRED_SERVER__;
  await server?.stop();
  rmSync(join(tmpdir(), `pgcred-test-server-${process.pid}.json`), { force: true });
}
