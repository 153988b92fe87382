import { type ChildProcess, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { join, resolve } from 'node:path';
import {
  credentials,
  type GrpcObject,
  loadPackageDefinition,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { generatePluginCertificate, type PluginCertificate } from '../../src/provider/certificate';

/**
 * The provider process as go-plugin sees it: the magic cookie, the handshake line,
 * AutoMTLS (only Terraform's certificate gets in), SIGINT ignored, Shutdown.
 * Runs the TypeScript entry point through tsx, so it needs no build.
 */
const ROOT = resolve(__dirname, '..', '..');
const COOKIE = 'd602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2';
const PROTO = join(ROOT, 'src', 'provider', 'proto');

function startProvider(env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'provider', 'main.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((done) => {
    if (child.exitCode !== null) done(child.exitCode);
    else child.once('exit', (code) => done(code));
  });
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((done, fail) => {
    let text = '';
    child.stdout!.on('data', (chunk) => {
      text += chunk;
      if (text.includes('\n')) done(text.split('\n')[0]!);
    });
    child.once('exit', (code) => fail(new Error(`provider exited ${code} before its handshake`)));
  });
}

function clientFor(socket: string, serverCertPem: string, clientCert: PluginCertificate) {
  const definition = loadSync([join(PROTO, 'tfplugin6.proto'), join(PROTO, 'grpc_controller.proto')], {
    keepCase: true,
    longs: Number,
    enums: Number,
    defaults: false,
  });
  const loaded = loadPackageDefinition(definition);
  const creds = credentials.createSsl(
    Buffer.from(serverCertPem),
    Buffer.from(clientCert.keyPem),
    Buffer.from(clientCert.certPem),
  );
  const Provider = (loaded.tfplugin6 as GrpcObject).Provider as ServiceClientConstructor;
  const Controller = (loaded.plugin as GrpcObject).GRPCController as ServiceClientConstructor;
  return {
    provider: new Provider(`unix://${socket}`, creds),
    controller: new Controller(`unix://${socket}`, creds),
  };
}

function call(client: unknown, method: string, request: object): Promise<Record<string, unknown>> {
  return new Promise((done, fail) => {
    (
      client as Record<string, (r: object, cb: (e: Error | null, v: Record<string, unknown>) => void) => void>
    )[method]!(request, (error, value) => (error ? fail(error) : done(value)));
  });
}

describe('the provider process', () => {
  it('refuses to run without the magic cookie, with a message for people', async () => {
    const child = startProvider({});
    let stderr = '';
    let stdout = '';
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
    });
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
    });
    expect(await exited(child)).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('a plugin: Terraform starts it, not you');
  }, 30_000);

  it('hands Terraform its address and certificate, serves only Terraform, ignores SIGINT and shuts down on request', async () => {
    const terraformCert = await generatePluginCertificate();
    const child = startProvider({
      TF_PLUGIN_MAGIC_COOKIE: COOKIE,
      PLUGIN_PROTOCOL_VERSIONS: '5,6',
      PLUGIN_CLIENT_CERT: terraformCert.certPem,
    });
    try {
      const line = await firstLine(child);
      const match = /^1\|6\|unix\|(\/[^|]+)\|grpc\|([A-Za-z0-9+/]+)$/.exec(line);
      expect(match).not.toBeNull();
      const [, socket, cert] = match!;
      const x509 = new X509Certificate(Buffer.from(cert!, 'base64'));
      expect(x509.subjectAltName).toBe('DNS:localhost');
      expect(x509.ca).toBe(true);

      child.kill('SIGINT');
      await new Promise((done) => setTimeout(done, 300));
      expect(child.exitCode).toBeNull();

      const { provider, controller } = clientFor(socket!, x509.toString(), terraformCert);
      const schema = await call(provider, 'GetProviderSchema', {});
      expect(Object.keys(schema.resource_schemas as object).sort()).toEqual([
        'pgcred_app',
        'pgcred_attachment',
        'pgcred_credential',
      ]);
      expect(Object.keys(schema.data_source_schemas as object)).toEqual(['pgcred_credential_url']);

      // Another client certificate is not Terraform's: the TLS handshake fails.
      const stranger = clientFor(socket!, x509.toString(), await generatePluginCertificate());
      await expect(call(stranger.provider, 'GetProviderSchema', {})).rejects.toThrow();

      await call(controller, 'Shutdown', {});
      expect(await exited(child)).toBe(0);
      provider.close();
      controller.close();
      stranger.provider.close();
      stranger.controller.close();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 30_000);
});
