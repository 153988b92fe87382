import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type GrpcObject,
  loadPackageDefinition,
  Server,
  ServerCredentials,
  type ServiceClientConstructor,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { projectFile } from '../project';
import { generatePluginCertificate } from './certificate';
import { errorOf } from './diagnostics';

/** One RPC of the provider: a decoded request in, a response object out. */
export type RpcHandler = (request: Record<string, unknown>) => Promise<object>;

export interface PluginService {
  /** tfplugin6.Provider methods by name (GetProviderSchema, ReadResource, ...). */
  readonly rpcs: Readonly<Record<string, RpcHandler>>;
  /** Called once when Terraform is done with the provider, before the process exits. */
  readonly close: () => Promise<void>;
}

/**
 * Serves the provider the way go-plugin expects: gRPC over a private unix socket,
 * TLS with a fresh self-signed certificate that is announced on the handshake line,
 * and Terraform's own certificate (PLUGIN_CLIENT_CERT) as the only trusted client.
 */
export async function servePlugin(service: PluginService, env: NodeJS.ProcessEnv): Promise<void> {
  const clientCert = env.PLUGIN_CLIENT_CERT;
  if (!clientCert) throw new Error('PLUGIN_CLIENT_CERT is not set: Terraform sends it with AutoMTLS');
  const certificate = await generatePluginCertificate();
  const definition = loadSync(
    [
      projectFile('src', 'provider', 'proto', 'tfplugin6.proto'),
      projectFile('src', 'provider', 'proto', 'grpc_controller.proto'),
    ],
    { keepCase: true, longs: Number, enums: Number, defaults: false, oneofs: true },
  );
  const loaded = loadPackageDefinition(definition);
  const provider = (loaded.tfplugin6 as GrpcObject).Provider as ServiceClientConstructor;
  const controller = (loaded.plugin as GrpcObject).GRPCController as ServiceClientConstructor;

  const server = new Server({ 'grpc.max_receive_message_length': 256 * 1024 * 1024 });
  const implementation: UntypedServiceImplementation = {};
  for (const [name, handler] of Object.entries(service.rpcs)) {
    implementation[name] = (
      call: { request: Record<string, unknown> },
      callback: (e: Error | null, r?: object) => void,
    ) => {
      handler(call.request).then(
        (response) => callback(null, response),
        // Every response but StopProvider's carries diagnostics: a failure is one, not a broken RPC.
        (caught) => callback(null, { diagnostics: [errorOf(failureSummary(name), caught)] }),
      );
    };
  }
  server.addService(provider.service, implementation);

  const dir = mkdtempSync(join(tmpdir(), 'pgcred-plugin-'));
  const socket = join(dir, 'plugin.sock');
  let exiting = false;
  const exit = async (code: number) => {
    if (exiting) return;
    exiting = true;
    await service.close().catch(() => undefined);
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
    process.exit(code);
  };
  server.addService(controller.service, {
    Shutdown: (_call: unknown, callback: (e: Error | null, r?: object) => void) => {
      callback(null, {});
      // Let the answer reach Terraform before the process goes.
      setTimeout(() => void exit(0), 5);
    },
  });
  process.on('SIGTERM', () => void exit(0));

  const credentials = ServerCredentials.createSsl(
    Buffer.from(clientCert),
    [{ private_key: Buffer.from(certificate.keyPem), cert_chain: Buffer.from(certificate.certPem) }],
    true,
  );
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix://${socket}`, credentials, (error) => (error ? reject(error) : resolve()));
  });
  // go-plugin's handshake: core version | app protocol | network | address | protocol | server cert
  // (DER, base64 without padding: with padding Terraform cannot parse it).
  const cert = certificate.der.toString('base64').replace(/=+$/, '');
  process.stdout.write(`1|6|unix|${socket}|grpc|${cert}\n`);
}

/** What a failed request was doing, in Terraform's words rather than the protocol's. */
function failureSummary(rpc: string): string {
  const doing: Record<string, string> = {
    ConfigureProvider: 'configure the pgcred provider',
    ReadResource: 'refresh this resource',
    PlanResourceChange: 'plan this change',
    ApplyResourceChange: 'apply this change',
    ImportResourceState: 'import this resource',
    ReadDataSource: 'read this data source',
    UpgradeResourceState: 'read the state of this resource',
  };
  return `pgcred could not ${doing[rpc] ?? 'answer Terraform'}`;
}
