import type { DatabaseSpec } from '../model/config';
import { credentialNameProblem, credentialUsername, rotatingUsername } from '../model/names';
import {
  createRefusals,
  liveCreateRefusals,
  REFUSAL_TITLES,
  type Refusal,
  withContext,
} from '../model/refusals';
import {
  createCredential,
  credentialFacts,
  destroyCredential,
  inspectDatabase,
  liveCredentials,
  setPermissionLevel,
} from '../reconciler/credentials';
import type { ReconcileContext } from '../reconciler/reconcile';
import { runRotation, startRotation } from '../rotation/rotate';
import { accessOf, rotationOf, settleOf } from './credential-config';
import { tooManyDiagnostic } from './credential-limit';
import { CredentialStatusReader } from './credential-status';
import { type Diagnostic, error, errorOf, hasErrors, type PathStep, warning } from './diagnostics';
import {
  NOT_CONFIGURED,
  type PlanResult,
  type ResourceOperations,
  type ResourceResult,
  specOf,
} from './operations';
import { knownString } from './provider-config';
import { CREDENTIAL_TYPE } from './schema';
import { log, type ProviderSession } from './session';
import { type ObjectValue, sameValue, UNKNOWN } from './values';

/**
 * pgcred_credential, backed by the reconciler: create, permissions and destroy are
 * the CLI's own functions; a refresh is the reconciler's plan scoped to the
 * credential, so a grant revoked by hand shows up in `terraform plan` and apply
 * repairs it.
 */
export const credentialOperations: ResourceOperations = {
  plan: planCredential,
  apply: applyCredential,
  read: readCredential,
  importState: importCredential,
};

const readers = new WeakMap<ProviderSession, CredentialStatusReader>();
/** What the refresh found apply must do, per credential: the plan that follows shows it. */
const repairs = new WeakMap<ProviderSession, Map<string, readonly string[]>>();

function readerOf(session: ProviderSession): CredentialStatusReader {
  let reader = readers.get(session);
  if (!reader) {
    reader = new CredentialStatusReader(session);
    readers.set(session, reader);
  }
  return reader;
}

async function planCredential(
  session: ProviderSession | undefined,
  prior: ObjectValue | null,
  proposed: ObjectValue | null,
): Promise<PlanResult> {
  if (!proposed) return { planned: null, requiresReplace: [], diagnostics: [] };
  const requiresReplace: PathStep[][] = [];
  for (const key of ['database', 'name']) {
    if (prior && !sameValue(prior[key], proposed[key])) requiresReplace.push([key]);
  }
  const creating = !prior || requiresReplace.length > 0;
  const { database, name } = proposed;
  const planned: ObjectValue = { ...proposed, drift: null };
  const diagnostics: Diagnostic[] = [];
  if (knownString(name)) {
    const problem = credentialNameProblem(name);
    if (problem) diagnostics.push(error(REFUSAL_TITLES['invalid-name'], problem, ['name']));
  }
  if (creating) {
    // Known now, so other resources can use them in their own plans.
    planned.id = knownString(database) && knownString(name) ? `${database}/${name}` : UNKNOWN;
    planned.username = usernameOf(session, database, name);
    planned.state = UNKNOWN;
    if (session && diagnostics.length === 0)
      diagnostics.push(...(await checkCreate(session, database, name)));
  } else {
    planned.id = prior.id ?? null;
    planned.username = prior.username ?? null;
    planned.state = prior.state ?? null;
    if (session) {
      const { spec, diagnostics: unknown } = specOf(session, database);
      diagnostics.push(...unknown);
      const problem = spec && (await session.databaseProblem(spec));
      if (problem) diagnostics.push(error('Database refused', problem, ['database']));
      const repair = repairs.get(session)?.get(`${String(database)}/${String(name)}`) ?? [];
      if (repair.length > 0) {
        diagnostics.push(
          warning(
            `Apply repairs ${String(name)} on ${String(database)}`,
            repair.map((line) => `${String(name)} ${line}`).join('\n'),
          ),
        );
      }
    }
    // A new trigger value rotates the password: apply runs the rotation to its end,
    // so the credential is active again under its own name afterwards.
    if (!sameValue(prior.rotation_trigger, proposed.rotation_trigger)) {
      planned.state = UNKNOWN;
      planned.username = usernameOf(session, database, name);
    }
  }
  return { planned, requiresReplace, diagnostics };
}

