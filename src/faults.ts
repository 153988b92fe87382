/**
 * Fault injection for the reliability tests: when PGCRED_FAULT names a point, the
 * process kills itself there with SIGKILL, the way a crash or an OOM kill would
 * stop it, so the tests can prove that a rerun finishes the work from the journal.
 * Unset, it costs a string comparison.
 */
export function faultPoint(name: string): void {
  const wanted = process.env.PGCRED_FAULT;
  if (wanted && wanted === name) process.kill(process.pid, 'SIGKILL');
}

/** The points a rotation passes, in order. */
export const ROTATION_FAULT_POINTS = [
  'rotation:journaled',
  'rotation:rotating-role-created',
  'rotation:apps-on-rotating',
  'rotation:rotating-username',
  'rotation:password-set-on-role',
  'rotation:apps-back',
  'rotation:password-set',
  'rotation:rotating-dropped',
  'rotation:finished',
] as const;
