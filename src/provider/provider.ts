import { credentialNameProblem } from '../model/names';
import { validateAppConfig } from './app-config';
import { validateAttachmentConfig } from './attachment-config';
import { validateCredentialConfig } from './credential-config';
import { DeclaredCredentials } from './credential-limit';
import { attributePath, type Diagnostic, error, errorOf, hasErrors, type PathStep } from './diagnostics';
import type { RpcHandler } from './plugin-server';
import { knownString, readProviderConfig } from './provider-config';
import {
  APP_SCHEMA,
  APP_TYPE,
  ATTACHMENT_SCHEMA,
  ATTACHMENT_TYPE,
  CREDENTIAL_SCHEMA,
  CREDENTIAL_TYPE,
  CREDENTIAL_URL_SCHEMA,
  CREDENTIAL_URL_TYPE,
  PROVIDER_SCHEMA,
} from './schema';
import type { ProviderSession } from './session';
import {
  type BlockSpec,
  type DynamicValueMessage,
  decodeDynamic,
  encodeDynamic,
  normalize,
  type ObjectValue,
  type SchemaSpec,
  schemaMessage,
} from './values';

type Backend = typeof import('./backend');

interface TypeSpec {
  readonly schema: SchemaSpec;
  readonly validate: (config: ObjectValue) => Diagnostic[];
}

/** What validation needs of each type, without the backend. */
const RESOURCES: Readonly<Record<string, TypeSpec>> = {
  [CREDENTIAL_TYPE]: { schema: CREDENTIAL_SCHEMA, validate: validateCredentialConfig },
  [APP_TYPE]: { schema: APP_SCHEMA, validate: validateAppConfig },
  [ATTACHMENT_TYPE]: { schema: ATTACHMENT_SCHEMA, validate: validateAttachmentConfig },
};

const DATA_SOURCES: Readonly<Record<string, TypeSpec>> = {
  [CREDENTIAL_URL_TYPE]: {
    schema: CREDENTIAL_URL_SCHEMA,
    validate: (config) => {
      const problem =
        knownString(config.name) && config.name !== 'default'
          ? credentialNameProblem(config.name)
          : undefined;
      return problem ? [error('Invalid credential name', problem, ['name'])] : [];
    },
  },
};

/**
 * The tfplugin6 Provider service: decodes DynamicValues against the schemas,
 * hands typed values to the resource operations, and encodes what they return.
 */
