import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { syncDeclaredAttachments } from '../../attachments/attachments';
import { deliver, pendingApps, syncDeclaredApps } from '../../attachments/config-vars';
import { loadManifest } from '../../config/manifest';
import type { DatabaseSpec } from '../../model/config';
import { hasDrift, type Plan } from '../../model/plan';
import { inspectDatabase, refuseUnlessWritable } from '../../reconciler/credentials';
import type { LiveState } from '../../reconciler/live-state';
import { applyDatabase, planDatabase, type ReconcileContext } from '../../reconciler/reconcile';
import {
  COMMENT_LIMIT,
  type CommentOptions,
  planJson,
  renderMarkdownComment,
  renderText,
} from '../../reconciler/render';
import type { CommandContext } from '../context';
import {
  addFleetOptions,
  type FleetOutcome,
  type FleetSelection,
  type FleetStatus,
  fleetExit,
  RunJournal,
  runFleet,
  selectDatabases,
  serial,
  summaryTable,
} from '../fleet';
import { UserError } from '../io';
import { restartSuffix } from './attachments';
import { applySaved, isPlanFileArgument, planAndSave, surroundingsOf } from './saved-plan';

type Format = 'text' | 'markdown' | 'json';

const formatOption = () =>
  new Option('--format <format>', 'text for people, markdown for pull requests, json for machines')
    .choices(['text', 'markdown', 'json'])
    .default('text');

function output(
  ctx: CommandContext,
  plans: readonly Plan[],
  format: Format,
  title: string,
  comment: CommentOptions = {},
): void {
  if (format === 'json') {
    ctx.io.stdout(`${JSON.stringify({ databases: plans.map(planJson) }, null, 2)}\n`);
    return;
  }
  if (format === 'markdown') {
    // One pull-request comment for all databases: summaries first, details folded, cut to fit.
    ctx.io.stdout(renderMarkdownComment(plans, { ...comment, title: `pgcred ${title.toLowerCase()}` }));
    return;
  }
  ctx.io.stdout(plans.map((plan) => renderText(plan, { title })).join('\n'));
}

// Two plans in one comment (a file and a stack) share GitHub's limit.
const commentLimitOption = () =>
  new Option('--comment-limit <chars>', 'markdown: cut the comment to at most this many characters')
    .argParser((value) => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 2000 || n > COMMENT_LIMIT)
        throw new UserError(`--comment-limit: ${value} is not a whole number from 2000 to ${COMMENT_LIMIT}`);
      return n;
    })
    .default(COMMENT_LIMIT);

const fullPlanOption = () =>
  new Option('--full-plan <where>', 'markdown: where a reader finds the whole plan when the comment is cut');

/**
 * The databases a plan, apply or drift covers: the one named by the argument, else
 * those --database, --cluster and --tag select, else all of the file's.
 */
export function targets(
  ctx: CommandContext,
  database: string | undefined,
  options: { manifest?: string } & Partial<FleetSelection>,
): DatabaseSpec[] {
  if (options.manifest) {
    const { config } = loadManifest(options.manifest, ctx.io.env);
    ctx.useConfig(config);
  }
  const selecting = [options.database, options.cluster, options.tag].some((list) => list && list.length > 0);
  if (database) {
    if (selecting)
      throw new UserError(
        `name the database either as the argument (${database}) or with --database, --cluster and --tag, not both`,
      );
    return [ctx.database(database)];
  }
  const config = ctx.config();
  if (!selecting) return [...config.databases];
  return selectDatabases(ctx, config.databases, { parallel: 1, ...options });
}

/** One database's record in `--format json` over a fleet. */
function fleetRecord(outcome: FleetOutcome<Plan | undefined>, status: FleetStatus): Record<string, unknown> {
  const base = { database: outcome.spec.name, cluster: outcome.cluster, status };
  if (outcome.error !== undefined) return { ...base, error: outcome.error };
  return { ...base, ...(outcome.value ? planJson(outcome.value) : {}), database: outcome.spec.name };
}

interface FleetReport {
  readonly title: string;
  readonly status: (plan: Plan) => FleetStatus;
  /** The summary table's columns besides Databases and Failed: [name, status counted]. */
  readonly columns: readonly [string, FleetStatus][];
  /** Whether a database's text is listed: only what needs attention is. */
  readonly attention: (plan: Plan) => boolean;
}

/**
 * A fleet's report. One database reads as it always did; over several, text leads with
 * a summary table and lists only what needs attention; json has one record per database.
 */
