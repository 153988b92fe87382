/**
 * Diagnostics as Terraform shows them: a summary, a detail, and the attribute they
 * are about, so `terraform validate` and `plan` point at the line in the config.
 */
export type PathStep = string | number;

export interface Diagnostic {
  readonly severity: 1 | 2;
  readonly summary: string;
  readonly detail: string;
  readonly attribute?: { readonly steps: readonly object[] };
}

export function attributePath(steps: readonly PathStep[]): { steps: object[] } {
  return {
    steps: steps.map((step) =>
      typeof step === 'number' ? { element_key_int: step } : { attribute_name: step },
    ),
  };
}

export function error(summary: string, detail = '', path?: readonly PathStep[]): Diagnostic {
  return { severity: 1, summary, detail, ...(path ? { attribute: attributePath(path) } : {}) };
}

export function warning(summary: string, detail = '', path?: readonly PathStep[]): Diagnostic {
  return { severity: 2, summary, detail, ...(path ? { attribute: attributePath(path) } : {}) };
}

/** An unexpected failure as one diagnostic. Errors from pgcred never carry a URL or a password. */
export function errorOf(summary: string, caught: unknown, path?: readonly PathStep[]): Diagnostic {
  return error(summary, caught instanceof Error ? caught.message : String(caught), path);
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 1);
}