export class PgcredProvider {
  private backend?: Backend;
  private session?: ProviderSession;
  private configured = false;
  private readonly declared = new DeclaredCredentials();

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  rpcs(): Record<string, RpcHandler> {
    return {
      GetProviderSchema: async () => ({
        provider: schemaMessage(PROVIDER_SCHEMA),
        resource_schemas: mapValues(RESOURCES, (t) => schemaMessage(t.schema)),
        data_source_schemas: mapValues(DATA_SOURCES, (t) => schemaMessage(t.schema)),
        diagnostics: [],
        server_capabilities: { plan_destroy: false, get_provider_schema_optional: false },
      }),
      ValidateProviderConfig: async (request) => {
        const config = objectOf(request.config, PROVIDER_SCHEMA.block);
        this.declared.noteProvider(config);
        return { diagnostics: readProviderConfig(config, this.env).diagnostics };
      },
      ValidateResourceConfig: async (request) => {
        const type = typeOf(RESOURCES, request.type_name);
        const config = objectOf(request.config, type.schema.block);
        const diagnostics = type.validate(config);
        if (request.type_name === CREDENTIAL_TYPE && !hasErrors(diagnostics))
          diagnostics.push(...(await this.declared.check(config)));
        return { diagnostics };
      },
      ValidateDataResourceConfig: async (request) => {
        const type = typeOf(DATA_SOURCES, request.type_name);
        return { diagnostics: type.validate(objectOf(request.config, type.schema.block)) };
      },
      ConfigureProvider: (request) => this.configure(request),
      UpgradeResourceState: async (request) => {
        const type = typeOf(RESOURCES, request.type_name);
        const raw = request.raw_state as { json?: Uint8Array } | undefined;
        if (!raw?.json || raw.json.length === 0) {
          return { diagnostics: [error('Unsupported state', 'pgcred state is JSON; this state has none')] };
        }
        // One schema version so far: the stored JSON already has its shape, and
        // normalize drops attributes an older build wrote and adds new ones as null.
        const state = normalize(type.schema.block, JSON.parse(Buffer.from(raw.json).toString('utf8')));
        return { upgraded_state: encodeDynamic(state, type.schema.block), diagnostics: [] };
      },
      ReadResource: async (request) => {
        const block = typeOf(RESOURCES, request.type_name).schema.block;
        const current = objectOf(request.current_state, block);
        const { operations, diagnostics } = await this.resourceOperations(request.type_name);
        if (!operations) return { new_state: encodeDynamic(current, block), diagnostics };
        const result = await operations.read(this.session, current);
        return { new_state: encodeDynamic(result.state, block), diagnostics: result.diagnostics };
      },
      PlanResourceChange: async (request) => {
        const block = typeOf(RESOURCES, request.type_name).schema.block;
        const { operations, diagnostics } = await this.resourceOperations(request.type_name);
        if (!operations) return { diagnostics };
        const result = await operations.plan(
          this.session,
          nullableObjectOf(request.prior_state, block),
          nullableObjectOf(request.proposed_new_state, block),
          nullableObjectOf(request.config, block),
        );
        return {
          planned_state: encodeDynamic(result.planned, block),
          requires_replace: result.requiresReplace.map((path) => attributePath(path as PathStep[])),
          diagnostics: result.diagnostics,
        };
      },
      ApplyResourceChange: async (request) => {
        const block = typeOf(RESOURCES, request.type_name).schema.block;
        const prior = nullableObjectOf(request.prior_state, block);
        const { operations, diagnostics } = await this.resourceOperations(request.type_name);
        if (!operations) return { new_state: encodeDynamic(prior, block), diagnostics };
        const result = await operations.apply(
          this.session,
          prior,
          nullableObjectOf(request.planned_state, block),
          nullableObjectOf(request.config, block),
        );
        return { new_state: encodeDynamic(result.state, block), diagnostics: result.diagnostics };
      },
      ImportResourceState: async (request) => {
        const type = request.type_name as string;
        const block = typeOf(RESOURCES, type).schema.block;
        const { operations, diagnostics } = await this.resourceOperations(type);
        if (!operations) return { diagnostics };
        const result = await operations.importState(this.session, String(request.id ?? ''));
        return {
          imported_resources: result.state
            ? [{ type_name: type, state: encodeDynamic(result.state, block) }]
            : [],
          diagnostics: result.diagnostics,
        };
      },
      ReadDataSource: async (request) => {
        const type = request.type_name as string;
        const block = typeOf(DATA_SOURCES, type).schema.block;
        const config = objectOf(request.config, block);
        const backend = await this.loadBackend();
        const operations = backend?.DATA_SOURCE_OPERATIONS[type];
        if (!backend || !operations) return { diagnostics: [notConfigured()] };
        const result = await operations.read(this.session, config);
        return { state: encodeDynamic(result.state, block), diagnostics: result.diagnostics };
      },
      // In-flight work is one transaction per change: it finishes or rolls back on
      // its own, so there is nothing to interrupt.
      StopProvider: async () => ({}),
    };
  }

  private async configure(request: Record<string, unknown>): Promise<object> {
    const { settings, diagnostics } = readProviderConfig(
      objectOf(request.config as DynamicValueMessage, PROVIDER_SCHEMA.block),
      this.env,
    );
    if (hasErrors(diagnostics)) return { diagnostics };
    try {
      const backend = await this.loadBackend(true);
      if (settings) {
        await this.session?.close();
        this.session = await backend!.ProviderSession.open(settings, this.env);
      }
      this.configured = true;
      return { diagnostics };
    } catch (caught) {
      return { diagnostics: [...diagnostics, errorOf('Cannot configure the pgcred provider', caught)] };
    }
  }

  private async loadBackend(force = false): Promise<Backend | undefined> {
    if (!this.configured && !force) return undefined;
    this.backend ??= await import('./backend');
    return this.backend;
  }

  private async resourceOperations(typeName: unknown) {
    const backend = await this.loadBackend();
    const operations = backend?.RESOURCE_OPERATIONS[typeName as string];
    return operations
      ? { operations, diagnostics: [] }
      : { operations: undefined, diagnostics: [notConfigured()] };
  }

  async close(): Promise<void> {
    await this.session?.close();
  }
}

function notConfigured(): Diagnostic {
  return error('pgcred provider not configured', 'Terraform called it before ConfigureProvider');
}

function typeOf(types: Readonly<Record<string, TypeSpec>>, name: unknown): TypeSpec {
  const type = types[name as string];
  if (!type) throw new Error(`pgcred has no type ${String(name)}`);
  return type;
}

function objectOf(message: unknown, block: BlockSpec): ObjectValue {
  return normalize(block, (decodeDynamic(message as DynamicValueMessage) as ObjectValue | null) ?? {});
}

function nullableObjectOf(message: unknown, block: BlockSpec): ObjectValue | null {
  const value = decodeDynamic(message as DynamicValueMessage) as ObjectValue | null;
  return value === null ? null : normalize(block, value);
}

function mapValues<T, U>(record: Readonly<Record<string, T>>, f: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, f(value)]));
}
