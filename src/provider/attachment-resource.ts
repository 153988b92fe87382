import { attach, attachmentsOf, detach } from '../attachments/attachments';
import { configVarName } from '../model/colors';
import { DEFAULT_CREDENTIAL } from '../model/config';
import { liveCredentials } from '../reconciler/credentials';
import { appNameProblem } from './app-config';
import { restartFailed } from './app-resource';
import { attachmentNameProblem } from './attachment-config';
import { type Diagnostic, error, errorOf, type PathStep } from './diagnostics';
import {
  NOT_CONFIGURED,
  type PlanResult,
  type ResourceOperations,
  type ResourceResult,
  specOf,
} from './operations';
import { knownString } from './provider-config';
import { APP_TYPE, ATTACHMENT_TYPE, CREDENTIAL_TYPE } from './schema';
import type { ProviderSession } from './session';
import { type ObjectValue, sameValue, stringOf, UNKNOWN } from './values';

/**
 * pgcred_attachment: `pgcred attach` and `pgcred detach` (src/attachments), so the
 * app gets one config var with the credential's URL, its env file is rewritten and
 * its restart command runs. The name is chosen at apply (DATABASE, else
 * HEROKU_POSTGRESQL_<COLOR>) unless `as` gives it, and kept from then on. A refresh
 * reads the live attachment: one detached by hand is created again, and the URL a
 * rotation changed is the new `url`, without a replacement.
 */
export const attachmentOperations: ResourceOperations = {
  plan: planAttachment,
  apply: applyAttachment,
  read: readAttachment,
  importState: importAttachment,
};

async function planAttachment(
  session: ProviderSession | undefined,
  prior: ObjectValue | null,
  proposed: ObjectValue | null,
): Promise<PlanResult> {
  if (!proposed) return { planned: null, requiresReplace: [], diagnostics: [] };
  const requiresReplace: PathStep[][] = [];
  for (const key of ['database', 'credential', 'app']) {
    if (prior && !sameValue(prior[key], proposed[key])) requiresReplace.push([key]);
  }
  // Names are stable once assigned: `as` forces a new attachment only when it names
  // another one. Writing down the name it already has, or dropping `as`, changes nothing.
  if (prior && !sameValue(prior.as, proposed.as) && proposed.as !== null && proposed.as !== prior.name) {
    requiresReplace.push(['as']);
  }
  const planned: ObjectValue = { ...proposed };
  if (prior && requiresReplace.length === 0) {
    for (const key of ['id', 'name', 'config_var', 'url']) planned[key] = prior[key] ?? null;
    return { planned, requiresReplace, diagnostics: [] };
  }
  const { app, as } = proposed;
  planned.name = knownString(as) ? as : UNKNOWN;
  planned.config_var = knownString(as) ? configVarName(as) : UNKNOWN;
  planned.id = knownString(as) && knownString(app) ? `${app}/${as}` : UNKNOWN;
  planned.url = UNKNOWN;
  const diagnostics = session ? await checkAttach(session, proposed, prior) : [];
  return { planned, requiresReplace, diagnostics };
}

/**
 * What plan can refuse about a new attachment, each on its attribute: a database
 * the provider does not declare, a credential that neither exists nor is created by
 * this plan, an app pgcred does not know of, and an `as` the app already uses.
 */
async function checkAttach(
  session: ProviderSession,
  proposed: ObjectValue,
  prior: ObjectValue | null,
): Promise<Diagnostic[]> {
  const { spec, diagnostics } = specOf(session, proposed.database);
  const { credential, app, as } = proposed;
  if (spec && knownString(credential) && credential !== DEFAULT_CREDENTIAL) {
    const live = await session.liveState(spec);
    if (
      !liveCredentials(live, spec).includes(credential) &&
      !session.plansCredential(spec.name, credential)
    ) {
      diagnostics.push(
        error(
          'Unknown credential',
          `Could not find credential ${credential} on ${spec.name}. A credential this configuration creates ` +
            `is found when the attachment refers to it (credential = ${CREDENTIAL_TYPE}.<address>.name), ` +
            'so that Terraform plans it first',
          ['credential'],
        ),
      );
    }
  }
  if (!knownString(app)) return diagnostics;
  const { known, taken } = await session.exclusive(async (ctx) => ({
    known: (await ctx.control.apps.get(app)) !== undefined,
    taken: await ctx.control.attachments.namesOf(app),
  }));
  if (!known && !session.plansApp(app)) {
    diagnostics.push(
      error(
        'Unknown app',
        `Couldn't find that app: ${app}. Declare it with a ${APP_TYPE} resource and refer to it ` +
          `(app = ${APP_TYPE}.<address>.name), or create it with pgcred`,
        ['app'],
      ),
    );
  }
  // When this attachment is being replaced, the name it holds now is freed first.
  if (knownString(as) && taken.includes(as) && !(prior && prior.app === app && prior.name === as)) {
    diagnostics.push(
      error(
        'Attachment name taken',
        `⬢ ${app} already has an attachment named ${as}: choose another as, or import it ` +
          `(terraform import ${ATTACHMENT_TYPE}.<address> ${app}/${as})`,
        ['as'],
      ),
    );
  }
  return diagnostics;
}

