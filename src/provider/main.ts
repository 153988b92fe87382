/**
 * The entry point of terraform-provider-pgcred. Terraform starts it two to five
 * times per command, so it loads only the protocol layer here; pg and the
 * reconciler are loaded when a request first needs a database.
 */
const MAGIC_COOKIE_KEY = 'TF_PLUGIN_MAGIC_COOKIE';
const MAGIC_COOKIE_VALUE = 'd602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2';

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
    process.stderr.write(
      'This is the pgcred Terraform provider, a plugin: Terraform starts it, not you.\n' +
        'Install it with `npm run provider:install` and run terraform with TF_CLI_CONFIG_FILE pointing at\n' +
        'the CLI config that command prints (see the README, "Terraform provider").\n',
    );
    process.exit(1);
  }
  const versions = (env.PLUGIN_PROTOCOL_VERSIONS ?? '6').split(',').map((v) => v.trim());
  if (!versions.includes('6')) {
    process.stderr.write(
      `pgcred's provider speaks plugin protocol 6; this Terraform offers ${versions.join(', ')} (Terraform 1.0 or later is needed)\n`,
    );
    process.exit(1);
  }
  // Terraform forwards Ctrl-C to the whole process group and then calls StopProvider:
  // dying here would cut an apply's transaction short for nothing.
  process.on('SIGINT', () => undefined);
  // stdout is the handshake channel: nothing else may ever be written to it.
  console.log = console.error;
  console.info = console.error;
  const { servePlugin } = await import('./plugin-server');
  const { PgcredProvider } = await import('./provider');
  const provider = new PgcredProvider(env);
  await servePlugin({ rpcs: provider.rpcs(), close: () => provider.close() }, env);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`pgcred provider: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
