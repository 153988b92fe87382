import { isAbsolute, relative, resolve } from 'node:path';
import { App, TerraformStack } from 'cdktf';
import type { IConstruct } from 'constructs';

/**
 * A path written relative to the directory `cdktf synth` runs in (the directory of
 * cdktf.json), as Terraform and pgcred must read it: relative to the stack's working
 * directory, `cdktf.out/stacks/<stack>`, where Terraform runs and the manifest lies.
 * Synthesized JSON then holds `../../run/app.env`, the same on every machine and in
 * every checkout, rather than this one's absolute path. Absolute paths are kept.
 *
 * Use it for any path a stack hands Terraform, the local backend's state included:
 * `new LocalBackend(stack, { path: stackRelativePath(stack, 'terraform.sunny.tfstate') })`.
 */
export function stackRelativePath(scope: IConstruct, path: string): string {
  if (isAbsolute(path)) return path;
  const stack = TerraformStack.of(scope);
  const stackDirectory = resolve(App.of(stack).outdir, 'stacks', stack.node.id);
  return relative(stackDirectory, resolve(path)) || '.';
}