async function applyAttachment(
  session: ProviderSession | undefined,
  prior: ObjectValue | null,
  planned: ObjectValue | null,
): Promise<ResourceResult> {
  if (!session) return { state: prior, diagnostics: [NOT_CONFIGURED] };
  if (planned && prior) return { state: planned, diagnostics: [] }; // `as` written down: nothing to do
  const target = (planned ?? prior)!;
  const app = target.app as string;
  const credential = target.credential as string;
  const { spec, diagnostics } = specOf(session, target.database);
  if (!spec) return { state: prior, diagnostics };
  try {
    if (!planned) {
      const name = prior!.name as string;
      const outcome = await session.exclusive(async (ctx) => {
        // Detached by hand since the refresh: nothing to do.
        if (!(await ctx.control.attachments.namesOf(app)).includes(name)) return undefined;
        return (await detach(ctx, app, name)).restart;
      });
      return {
        state: null,
        diagnostics: outcome?.status === 'failed' ? [restartFailed(app, outcome.reason)] : [],
      };
    }
    return await session.change(
      spec,
      async (ctx) => {
        const as = stringOf(planned.as);
        const { attachment, restart } = await attach(
          ctx,
          {
            spec,
            credential,
            app,
            ...(as ? { as } : {}),
            // Terraform owns it: `pgcred apply` leaves it alone, as it does `pgcred attach`'s.
            declared: false,
          },
          await session.liveState(spec),
        );
        const url = (await ctx.control.apps.configVars(app)).get(attachment.configVar) ?? null;
        return {
          state: {
            ...planned,
            id: `${app}/${attachment.name}`,
            name: attachment.name,
            config_var: attachment.configVar,
            url,
          },
          diagnostics: restart.status === 'failed' ? [restartFailed(app, restart.reason)] : [],
        };
      },
      { keepsRoles: true, touchesApps: true },
    );
  } catch (caught) {
    const verb = planned ? `attach ${credential} of ${spec.name} to` : 'detach from';
    return { state: prior, diagnostics: [errorOf(`Cannot ${verb} ⬢ ${app}`, caught)] };
  }
}

async function readAttachment(
  session: ProviderSession | undefined,
  state: ObjectValue,
): Promise<ResourceResult> {
  if (!session) return { state, diagnostics: [NOT_CONFIGURED] };
  const app = state.app as string;
  const name = state.name as string;
  return session.exclusive(async (ctx) => {
    const live = (await attachmentsOf(ctx.control, { app })).find((a) => a.name === name);
    if (!live) return { state: null, diagnostics: [] };
    const url = (await ctx.control.apps.configVars(app)).get(live.configVar) ?? null;
    return {
      state: {
        ...state,
        id: `${app}/${name}`,
        // Reattached by hand to another credential under the same name: the plan replaces it.
        database: live.database,
        credential: live.credential,
        config_var: live.configVar,
        url,
      },
      diagnostics: [],
    };
  });
}

/** `terraform import pgcred_attachment.x <app>/<NAME>` (or `<app>/<NAME>_URL`). */
async function importAttachment(session: ProviderSession | undefined, id: string): Promise<ResourceResult> {
  if (!session) return { state: null, diagnostics: [NOT_CONFIGURED] };
  const match = /^([^/]+)\/([^/]+)$/.exec(id);
  const problem = match
    ? (appNameProblem(match[1]!) ?? attachmentNameProblem(match[2]!.replace(/_URL$/, '')))
    : `"${id}": write <app>/<NAME>, e.g. example-app/DATABASE`;
  if (problem) return { state: null, diagnostics: [error('Invalid import ID', problem)] };
  const app = match![1]!;
  const name = match![2]!.replace(/_URL$/, '');
  const live = await session.exclusive(async (ctx) =>
    (await attachmentsOf(ctx.control, { app })).find((a) => a.name === name),
  );
  if (!live) {
    return {
      state: null,
      diagnostics: [error('Cannot import attachment', `⬢ ${app} has no attachment named ${name}`)],
    };
  }
  if (!session.database(live.database)) {
    return {
      state: null,
      diagnostics: [
        error(
          'Cannot import attachment',
          `${app}/${name} attaches ${live.credential} of ${live.database}, which has no database block in the provider`,
        ),
      ],
    };
  }
  return {
    state: {
      id: `${app}/${name}`,
      database: live.database,
      credential: live.credential,
      app,
      as: null,
      name,
      config_var: live.configVar,
      url: null,
    },
    diagnostics: [],
  };
}
