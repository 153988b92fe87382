import { generatePassword, PASSWORD_ALPHABET, PASSWORD_LENGTH } from '../../src/model/password';

describe('generatePassword', () => {
  it('makes 65 alphanumeric characters, as Heroku does', () => {
    for (let i = 0; i < 200; i++) {
      const password = generatePassword();
      expect(password).toHaveLength(PASSWORD_LENGTH);
      expect(password).toMatch(/^[A-Za-z0-9]{65}$/);
    }
  });

  it('never repeats itself', () => {
    const seen = new Set(Array.from({ length: 1000 }, () => generatePassword()));
    expect(seen.size).toBe(1000);
  });

  it('uses all 62 characters evenly (no modulo bias)', () => {
    // 2,000 passwords = 130,000 characters, about 2,097 of each. A modulo over
    // bytes would give the first eight characters 25% more; the chi-square
    // statistic then runs into the thousands, against a 99.9% bound of 100.9
    // for 61 degrees of freedom.
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i++)
      for (const ch of generatePassword()) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(new Set(counts.keys())).toEqual(new Set(PASSWORD_ALPHABET));
    const total = 2000 * PASSWORD_LENGTH;
    const expected = total / PASSWORD_ALPHABET.length;
    let chiSquare = 0;
    for (const ch of PASSWORD_ALPHABET) chiSquare += ((counts.get(ch) ?? 0) - expected) ** 2 / expected;
    expect(chiSquare).toBeLessThan(100.9);
  });
});
