import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../../src/embedded/server';

/**
 * One private PostgreSQL for the whole run, started here and stopped in
 * global-teardown: no test relies on a server the machine happens to run.
 * PGCRED_PG_BIN picks other server binaries (e.g. /usr/lib/postgresql/15/bin).
 */
export default async function globalSetup(): Promise<void> {
  const server = await startPostgres();
  (globalThis as { __PGCRED_SERVER__?: unknown }).__PGCRED_SERVER__ = server;
  const info = {
    host: server.host,
    port: server.port,
    password: server.password,
    majorVersion: server.majorVersion,
    binDir: server.binDir,
    baseDir: server.baseDir,
  };
  process.env.PGCRED_TEST_SERVER = JSON.stringify(info);
  writeFileSync(join(tmpdir(), `pgcred-test-server-${process.pid}.json`), JSON.stringify(info), {
    mode: 0o600,
  });
}