function fleetOutput(
  ctx: CommandContext,
  outcomes: readonly FleetOutcome<Plan | undefined>[],
  format: Format,
  report: FleetReport,
  comment: CommentOptions = {},
): void {
  const statusOf = (o: FleetOutcome<Plan | undefined>): FleetStatus =>
    o.error !== undefined ? 'error' : o.value ? report.status(o.value) : 'ok';
  const plans = outcomes.flatMap((o) => (o.value ? [o.value] : []));
  if (format === 'json') {
    ctx.io.stdout(
      `${JSON.stringify({ databases: outcomes.map((o) => fleetRecord(o, statusOf(o))) }, null, 2)}\n`,
    );
    return;
  }
  const failed = outcomes.filter((o) => o.error !== undefined);
  if (format === 'markdown' || (outcomes.length <= 1 && failed.length === 0)) {
    output(ctx, plans, format, report.title, comment);
    if (format === 'markdown' && failed.length > 0)
      ctx.io.stdout(`\n${failed.map((o) => `- **${o.spec.name}** failed: ${o.error}`).join('\n')}\n`);
    return;
  }
  const count = (status: FleetStatus) => outcomes.filter((o) => statusOf(o) === status).length;
  const parts = [
    summaryTable([
      ['Databases', outcomes.length],
      ...report.columns.map(([name, status]): [string, number] => [name, count(status)]),
      ['Failed', failed.length],
    ]),
  ];
  for (const outcome of outcomes)
    if (outcome.value && report.attention(outcome.value))
      parts.push(renderText(outcome.value, { title: report.title }));
  if (failed.length > 0)
    parts.push(
      `Failed (${failed.length}):\n${failed.map((o) => `  ✗ ${o.spec.name} (cluster ${o.cluster}): ${o.error}\n`).join('')}`,
    );
  if (parts.length === 1) parts.push('Nothing needs attention.\n');
  ctx.io.stdout(parts.join('\n'));
}

type Selected = Partial<FleetSelection> & { parallel: number };

