import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MasterKey } from './crypto';

/**
 * Passwords pgcred must keep outside any database: when its admin URL logs in as a
 * database's default credential and pgcred rotates that credential, the URL's
 * password stops working, and if the control store lives in that same database
 * pgcred could not even read the new one back. The new password is kept here,
 * beside the master key (encrypted with it, mode 0600), until the URL is updated.
 */
export class KeptPasswords {
  constructor(
    private readonly file: string,
    private readonly key: MasterKey,
  ) {}

  /** Beside the key file: `.pgcred/passwords.json`. */
  static beside(keyFile: string, key: MasterKey): KeptPasswords {
    return new KeptPasswords(join(dirname(keyFile), 'passwords.json'), key);
  }

  /** Who a URL logs in as, where: `user@host:port/database`. Never the password. */
  static identity(url: string): string {
    const u = new URL(url);
    return `${decodeURIComponent(u.username)}@${u.hostname}:${u.port || 5432}/${decodeURIComponent(u.pathname.slice(1))}`;
  }

  get(url: string): string | undefined {
    const id = KeptPasswords.identity(url);
    const entry = this.read()[id];
    return entry ? this.key.decrypt(entry, `kept/${id}`) : undefined;
  }

  set(url: string, password: string): void {
    const id = KeptPasswords.identity(url);
    const all = { ...this.read(), [id]: this.key.encrypt(password, `kept/${id}`) };
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const temp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
    chmodSync(temp, 0o600);
    renameSync(temp, this.file);
  }

  private read(): Record<string, string> {
    if (!existsSync(this.file)) return {};
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, string>;
    } catch {
      throw new Error(`${this.file} is not readable JSON: remove it and update the admin URL`);
    }
  }
}
