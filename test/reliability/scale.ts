/**
 * The reliability families run a few cases in `npm test` (CI) and many under
 * `npm run test:reliability`, which sets PGCRED_RELIABILITY=long.
 */
export const LONG = process.env.PGCRED_RELIABILITY === 'long';

export function scale(counts: { readonly ci: number; readonly long: number }): number {
  return LONG ? counts.long : counts.ci;
}
