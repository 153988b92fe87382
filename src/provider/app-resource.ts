import { rmSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { deliver, syncDeclaredApps } from '../attachments/config-vars';
import type { AppSpec } from '../model/config';
import { parseDuration } from '../model/duration';
import { appNameProblem, DEFAULT_RESTART_TIMEOUT_MS } from './app-config';
import { envFileLacks } from './app-store';
import { type Diagnostic, error, errorOf, warning } from './diagnostics';
import { NOT_CONFIGURED, type PlanResult, type ResourceOperations, type ResourceResult } from './operations';
import { knownString } from './provider-config';
import { APP_TYPE } from './schema';
import type { ProviderSession } from './session';
import { type ObjectValue, sameValue, stringOf, UNKNOWN } from './values';

/**
 * pgcred_app: an app's env file, restart command and restart timeout, as the
 * `apps:` of pgcred.yaml declare them, kept in the control store. Its config vars
 * come from its attachments; a change of its settings, a failed restart or an env
 * file changed by hand makes apply deliver them again (write the file, restart).
 */
export const appOperations: ResourceOperations = {
  plan: planApp,
  apply: applyApp,
  read: readApp,
  importState: importApp,
};

const SETTINGS = ['env_file', 'restart', 'restart_timeout'] as const;

/** The app as src/attachments keeps it; env files are absolute, since pgcred runs from anywhere. */
function appSpecOf(value: ObjectValue): AppSpec {
  const envFile = stringOf(value.env_file);
  const restart = stringOf(value.restart);
  const timeout = stringOf(value.restart_timeout);
  return {
    name: value.name as string,
    ...(envFile ? { envFile: resolve(envFile) } : {}),
    ...(restart ? { restart } : {}),
    restartTimeoutMs: timeout ? parseDuration(timeout) : DEFAULT_RESTART_TIMEOUT_MS,
  };
}

async function planApp(
  session: ProviderSession | undefined,
  prior: ObjectValue | null,
  proposed: ObjectValue | null,
): Promise<PlanResult> {
  if (!proposed) return { planned: null, requiresReplace: [], diagnostics: [] };
  const replace = prior !== null && !sameValue(prior.name, proposed.name);
  const planned: ObjectValue = { ...proposed };
  const diagnostics: Diagnostic[] = [];
  const name = proposed.name;
  if (!prior || replace) {
    planned.id = knownString(name) ? name : UNKNOWN;
    planned.release = UNKNOWN;
    planned.config_vars = UNKNOWN;
    planned.restart_pending = UNKNOWN;
    if (session && knownString(name)) {
      session.planApp(name);
      const existing = await session.exclusive((ctx) => ctx.control.apps.get(name));
      if (existing) {
        diagnostics.push(
          error(
            'App already exists',
            `app ${name} already exists in pgcred's control store: import it ` +
              `(terraform import ${APP_TYPE}.<address> ${name}) or choose another name`,
            ['name'],
          ),
        );
      }
    }
  } else {
    planned.id = prior.id ?? null;
    planned.release = prior.release ?? null;
    planned.config_vars = prior.config_vars ?? null;
    const redeliver =
      prior.restart_pending === true || SETTINGS.some((key) => settingChanged(key, prior, proposed));
    planned.restart_pending = redeliver ? UNKNOWN : (prior.restart_pending ?? null);
  }
  return { planned, requiresReplace: replace ? [['name']] : [], diagnostics };
}

/**
 * An env file written another way but naming the same file is no change: a stack
 * synthesized before paths were relative kept absolute ones in its state, and
 * moving to `../../run/app.env` must not rewrite the file or restart the app.
 */
function settingChanged(key: (typeof SETTINGS)[number], prior: ObjectValue, proposed: ObjectValue): boolean {
  if (key !== 'env_file') return !sameValue(prior[key], proposed[key]);
  const [before, after] = [prior.env_file, proposed.env_file];
  if (after === UNKNOWN) return true;
  const path = (value: unknown) => (typeof value === 'string' ? resolve(value) : null);
  return path(before) !== path(after);
}

async function applyApp(
  session: ProviderSession | undefined,
  prior: ObjectValue | null,
  planned: ObjectValue | null,
): Promise<ResourceResult> {
  if (!session) return { state: prior, diagnostics: [NOT_CONFIGURED] };
  const name = ((planned ?? prior)!.name as string) ?? '';
  const verb = !planned ? 'destroy' : !prior ? 'create' : 'update';
  try {
    if (!planned) {
      await session.exclusive(async (ctx) => {
        const record = await ctx.control.apps.get(name);
        if (!record) return;
        const left = await ctx.control.attachments.namesOf(name);
        if (left.length > 0) {
          throw new Error(
            `⬢ ${name} still has the attachment${left.length > 1 ? 's' : ''} ${left.join(', ')}, made outside ` +
              `this configuration: detach ${left.length > 1 ? 'them' : 'it'} first (pgcred detach --app ${name} ${left[0]})`,
          );
        }
        await ctx.control.transaction(async (db) => {
          // Config vars and releases go with the app (ON DELETE CASCADE).
          await ctx.control.apps.delete(name);
          await ctx.control.audit({ action: 'apps:destroy', subject: name }, db);
        });
        // The env file is pgcred's: it holds nothing but the app's config vars.
        if (record.envFile) rmSync(record.envFile, { force: true });
      });
      return { state: null, diagnostics: [] };
    }
    const spec = appSpecOf(planned);
    return await session.exclusive(async (ctx) => {
      await syncDeclaredApps(ctx.control, [spec]);
      const diagnostics: Diagnostic[] = [];
      let pending = false;
      if (prior) {
        const before = stringOf(prior.env_file);
        if (before && resolve(before) !== spec.envFile) rmSync(resolve(before), { force: true });
        // Planned unknown exactly when plan found something to deliver (see planApp).
        if (planned.restart_pending === UNKNOWN) {
          const outcome = await deliver(ctx.control, name);
          if (outcome.status === 'failed') {
            pending = true;
            diagnostics.push(restartFailed(name, outcome.reason));
          }
        }
      } else {
        await ctx.control.audit({ action: 'apps:create', subject: name });
      }
      const record = (await ctx.control.apps.get(name))!;
      const vars = await ctx.control.apps.configVars(name);
      return {
        state: {
          ...planned,
          id: name,
          // Known in the plan of an update: keep what was planned.
          release: planned.release === UNKNOWN ? record.release : planned.release!,
          config_vars: planned.config_vars === UNKNOWN ? [...vars.keys()] : planned.config_vars!,
          restart_pending: pending,
        },
        diagnostics,
      };
    });
  } catch (caught) {
    return { state: prior, diagnostics: [errorOf(`Cannot ${verb} app ${name}`, caught)] };
  }
}

export function restartFailed(app: string, reason: string): Diagnostic {
  return warning(
    `Restart of ⬢ ${app} failed`,
    `the restart command ${reason}; the config vars are stored and the app stays pending: ` +
      'the next terraform apply (or pgcred reconcile) delivers them again',
  );
}

async function readApp(session: ProviderSession | undefined, state: ObjectValue): Promise<ResourceResult> {
  if (!session) return { state, diagnostics: [NOT_CONFIGURED] };
  const name = state.name as string;
  return session.exclusive(async (ctx) => {
    const record = await ctx.control.apps.get(name);
    if (!record) return { state: null, diagnostics: [] };
    const vars = await ctx.control.apps.configVars(name);
    const written = stringOf(state.env_file);
    const timeout = stringOf(state.restart_timeout);
    const lacks = record.envFile !== null && vars.size > 0 ? envFileLacks(record.envFile, vars) : [];
    const stale = lacks === 'no file' || lacks.length > 0;
    const diagnostics: Diagnostic[] = [];
    if (stale) {
      const file = shortPath(record.envFile);
      diagnostics.push(
        warning(
          `⬢ ${name}'s env file is out of date`,
          lacks === 'no file'
            ? `${file} is gone (deleted by hand?): apply writes it again with ${[...vars.keys()].join(', ')}`
            : `${file} lacks ${lacks.join(', ')}, or holds ${lacks.length > 1 ? 'them' : 'it'} with another value (edited by hand?): apply writes it again`,
        ),
      );
    }
    return {
      state: {
        ...state,
        id: name,
        // As written in the configuration while it means the same file and duration.
        env_file: written && resolve(written) === record.envFile ? written : shortPath(record.envFile),
        restart: record.restart,
        restart_timeout:
          (timeout ? parseDuration(timeout) : DEFAULT_RESTART_TIMEOUT_MS) === record.restartTimeoutMs
            ? (timeout ?? null)
            : `${Math.round(record.restartTimeoutMs / 1000)}s`,
        release: record.release,
        config_vars: [...vars.keys()],
        restart_pending: record.restartPending || stale,
      },
      diagnostics,
    };
  });
}

/** A path as a configuration would write it: relative to Terraform's working directory when inside it. */
function shortPath(path: string | null): string | null {
  if (!path) return null;
  const inside = relative(process.cwd(), path);
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : path;
}

/** `terraform import pgcred_app.x <name>`; the refresh that follows reads the rest. */
async function importApp(session: ProviderSession | undefined, id: string): Promise<ResourceResult> {
  if (!session) return { state: null, diagnostics: [NOT_CONFIGURED] };
  const problem = appNameProblem(id);
  if (problem) return { state: null, diagnostics: [error('Invalid import ID', problem)] };
  const record = await session.exclusive((ctx) => ctx.control.apps.get(id));
  if (!record) {
    return {
      state: null,
      diagnostics: [error('Cannot import app', `Couldn't find that app: ${id}`)],
    };
  }
  return { state: { id, name: id }, diagnostics: [] };
}