export function registerPlanCommands(program: Command, context: () => CommandContext): void {
  addFleetOptions(
    program
      .command('plan')
      .description('show what apply would change, per credential, with its SQL (nothing is changed)')
      .argument('[database]', 'a database of the file (default: all)'),
  )
    .option('--manifest <path>', 'read the manifest that cdktf synth wrote instead of pgcred.yaml')
    .option('--prune', 'include destroying managed credentials that are no longer declared')
    .option(
      '--out <file>',
      'save the plan for `pgcred apply FILE`, which applies it only while it is current',
    )
    .addOption(formatOption())
    .addOption(fullPlanOption())
    .addOption(commentLimitOption())
    .action(
      async (
        database: string | undefined,
        options: Selected & {
          manifest?: string;
          prune?: boolean;
          format: Format;
          out?: string;
          fullPlan?: string;
          commentLimit: number;
        },
      ) => {
        const ctx = context();
        ctx.changeNothing();
        const specs = targets(ctx, database, options).filter((db) => db.role !== 'follower');
        ctx.openAhead(specs, options.parallel);
        const rc = await ctx.reconcileContext();
        const comment = () => ({
          limit: options.commentLimit,
          fullPlan:
            options.fullPlan ??
            (options.out ? `the saved plan ${options.out}, or \`pgcred plan\`` : undefined),
        });
        if (options.out) {
          const plans = await planAndSave(ctx, rc, specs, { ...options, out: options.out });
          output(ctx, plans, options.format, 'Plan', {
            ...comment(),
            ...(options.format === 'markdown' ? { surroundings: await surroundingsOf(rc, plans) } : {}),
          });
          if (plans.some((plan) => plan.errors.length > 0)) ctx.setExitStatus(1);
          return;
        }
        const outcomes = await runFleet<Plan>(
          ctx,
          specs,
          { ...options, drifted: (plan) => hasDrift(plan) },
          (spec, say) => planDatabase({ ...rc, progress: say }, spec, { prune: options.prune }),
        );
        const plans = outcomes.flatMap((o) => (o.value ? [o.value] : []));
        fleetOutput(
          ctx,
          outcomes,
          options.format,
          {
            title: 'Plan',
            status: (plan) => (plan.errors.length > 0 ? 'error' : hasDrift(plan) ? 'drifted' : 'ok'),
            columns: [
              ['No changes', 'ok'],
              ['Changes', 'drifted'],
            ],
            attention: (plan) => plan.errors.length > 0 || hasDrift(plan),
          },
          {
            ...comment(),
            ...(options.format === 'markdown' ? { surroundings: await surroundingsOf(rc, plans) } : {}),
          },
        );
        // A plan apply would refuse fails here too, so a pull request's check is red before anyone applies.
        if (plans.some((plan) => plan.errors.length > 0)) ctx.setExitStatus(1);
        ctx.setExitStatus(fleetExit(outcomes, () => false));
      },
    );

  addFleetOptions(
    program
      .command('apply')
      .description('make each database match the file, in one transaction per database')
      .argument('[database]', 'a database of the file (default: all), or a plan saved by plan --out'),
  )
    .option('--manifest <path>', 'read the manifest that cdktf synth wrote instead of pgcred.yaml')
    .option('--prune', 'destroy managed credentials that are no longer declared')
    .option('-y, --yes', 'apply destructive changes without asking')
    .option('--resume', 'apply only the databases an interrupted apply of this file did not finish')
    .addOption(formatOption())
    .action(
      async (
        database: string | undefined,
        options: Selected & {
          manifest?: string;
          prune?: boolean;
          yes?: boolean;
          resume?: boolean;
          format: Format;
        },
      ) => {
        const ctx = context();
        if (isPlanFileArgument(ctx, database)) {
          if (options.prune) throw new UserError('a saved plan keeps the --prune it was planned with');
          if (options.resume)
            throw new UserError('--resume: resumes an apply over the file, not a saved plan');
          const applied = await applySaved(ctx, database, options, (rc, specs) =>
            applyAttachments(ctx, rc, specs),
          );
          output(ctx, applied, options.format, 'Applied');
          return;
        }
        if (options.resume && database !== undefined)
          throw new UserError('--resume: resumes an apply over the file; name no database');
        const selected = targets(ctx, database, options);
        // Named explicitly, a follower is refused as every credential-changing command is.
        if (database !== undefined) refuseUnlessWritable(selected[0]!, undefined);
        const journalOf = options.manifest ? resolve(ctx.io.cwd, options.manifest) : ctx.configPath;
        const resumed = options.resume ? RunJournal.resume(journalOf, 'apply') : undefined;
        const specs = resumed ? selected.filter((spec) => !resumed.has(spec.name)) : selected;
        ctx.openAhead(specs, options.parallel);
        const rc = await ctx.reconcileContext();
        if (resumed)
          ctx.io.stderr(
            `Resuming the interrupted apply: ${selected.length - specs.length} of ${selected.length} databases were applied before; applying the other ${specs.length}.\n`,
          );
        // What a fleet's apply has finished, for --resume after an interruption.
        const journal =
          resumed ??
          (database === undefined && selected.length > 1 ? RunJournal.begin(journalOf, 'apply') : undefined);
        // Attachments the file no longer declares go first: a credential that --prune
        // destroys in the same change would still be held by them.
        if (rc.config.attachments.length > 0 || rc.config.apps.length > 0) {
          const { detached } = await syncDeclaredAttachments(rc, new Map(), { detachOnly: true });
          for (const a of detached) {
            ctx.io.stderr(
              `Detached ${a.attachment.name} from ⬢ ${a.attachment.app}: ${restartSuffix(a.restart, a.release)}\n`,
            );
          }
        }
        // Prompts on the terminal come one at a time, whichever database asks.
        const oneAtATime = serial();
        const outcomes = await runFleet(ctx, specs, options, async (spec, say) => {
          if (spec.role === 'follower') {
            say(`Skipping ${spec.name}: a follower gets its credentials from ${spec.source} by replication.`);
            journal?.finished(spec.name);
            return undefined;
          }
          const result = await applyDatabase({ ...rc, progress: say }, spec, {
            prune: options.prune,
            confirm: async (plan) => {
              const destructive = plan.changes.filter((c) => c.destructive);
              if (destructive.length === 0 || options.yes) return true;
              return oneAtATime(async () => {
                ctx.io.stderr(renderText(plan));
                await ctx
                  .confirm(
                    spec.name,
                    [
                      `This plan makes ${destructive.length} destructive change${destructive.length === 1 ? '' : 's'} to ${spec.name}.`,
                    ],
                    undefined,
                  )
                  .catch((error) => {
                    throw new UserError(
                      error instanceof UserError && !ctx.io.interactive
                        ? `${spec.name}: the plan has ${destructive.length} destructive change${destructive.length === 1 ? '' : 's'}; re-run with --yes to apply them`
                        : (error as Error).message,
                    );
                  });
                return true;
              });
            },
          });
          say(
            result.applied
              ? `Applied ${result.plan.changes.length} change${result.plan.changes.length === 1 ? '' : 's'} to ${spec.name} in one transaction.`
              : `${spec.name} already matches the declaration.`,
          );
          journal?.finished(spec.name);
          return result;
        });
        const failed = new Set(outcomes.filter((o) => o.error !== undefined).map((o) => o.spec.name));
        if (failed.size === 0) journal?.end();
        else if (journal)
          ctx.io.stderr(
            `${failed.size} of ${specs.length} databases failed; pgcred apply --resume applies them (and only them) once they are fixed.\n`,
          );
        await applyAttachments(
          ctx,
          rc,
          specs.filter((spec) => !failed.has(spec.name)),
          failed,
        );
        fleetOutput(
          ctx,
          outcomes.map((o) => ({ ...o, value: o.value?.plan })),
          options.format,
          {
            title: 'Applied',
            status: () => 'ok',
            columns: [['Applied', 'ok']],
            attention: (plan) => plan.changes.length > 0,
          },
        );
        ctx.setExitStatus(fleetExit(outcomes, () => false));
      },
    );

  addFleetOptions(
    program
      .command('drift')
      .description('compare live databases with the file: exit 0 in sync, 2 drifted, 1 on error')
      .argument('[database]', 'a database of the file (default: all)'),
  )
    .option('--manifest <path>', 'read the manifest that cdktf synth wrote instead of pgcred.yaml')
    .option('--strict', 'exit 2 on notices too (a password pgcred does not know, roles it does not manage)')
    .addOption(formatOption())
    .addOption(fullPlanOption())
    .addOption(commentLimitOption())
    .action(
      async (
        database: string | undefined,
        options: Selected & {
          manifest?: string;
          format: Format;
          strict?: boolean;
          fullPlan?: string;
          commentLimit: number;
        },
      ) => {
        const ctx = context();
        ctx.changeNothing();
        ctx.allowUnreachableControl();
        const specs = targets(ctx, database, options);
        ctx.openAhead(specs, options.parallel);
        const rc = await ctx.reconcileContext();
        const drifted = (plan: Plan) => hasDrift(plan, options.strict);
        const outcomes = await runFleet<Plan>(ctx, specs, { ...options, drifted }, async (spec, say) => {
          const plan = await planDatabase({ ...rc, progress: say }, spec);
          // A follower cannot be changed, but it can drift from its primary's declaration.
          return {
            ...plan,
            errors: plan.errors.filter((e) => !e.startsWith('This operation is not supported')),
          };
        });
        fleetOutput(
          ctx,
          outcomes,
          options.format,
          {
            title: 'Drift',
            status: (plan) => (drifted(plan) ? 'drifted' : 'ok'),
            columns: [
              ['In sync', 'ok'],
              ['Drifted', 'drifted'],
            ],
            attention: (plan) => drifted(plan) || plan.errors.length > 0,
          },
          { fullPlan: options.fullPlan, limit: options.commentLimit },
        );
        const driftedNames = outcomes.filter((o) => o.value && drifted(o.value)).map((o) => o.spec.name);
        if (driftedNames.length > 0) ctx.io.stderr(`Drift found in ${driftedNames.join(', ')}.\n`);
        if (rc.control.unreachable !== undefined) {
          // Not every check was made: a scheduled job must not read this as in sync, nor as drift alone.
          ctx.io.stderr(
            `Passwords were not checked: the control store is unreachable (${rc.control.unreachable}).\n`,
          );
          ctx.setExitStatus(1);
        } else ctx.setExitStatus(fleetExit(outcomes, (plan) => drifted(plan)));
      },
    );
}

