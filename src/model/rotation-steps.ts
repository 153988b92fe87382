import { rotatingUsername } from './names';

/** The rotation journal's steps, in order (SPEC §4); control/rotation-journal.ts says what each means. */
export type RotationStep = 'journaled' | 'rotating-username' | 'password-set' | 'finished';

export const ROTATION_STEPS: readonly RotationStep[] = [
  'journaled',
  'rotating-username',
  'password-set',
  'finished',
];

export type UsernameState = 'active' | 'revoking' | 'enabling';

export const USERNAME_STATE_TEXT: Record<UsernameState, string> = {
  active: 'active',
  revoking: 'waiting for no connections to be revoked',
  enabling: 'enabling',
};

/** Which username apps should use, and which is on its way out, at a step. */
export function usernamesAt(
  credential: string,
  step: RotationStep,
  force: boolean,
): { user: string; state: UsernameState }[] {
  const temp = rotatingUsername(credential);
  if (force) return [{ user: credential, state: step === 'journaled' ? 'enabling' : 'active' }];
  switch (step) {
    case 'journaled':
      return [
        { user: credential, state: 'active' },
        { user: temp, state: 'enabling' },
      ];
    case 'rotating-username':
      return [
        { user: credential, state: 'revoking' },
        { user: temp, state: 'active' },
      ];
    case 'password-set':
      return [
        { user: credential, state: 'active' },
        { user: temp, state: 'revoking' },
      ];
    case 'finished':
      return [{ user: credential, state: 'active' }];
  }
}
