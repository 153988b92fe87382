import { Document, isMap, isSeq, type Node, Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import type { GrantSpec } from '../model/config';
import type { ImportedDatabase } from './describe';

/** A comment's lines as the yaml package writes them: each after `#` and one space. */
const comment = (lines: readonly string[]) => lines.map((line) => ` ${line}`).join('\n');

function grantDocument(grant: GrantSpec): Record<string, unknown> {
  return {
    privileges: [...grant.privileges],
    on: grant.on,
    ...(grant.objects.length > 0 ? { objects: [...grant.objects] } : {}),
    ...(grant.columns ? { columns: [...grant.columns] } : {}),
  };
}

/** What is written before the database: how the file came to be and what apply does besides adopting. */
export function headerLines(imported: ImportedDatabase): string[] {
  return [
    `Written by pgcred import from database ${imported.database}. Applying it changes no one's access:`,
    `set ${imported.urlVariable} to the admin URL, then pgcred plan.`,
    ...(imported.applyNotes.length > 0
      ? ['', 'Besides adopting the roles below (passwords kept), apply:']
      : []),
    ...imported.applyNotes.map((line) => `  - ${line}`),
    ...(imported.warnings.length > 0 ? ['', 'Look at these before applying:'] : []),
    ...imported.warnings.map((line) => `  - ${line}`),
  ];
}

/**
 * The imported database as pgcred.yaml, with the reasons a role is left out as
 * comments beside it. Written with the yaml package's document model, so quoting and
 * comments are the parser's own.
 */
export function importYaml(imported: ImportedDatabase): string {
  const database: Record<string, unknown> = {
    name: imported.name,
    url: `\${${imported.urlVariable}}`,
    ...(imported.owner ? { owner: imported.owner } : {}),
    public: 'keep',
    credentials: imported.credentials.map((c) => ({
      ...(c.access.kind === 'level'
        ? { name: c.name, permission: c.access.level }
        : { name: c.name, grants: c.access.grants.map(grantDocument) }),
      ...(c.memberOf.length > 0 ? { memberOf: [...c.memberOf] } : {}),
    })),
    ...(imported.ignored.length > 0 ? { ignoreRoles: imported.ignored.map((r) => r.name) } : {}),
  };
  const doc = new Document({ version: 1, databases: [database] });
  doc.commentBefore = comment(headerLines(imported));
  const db = (doc.get('databases') as YAMLSeq).items[0] as YAMLMap;
  const pair = (key: string) => db.items.find((p) => (p.key as Scalar).value === key);
  const publicValue = pair('public')?.value as Scalar | undefined;
  if (publicValue)
    publicValue.comment = ' PUBLIC keeps what it holds: roles this file does not declare may rely on it';

  const credentials = db.get('credentials') as YAMLSeq;
  if (credentials.items.length === 0) credentials.flow = true;
  credentials.items.forEach((node, i) => {
    const imported_ = imported.credentials[i]!;
    const item = node as YAMLMap;
    if (imported_.access.kind === 'level' && imported_.memberOf.length === 0) item.flow = true;
    const memberOf = item.get('memberOf');
    if (isSeq(memberOf)) (memberOf as YAMLSeq).flow = true;
    const grants = item.get('grants');
    if (isSeq(grants)) {
      if (grants.items.length === 0) grants.flow = true;
      for (const grant of grants.items) if (isMap(grant)) (grant as YAMLMap).flow = true;
    }
    if (imported_.notes.length > 0) (item as Node).commentBefore = comment(imported_.notes);
  });

  const ignoreRoles = db.get('ignoreRoles');
  if (isSeq(ignoreRoles)) {
    const seq = ignoreRoles as YAMLSeq;
    const keyNode = pair('ignoreRoles')?.key as Scalar | undefined;
    if (keyNode)
      keyNode.commentBefore = comment([
        'Roles pgcred neither manages nor reports: declaring them would change their access.',
      ]);
    seq.items = seq.items.map((node, i) => {
      const scalar = node instanceof Scalar ? node : new Scalar(String(node));
      scalar.commentBefore = comment(imported.ignored[i]!.reasons);
      return scalar;
    });
  }
  return doc.toString({ lineWidth: 0 });
}