/** The file's apps and attachments, once the credentials they name exist. */
async function applyAttachments(
  ctx: CommandContext,
  rc: ReconcileContext,
  specs: readonly DatabaseSpec[],
  failed: ReadonlySet<string> = new Set(),
): Promise<void> {
  const config = rc.config;
  if (config.apps.length === 0 && config.attachments.length === 0) return;
  await syncDeclaredApps(rc.control, config.apps);
  const lives = new Map<string, LiveState>();
  for (const spec of specs)
    if (spec.role !== 'follower') lives.set(spec.name, await inspectDatabase(spec, rc));
  // A database whose apply failed keeps the attachments it has; new ones wait for a rerun.
  const sync = await syncDeclaredAttachments(rc, lives, { skipDatabases: failed });
  for (const a of sync.detached) {
    ctx.io.stderr(
      `Detached ${a.attachment.name} from ⬢ ${a.attachment.app}: ${restartSuffix(a.restart, a.release)}\n`,
    );
  }
  for (const a of sync.attached) {
    ctx.io.stderr(
      `Attached ${a.attachment.credential} of ⛁ ${a.attachment.database} to ⬢ ${a.attachment.app} as ${a.attachment.configVar}: ${restartSuffix(a.restart, a.release)}\n`,
    );
    if (a.restart.status === 'failed') ctx.setExitStatus(1);
  }
  // An app whose config vars changed but whose env file or restart never happened (a
  // crash between the two, a failed restart) gets them now: a rerun of apply finishes the job.
  for (const app of await pendingApps(rc.control)) {
    const outcome = await deliver(rc.control, app);
    const release = (await rc.control.apps.releaseOf(app)) ?? 0;
    ctx.io.stderr(`Restarting ⬢ ${app}... ${restartSuffix(outcome, release)}\n`);
    if (outcome.status === 'failed') ctx.setExitStatus(1);
  }
}
