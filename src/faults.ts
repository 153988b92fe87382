/**
 * Fault injection for the reliability tests: when PGCRED_FAULT names a point, the
 * process kills itself there with SIGKILL, the way a crash or an OOM kill would
 * stop it, so the tests can prove that a rerun finishes the work from the journal.
 * `point#N` kills at the Nth time the point is passed (apply:statement#3: before the
 * third statement). Unset, it costs reading one environment variable.
 */
const passes = new Map<string, number>();

export function faultPoint(name: string): void {
  const wanted = process.env.PGCRED_FAULT;
  if (!wanted) return;
  if (wanted === name) process.kill(process.pid, 'SIGKILL');
  const hash = wanted.lastIndexOf('#');
  if (hash > 0 && wanted.slice(0, hash) === name) {
    const count = (passes.get(name) ?? 0) + 1;
    passes.set(name, count);
    if (String(count) === wanted.slice(hash + 1)) process.kill(process.pid, 'SIGKILL');
  }
}

/**
 * The points `pgcred apply` passes: under the lock, before each statement (use
 * apply:statement#N), before and after COMMIT; then for the declared attachments,
 * after the control store recorded one, while an env file is written, after it is.
 */
export const APPLY_FAULT_POINTS = [
  'apply:locked',
  'apply:statement#1',
  'apply:statement#2',
  'apply:statement#5',
  'apply:before-commit',
  'apply:committed',
  'attach:recorded',
  'env-file:written',
  'deliver:env-written',
] as const;

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
