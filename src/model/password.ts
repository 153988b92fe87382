import { randomBytes } from 'node:crypto';

export const PASSWORD_LENGTH = 65;
export const PASSWORD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A 65-character alphanumeric password, as Heroku generates them.
 *
 * Rejection sampling keeps every character equally likely: 62 does not divide
 * 256, so bytes of 248 and above (4 x 62) are thrown away rather than folded
 * back with a modulo, which would favour the first eight characters.
 * Alphanumeric passwords need no escaping in a URL or a connection string.
 */
export function generatePassword(length = PASSWORD_LENGTH): string {
  const limit = 256 - (256 % PASSWORD_ALPHABET.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte >= limit) continue;
      out += PASSWORD_ALPHABET[byte % PASSWORD_ALPHABET.length];
      if (out.length === length) break;
    }
  }
  return out;
}

export function isGeneratedPassword(value: string): boolean {
  return value.length === PASSWORD_LENGTH && /^[A-Za-z0-9]+$/.test(value);
}