/**
 * The login of a credential under its database's username scheme, known at plan when
 * the provider block is: `analyst` of a database with username_prefix `db17_` is `db17_analyst`.
 */
function usernameOf(
  session: ProviderSession | undefined,
  database: unknown,
  name: unknown,
): string | typeof UNKNOWN {
  if (!knownString(name) || !knownString(database) || !session) return UNKNOWN;
  const spec = session.database(database);
  return spec ? credentialUsername(spec, name) : UNKNOWN;
}

/** What plan can refuse about a new credential: the seed's limits and names, each on its attribute. */
async function checkCreate(
  session: ProviderSession,
  database: unknown,
  name: unknown,
): Promise<Diagnostic[]> {
  const { spec, diagnostics } = specOf(session, database);
  if (!spec) return diagnostics;
  // The name was checked on its attribute already; an unknown one waits for apply.
  const statics = createRefusals(spec, knownString(name) ? name : 'placeholder');
  if (statics[0]) return [refusalDiagnostic(statics[0], spec.name)];
  const problem = await session.databaseProblem(spec);
  if (problem) return [error('Database refused', problem, ['database'])];
  if (!knownString(name)) return [];
  const facts = credentialFacts(await session.liveState(spec), spec);
  const [refused] = liveCreateRefusals(
    spec,
    name,
    facts,
    // Once: in apply, the credentials this process created earlier are live and still planned.
    new Set([...facts.credentials, ...session.planCreate(spec.name, name)]).size,
  );
  if (!refused) return [];
  if (refused.code === 'too-many-credentials') {
    // Terraform plans credentials in no fixed order: the words count every create it planned.
    const all = new Set([...facts.credentials, ...(await session.settledCreates(spec.name))]);
    return [
      tooManyDiagnostic(spec, { existing: facts.credentials.length, total: all.size, by: 'this plan' }),
    ];
  }
  return [refusalDiagnostic(refused, spec.name)];
}

/** A refusal on its attribute, with what Terraform can do about it: import what exists. */
function refusalDiagnostic(refusal: Refusal, database: string): Diagnostic {
  const importIt = `terraform import ${CREDENTIAL_TYPE}.<address> ${database}/${refusal.subject}`;
  const advice: Partial<Record<Refusal['code'], string>> = {
    'credential-exists': `: import it (${importIt}) or choose another name`,
    'unmanaged-role': `: to adopt it (its password is kept), import it (${importIt}); or choose another name`,
  };
  return error(REFUSAL_TITLES[refusal.code], `${withContext(refusal)}${advice[refusal.code] ?? ''}`, [
    ...refusal.attribute,
  ]);
}

async function applyCredential(
  session: ProviderSession | undefined,
  prior: ObjectValue | null,
  planned: ObjectValue | null,
): Promise<ResourceResult> {
  if (!session) return { state: prior, diagnostics: [NOT_CONFIGURED] };
  const target = (planned ?? prior)!;
  const { spec, diagnostics } = specOf(session, target.database);
  if (!spec) return { state: prior, diagnostics };
  const name = target.name as string;
  const verb = !planned ? 'destroy' : !prior ? 'create' : 'update';
  try {
    if (!planned) {
      await session.change(spec, async (ctx) => {
        if (liveCredentials(await inspectDatabase(spec, ctx), spec).includes(name)) {
          await destroyCredential(ctx, spec, name);
          return;
        }
        // Dropped by hand already: what pgcred kept for it must not outlive it.
        const username = credentialUsername(spec, name);
        await ctx.control.transaction(async (db) => {
          await ctx.control.forgetCredential(
            spec.name,
            name,
            [username, rotatingUsername(username)],
            'credential dropped outside pgcred',
            db,
          );
          await ctx.control.audit({ action: 'credentials:forget', database: spec.name, subject: name }, db);
        });
      });
      return { state: null, diagnostics: [] };
    }
    const access = accessOf(planned);
    if (!prior) await session.change(spec, (ctx) => createCredential(ctx, spec, name, access));
    // In state without having been created here: imported, so a role pgcred does not manage is adopted.
    else await session.change(spec, (ctx) => setPermissionLevel(ctx, spec, name, access, { adopt: true }));
    let state = planned.state === UNKNOWN ? 'active' : planned.state!;
    if (prior && !sameValue(prior.rotation_trigger, planned.rotation_trigger)) {
      state = await session.change(
        spec,
        (ctx) =>
          rotate(ctx, spec, name, { graceMs: rotationOf(planned)?.graceMs, settleMs: settleOf(planned) }),
        { touchesApps: true },
      );
    }
    return {
      state: {
        ...planned,
        id: `${spec.name}/${name}`,
        username: planned.username === UNKNOWN ? credentialUsername(spec, name) : planned.username!,
        state,
        drift: null,
      },
      diagnostics: [],
    };
  } catch (caught) {
    return {
      state: prior,
      diagnostics: [errorOf(`Cannot ${verb} credential ${name} on ${spec.name}`, caught)],
    };
  }
}

