import { createHash, createHmac, pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/**
 * SCRAM-SHA-256 verifiers as PostgreSQL stores them:
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
 *
 * pgcred sends PostgreSQL a verifier, never a password, so not even a server
 * that logs every statement sees one; and it checks a known password against the
 * stored verifier's own salt and iteration count. Hashing again with a new salt
 * would change the verifier on every check (the Zalando operator's bug 3170).
 */
const ITERATIONS = 4096;

function keys(password: string, salt: Buffer, iterations: number): { storedKey: Buffer; serverKey: Buffer } {
  // Alphanumeric passwords are their own SASLprep normalization.
  return keysFrom(pbkdf2Sync(password, salt, iterations, 32, 'sha256'));
}

function keysFrom(salted: Buffer): { storedKey: Buffer; serverKey: Buffer } {
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return { storedKey, serverKey };
}

export function scramVerifier(
  password: string,
  salt: Buffer = randomBytes(16),
  iterations = ITERATIONS,
): string {
  return formatVerifier(iterations, salt, keys(password, salt, iterations));
}

function formatVerifier(
  iterations: number,
  salt: Buffer,
  { storedKey, serverKey }: { storedKey: Buffer; serverKey: Buffer },
): string {
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/**
 * scramVerifier on the thread pool: a plan that creates 60 credentials hashes their
 * passwords side by side instead of one after another on the main thread.
 */
export async function scramVerifierAsync(password: string, iterations = ITERATIONS): Promise<string> {
  const salt = randomBytes(16);
  return formatVerifier(
    iterations,
    salt,
    keysFrom(await pbkdf2Async(password, salt, iterations, 32, 'sha256')),
  );
}

const VERIFIER = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/;

/**
 * True when `password` is the one `verifier` was made from; false for md5 or plain
 * verifiers. Asynchronous, so that checking 60 credentials hashes on the thread pool
 * in parallel rather than one after another on the main thread.
 */
export async function verifyScram(password: string, verifier: string | null): Promise<boolean> {
  const match = verifier ? VERIFIER.exec(verifier) : null;
  if (!match) return false;
  const salted = await pbkdf2Async(
    password,
    Buffer.from(match[2]!, 'base64'),
    Number(match[1]),
    32,
    'sha256',
  );
  const { storedKey, serverKey } = keysFrom(salted);
  const wantStored = Buffer.from(match[3]!, 'base64');
  const wantServer = Buffer.from(match[4]!, 'base64');
  return (
    wantStored.length === storedKey.length &&
    wantServer.length === serverKey.length &&
    timingSafeEqual(wantStored, storedKey) &&
    timingSafeEqual(wantServer, serverKey)
  );
}
