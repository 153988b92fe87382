import type { Command } from 'commander';
import { parseConfig } from '../../config/load';
import { DATABASE_NAME_PATTERN, showName } from '../../model/names';
import { InvalidInputError } from '../../model/problem';
import type { CommandContext } from '../context';
import { UserError } from '../io';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface ImportFlags {
  readonly url?: string;
  readonly name?: string;
  readonly only?: string;
  readonly format: string;
  readonly urlVariable: string;
}

/** `pgcred import`: the file that describes a live database, printed; nothing is changed. */
export function registerImport(program: Command, context: () => CommandContext): void {
  program
    .command('import')
    .description(
      'print the pgcred.yaml (or constructs stack) that describes a live database; applying it changes no one’s access',
    )
    .option('--url <url>', 'admin URL of the database (default: PGCRED_DATABASE_URL)')
    .option('--name <name>', 'the database’s name in the file (default: its PostgreSQL name)')
    .option('--only <roles>', 'declare only these roles (comma-separated); every other one is ignored')
    .option('--format <format>', 'yaml or typescript', 'yaml')
    .option(
      '--url-variable <var>',
      'the environment variable the file reads the URL from',
      'DATABASE_ADMIN_URL',
    )
    .action(async (flags: ImportFlags) => {
      const ctx = context();
      ctx.changeNothing();
      const url = flags.url ?? ctx.io.env.PGCRED_DATABASE_URL;
      if (!url) throw new UserError('--url: name the database by its admin URL (or set PGCRED_DATABASE_URL)');
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw new UserError(
          '--url: not a PostgreSQL URL such as postgres://USER:PASSWORD@HOST:5432/DATABASE (value not shown)',
        );
      }
      if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:')
        throw new UserError('--url: a database URL starts with postgres:// (value not shown)');
      if (flags.format !== 'yaml' && flags.format !== 'typescript')
        throw new UserError(`--format: ${showName(flags.format)} is not yaml or typescript`);
      if (!ENV_NAME.test(flags.urlVariable))
        throw new UserError(
          `--url-variable: ${showName(flags.urlVariable)} is not an environment variable name`,
        );
      const own =
        decodeURIComponent(parsed.pathname.replace(/^\//, '')) || decodeURIComponent(parsed.username);
      const name = flags.name ?? (own.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 63) || 'database');
      if (!DATABASE_NAME_PATTERN.test(name))
        throw new UserError(
          `--name: ${showName(name)} may contain only letters, digits, '-' and '_' (at most 63)`,
        );
      const only = flags.only
        ?.split(',')
        .map((role) => role.trim())
        .filter(Boolean);
      if (flags.only !== undefined && (!only || only.length === 0))
        throw new UserError('--only: name at least one role');

      // Loaded here: every other command starts without the importer.
      const { importDatabase, importTypeScript, importYaml } = await import('../../importer');
      const imported = await importDatabase(url, {
        name,
        urlVariable: flags.urlVariable,
        ...(only ? { only } : {}),
      });
      const unknown = imported.warnings.filter((w) => w.endsWith('which is not a role of this cluster'));
      if (unknown.length > 0) throw new UserError(unknown.join('; '));
      const yaml = importYaml(imported);
      // The file must load as it is written: a problem here is pgcred's, not the user's.
      try {
        parseConfig(yaml, { env: { [flags.urlVariable]: url }, file: 'the imported file' });
      } catch (error) {
        const problems =
          error instanceof InvalidInputError
            ? error.problems.map((p) => `${p.path}: ${p.message}`)
            : [String(error)];
        throw new Error(`pgcred import wrote a file that does not load: ${problems.join('; ')}`);
      }
      ctx.io.stdout(flags.format === 'typescript' ? importTypeScript(imported) : yaml);

      const declared = imported.credentials.map((c) => c.name);
      ctx.io.stderr(
        `Imported database ${imported.database} as ${imported.name}: ${declared.length} credential${declared.length === 1 ? '' : 's'}` +
          `${declared.length > 0 ? ` (${declared.join(', ')})` : ''}` +
          `${imported.owner ? `, ${imported.owner} as the default credential` : ''}; ` +
          `${imported.ignored.length} role${imported.ignored.length === 1 ? '' : 's'} under ignoreRoles.\n`,
      );
      for (const role of imported.ignored) {
        if (only?.includes(role.name) || !only)
          ctx.io.stderr(` ▸    ${role.name} is not declared: ${role.reasons.join('; ')}\n`);
      }
      for (const warning of imported.warnings) ctx.io.stderr(` ▸    ${warning}\n`);
    });
}