/**
 * `credentials:rotate` as Terraform runs it: the journaled zero-downtime rotation
 * (a `<name>-rotating` username carries the apps meanwhile), waited for to its end,
 * which takes at least twice the settle time (5 s each by default: clients that read the old
 * URL just before it changed may still connect) and at most the grace. Progress goes to the log.
 */
async function rotate(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  name: string,
  times: { graceMs?: number; settleMs?: number },
): Promise<string> {
  const { rotation } = await startRotation(ctx, spec, name, {
    ...(times.graceMs === undefined ? {} : { graceMs: times.graceMs }),
    ...(times.settleMs === undefined ? {} : { settleMs: times.settleMs }),
  });
  const done = await runRotation(ctx, spec, rotation, {
    emit: (event) => {
      if (event.kind === 'step') log(`rotation of ${name}: ${event.description}`);
      else if (event.kind === 'terminated')
        log(`rotation of ${name}: ${event.count} connection(s) of ${event.username} terminated`);
      else if (event.kind === 'restart')
        log(`rotation of ${name}: app ${event.app} restarted (release ${event.release})`);
      else log(`rotation of ${name}: ${event.text}`);
    },
    onWait: (wait) =>
      log(
        `rotation of ${name}: waiting for ${wait.connections} connection(s) of ${wait.waitingFor}, at most ${Math.ceil(wait.remainingMs / 1000)} s`,
      ),
  });
  return done.step === 'finished' ? 'active' : 'rotating';
}

async function readCredential(
  session: ProviderSession | undefined,
  state: ObjectValue,
): Promise<ResourceResult> {
  if (!session) return { state, diagnostics: [NOT_CONFIGURED] };
  const { spec, diagnostics } = specOf(session, state.database);
  if (!spec || hasErrors(diagnostics)) return { state, diagnostics };
  const name = state.name as string;
  const status = await readerOf(session).read(spec, name, accessOf(state));
  if (!status.exists) return { state: null, diagnostics: [] };
  repairs.set(session, new Map([...(repairs.get(session) ?? []), [`${spec.name}/${name}`, status.repairs]]));
  return {
    state: {
      ...state,
      id: `${spec.name}/${name}`,
      username: status.username,
      state: status.state,
      permission: status.level ?? state.permission ?? null,
      drift: status.drift.length > 0 ? [...status.drift] : null,
    },
    diagnostics: [],
  };
}

/** `terraform import pgcred_credential.x <database>/<name>`; the refresh that follows reads the rest. */
async function importCredential(session: ProviderSession | undefined, id: string): Promise<ResourceResult> {
  if (!session) return { state: null, diagnostics: [NOT_CONFIGURED] };
  const match = /^([^/]+)\/([^/]+)$/.exec(id);
  if (!match) {
    return {
      state: null,
      diagnostics: [
        error('Invalid import ID', `"${id}": write <database>/<name>, e.g. postgresql-sunny-1234/analyst`),
      ],
    };
  }
  const [, database, name] = match as unknown as [string, string, string];
  const { spec, diagnostics } = specOf(session, database);
  if (!spec) return { state: null, diagnostics: diagnostics.map((d) => ({ ...d, attribute: undefined })) };
  const problem = credentialNameProblem(name);
  if (problem) return { state: null, diagnostics: [error('Invalid import ID', problem)] };
  return {
    state: {
      id: `${spec.name}/${name}`,
      database: spec.name,
      name,
      permission: null,
      rotation_trigger: null,
      username: credentialUsername(spec, name),
      state: null,
      drift: null,
      grant: [],
      rotation: null,
    },
    diagnostics: [],
  };
}
