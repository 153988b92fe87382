/**
 * Reading synthesized Terraform JSON the way a reviewer reads it: resources by
 * type, with `${postgresql_role.X.name}` resolved to the role's name.
 */
export interface TerraformJson {
  readonly resource?: Record<string, Record<string, Record<string, unknown>>>;
  readonly variable?: Record<string, Record<string, unknown>>;
  readonly provider?: Record<string, Record<string, unknown>[]>;
}

export type ResourceBody = Record<string, unknown> & { readonly address: string };

export function parseTerraform(text: string): TerraformJson {
  return JSON.parse(text) as TerraformJson;
}

/** The resources of one type, each with its address and with role references resolved. */
export function resourcesOf(tf: TerraformJson, type: string): ResourceBody[] {
  const roles = new Map(
    Object.entries(tf.resource?.postgresql_role ?? {}).map(([name, body]) => [name, body.name as string]),
  );
  return Object.entries(tf.resource?.[type] ?? {}).map(([name, body]) => {
    const { '//': _metadata, ...rest } = body;
    const role = rest.role as string | undefined;
    const reference = role === undefined ? null : /^\$\{postgresql_role\.(.+)\.name\}$/.exec(role);
    const resolve = (ref: string) => {
      const id = /^\$\{postgresql_role\.(.+)\.name\}$/.exec(ref)?.[1];
      return id === undefined ? ref : (roles.get(id) ?? ref);
    };
    return {
      ...rest,
      ...(reference ? { role: roles.get(reference[1]!) ?? role } : {}),
      // A credential's level role, by name: construct ids differ between equal stacks.
      ...(Array.isArray(rest.roles) ? { roles: (rest.roles as string[]).map(resolve) } : {}),
      address: `${type}.${name}`,
    } as ResourceBody;
  });
}

/** Every pgcred-relevant resource without its address, as sorted JSON: equal stacks give equal lists. */
export function resourceContents(tf: TerraformJson): string[] {
  return ['postgresql_role', 'postgresql_grant', 'postgresql_default_privileges']
    .flatMap((type) =>
      resourcesOf(tf, type).map(({ address: _address, ...body }) =>
        JSON.stringify({ type, ...sortKeys(body) }),
      ),
    )
    .sort();
}

function sortKeys(object: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).sort(([a], [b]) => a.localeCompare(b)));
}
