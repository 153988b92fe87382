import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Secrets at rest: AES-256-GCM with a random nonce per value, bound to where the
 * value belongs (additional data), so a ciphertext copied to another row does not
 * decrypt. The key comes from PGCRED_MASTER_KEY (64 hex digits or 44 base64
 * characters) or from a key file that pgcred creates with mode 0600.
 */
export class MasterKey {
  private constructor(
    private readonly key: Buffer,
    /** Where it came from, for error messages: never the key itself. */
    readonly source: string,
    /** A key made up for a read-only command because none exists yet: nothing is written with it. */
    readonly ephemeral = false,
  ) {}

  /**
   * The key from the environment or the key file; with `create: false` (plan, drift)
   * a missing key file is not created: the command gets a throwaway key instead, which
   * can read nothing because nothing was ever written with it.
   */
  static fromEnvironmentOrFile(
    env: NodeJS.ProcessEnv,
    keyFile: string,
    options: { readonly create?: boolean } = {},
  ): MasterKey {
    const fromEnv = env.PGCRED_MASTER_KEY;
    if (fromEnv !== undefined && fromEnv !== '') return MasterKey.parse(fromEnv.trim(), 'PGCRED_MASTER_KEY');
    if (existsSync(keyFile)) {
      const mode = statSync(keyFile).mode & 0o777;
      if (mode & 0o077) {
        throw new Error(
          `key file ${keyFile} is open to other users (mode ${mode.toString(8)}): run chmod 600 ${keyFile}`,
        );
      }
      return MasterKey.parse(readFileSync(keyFile, 'utf8').trim(), `key file ${keyFile}`);
    }
    if (options.create === false)
      return new MasterKey(randomBytes(32), `key file ${keyFile} (not created yet)`, true);
    const dir = dirname(keyFile);
    const created = !existsSync(dir);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // The default key file sits beside pgcred.yaml, in an infra repo: keep git away from it.
    if (created) writeFileSync(`${dir}/.gitignore`, '*\n', { mode: 0o600 });
    const key = randomBytes(32);
    writeFileSync(keyFile, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(keyFile, 0o600);
    return new MasterKey(key, `key file ${keyFile}`);
  }

  static parse(text: string, source: string): MasterKey {
    let key: Buffer | undefined;
    if (/^[0-9a-fA-F]{64}$/.test(text)) key = Buffer.from(text, 'hex');
    else if (/^[A-Za-z0-9+/]{43}=?$/.test(text)) key = Buffer.from(text, 'base64');
    if (key?.length !== 32) {
      throw new Error(`${source} is not a 256-bit key (64 hex digits or 44 base64 characters)`);
    }
    return new MasterKey(key, source);
  }

  /** A value that identifies the key without revealing it, stored to catch a wrong key early. */
  fingerprint(): string {
    return createHmac('sha256', this.key).update('pgcred key check v1').digest('base64');
  }

  /**
   * A keyed digest of a password and the SCRAM verifier made from it: equal digests
   * prove that the password opens the verifier, with one HMAC instead of PBKDF2's 4096
   * rounds, and reveal nothing of either without the key.
   */
  verifierDigest(context: string, password: string, verifier: string): string {
    return createHmac('sha256', this.key)
      .update(`pgcred verifier v1\u0000${context}\u0000${password}\u0000${verifier}`)
      .digest('base64');
  }

  encrypt(plaintext: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `v1:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  decrypt(ciphertext: string, context: string): string {
    if (!ciphertext.startsWith('v1:')) throw new Error(`unknown secret format for ${context}`);
    const raw = Buffer.from(ciphertext.slice(3), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(raw.subarray(12, 28));
    try {
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new Error(
        `cannot decrypt the stored secret of ${context}: ${this.source} is not the key it was stored with`,
      );
    }
  }
}
