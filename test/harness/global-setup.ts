import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../../src/embedded/server';
import { requestedMajor, testBinDir } from './versions';

/**
 * One private PostgreSQL for the whole run, started here and stopped in
 * global-teardown: no test relies on a server the machine happens to run.
 * PGCRED_TEST_PG_VERSION=14|15|16|17|18 picks a major of the test matrix;
 * PGCRED_PG_BIN picks other server binaries (e.g. /usr/lib/postgresql/15/bin).
 */
export default async function globalSetup(): Promise<void> {
  const server = await startPostgres({ binDir: testBinDir() });
  const wanted = requestedMajor();
  if (wanted !== undefined && !process.env.PGCRED_PG_BIN && server.majorVersion !== wanted) {
    await server.stop();
    throw new Error(`asked for PostgreSQL ${wanted}, got ${server.majorVersion}`);
  }
  process.stderr.write(`\nTests run against PostgreSQL ${server.majorVersion} (${server.binDir})\n`);
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
