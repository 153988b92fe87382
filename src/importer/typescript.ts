import type { GrantSpec } from '../model/config';
import type { ImportedDatabase } from './describe';
import { headerLines } from './yaml';

const str = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const list = (items: readonly string[]) => `[${items.map(str).join(', ')}]`;

/** A construct id from a role name: `shop_app` is `ShopApp`. */
function constructId(name: string, taken: Set<string>): string {
  const base =
    name
      .split(/[^A-Za-z0-9]+/)
      .filter(Boolean)
      .map((part) => part[0]!.toUpperCase() + part.slice(1))
      .join('') || 'Credential';
  let id = /^[0-9]/.test(base) ? `Credential${base}` : base;
  for (let i = 2; taken.has(id); i++) id = `${base}${i}`;
  taken.add(id);
  return id;
}

/** The Grant factory that writes a grant, in the constructs' own words where one exists. */
function grantCall(grant: GrantSpec): string {
  const p = list(grant.privileges);
  const o = list(grant.objects);
  switch (grant.on) {
    case 'table':
      return `Grant.onTables(${o}, ${p})`;
    case 'sequence':
      return `Grant.onSequences(${o}, ${p})`;
    case 'all-tables':
      return `Grant.onAllTablesIn(${o}, ${p})`;
    case 'all-sequences':
      return `Grant.onAllSequencesIn(${o}, ${p})`;
    case 'database':
      return `Grant.onDatabase(${p})`;
    case 'default-tables':
      return grant.objects.length > 0 ? `Grant.onFutureTables(${p}, ${o})` : `Grant.onFutureTables(${p})`;
    case 'default-sequences':
      return grant.objects.length > 0
        ? `Grant.onFutureSequences(${p}, ${o})`
        : `Grant.onFutureSequences(${p})`;
    case 'default-schemas':
      return 'Grant.usageOnFutureSchemas()';
    case 'schema':
      if (grant.privileges.length === 1 && grant.privileges[0] === 'USAGE')
        return `Grant.usageOnSchemas(${o})`;
      return `Grant.onSchemas(${o}, ${p})`;
    case 'column':
      return `Grant.onColumns(${o}, ${list(grant.columns ?? [])}, ${p})`;
    case 'routine':
      return `Grant.executeOn(${o})`;
  }
}

const PERMISSION: Record<string, string> = {
  none: 'Permission.none()',
  'read-only': 'Permission.readOnly()',
  'read-write': 'Permission.readWrite()',
};

/**
 * The imported database as a CDKTF stack of pgcred's constructs: the same
 * declaration as the YAML, synthesized into the manifest that `pgcred apply
 * --manifest` reads. The reconciler owns roles and grants (executor pgcred), so
 * Terraform creates none of them and PUBLIC is left as it is.
 */
export function importTypeScript(imported: ImportedDatabase, options: { module?: string } = {}): string {
  const from = options.module ?? 'pgcred';
  const className = `${constructId(imported.name, new Set())}Stack`;
  const ids = new Set<string>(['Database']);
  const out: string[] = [];
  out.push(...headerLines(imported).map((line) => `//${line ? ` ${line}` : ''}`));
  out.push("import { App, TerraformStack } from 'cdktf';");
  out.push("import type { Construct } from 'constructs';");
  const names = ['AdminConnection', 'Database'];
  if (imported.credentials.some((c) => c.access.kind === 'grants')) names.push('Grant');
  if (imported.credentials.some((c) => c.access.kind === 'level')) names.push('Permission');
  out.push(`import { ${names.join(', ')} } from ${str(from)};`);
  out.push('');
  out.push(`export class ${className} extends TerraformStack {`);
  out.push('  constructor(scope: Construct, id: string) {');
  out.push('    super(scope, id);');
  out.push(`    const database = new Database(this, 'Database', {`);
  out.push(`      name: ${str(imported.name)},`);
  out.push(`      admin: AdminConnection.fromVariables({ urlVariable: ${str(imported.urlVariable)} }),`);
  out.push('      // pgcred apply --manifest makes the roles and grants; Terraform makes none of them.');
  out.push("      executor: 'pgcred',");
  if (imported.owner) out.push(`      owner: ${str(imported.owner)},`);
  out.push('      // PUBLIC keeps what it holds: roles this stack does not declare may rely on it.');
  out.push("      public: 'keep',");
  if (imported.ignored.length > 0) {
    out.push('      // Roles pgcred neither manages nor reports: declaring them would change their access.');
    out.push('      ignoreRoles: [');
    for (const role of imported.ignored) {
      for (const reason of role.reasons) out.push(`        // ${reason}`);
      out.push(`        ${str(role.name)},`);
    }
    out.push('      ],');
  }
  out.push('    });');
  for (const credential of imported.credentials) {
    for (const note of credential.notes) out.push(`    // ${note}`);
    const id = str(constructId(credential.name, ids));
    const memberOf = credential.memberOf.length > 0 ? `, memberOf: ${list(credential.memberOf)}` : '';
    if (credential.access.kind === 'level') {
      out.push(
        `    database.addCredential(${id}, { name: ${str(credential.name)}, permission: ${PERMISSION[credential.access.level]}${memberOf} });`,
      );
    } else {
      out.push(`    database.addCredential(${id}, {`);
      out.push(`      name: ${str(credential.name)},`);
      if (memberOf) out.push(`      memberOf: ${list(credential.memberOf)},`);
      out.push('      grants: [');
      for (const grant of credential.access.grants) out.push(`        ${grantCall(grant)},`);
      out.push('      ],');
      out.push('    });');
    }
  }
  out.push('  }');
  out.push('}');
  out.push('');
  out.push('const app = new App();');
  out.push(`new ${className}(app, ${str(imported.name)});`);
  out.push('app.synth();');
  return `${out.join('\n')}\n`;
}
