import type { Access } from '../model/config';
import type { Change } from '../model/plan';

/**
 * The `drift` attribute says what is wrong in the live database, while the plan
 * shows the repair. The plan words a change as its remedy ("loses INSERT on all
 * tables in schema public"), which a user reads as something being taken away; the
 * attribute words the same change as the state that calls for it ("holds INSERT on
 * public.notes, which read-only does not grant").
 */
export function driftOf(change: Change, access: Access): string {
  const declared = access.kind === 'level' ? access.level : 'its grant blocks';
  const verb = access.kind === 'level' ? 'does' : 'do';
  // `gains P on T (N tables); P missing on 1 of 3: s.t` and `loses P on T (P held on 1 of 3: s.t)`.
  // A level role's change names the level role; the attribute speaks of the credential.
  const description = change.description.replace(/ \(level role [^()]*\)/, '');
  const privilege = /^(gains|loses) (.+?) on (.+?)(?: \(([^)]*)\))?(?:; (.*))?$/.exec(description);
  if (privilege && (change.action === 'grant' || change.action === 'revoke')) {
    const [, way, privileges, target, inParens, after] = privilege as unknown as (string | undefined)[];
    const some = /(?:^|; )[A-Z, ]+ (?:held|missing) on (\d+) of (\d+): ([^;]+)/.exec(
      (way === 'loses' ? inParens : after) ?? '',
    );
    // Name the relations when the plan lists them: `public.notes (1 of 40 tables in schema public)`.
    const where = some ? `${some[3]} (${some[1]} of ${some[2]} ${target!.replace(/^all /, '')})` : target;
    return way === 'loses'
      ? `holds ${privileges} on ${where}, which ${declared} ${verb} not grant`
      : `lacks ${privileges} on ${where}, which ${declared} ${access.kind === 'level' ? 'grants' : 'give'}`;
  }
  const membership = /^loses membership in (.+?) \((.+)\)$/.exec(description);
  if (membership) return `is a member of ${membership[1]} (${membership[2]})`;
  if (change.subject === 'default' && change.action === 'grant-membership') {
    return "the default credential has no admin option on it, which Heroku's default credential has on every credential";
  }
  // Role attributes and passwords are already worded as what happened ("password was changed outside pgcred; ...").
  return change.description;
}
