import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Aspects,
  type IAspect,
  type IStackSynthesizer,
  type ISynthesisSession,
  TerraformStack,
  TerraformVariable,
} from 'cdktf';
import { Construct, type IConstruct } from 'constructs';
import type { Manifest as ManifestDocument } from '../config/manifest';
import { manifestText } from '../config/manifest';
import { validateAgainstSchema } from '../config/schema';
import { type Config, DEFAULT_CREDENTIAL } from '../model/config';
import type { Problem } from '../model/problem';
import { validateConfig } from '../model/validate';
import { projectFile } from '../project';
import type { Application } from './application';
import type { Attachment } from './attachment';
import { configDocument } from './config-document';
import type { Database } from './database';
import { stackRelativePath } from './stack-path';
import { pgcredProviderOf, type TerraformProviderName } from './terraform-target';

const ID = 'PgcredManifest';

/** The manifest file's content (schemas/manifest.schema.json). */
export interface PgcredManifest extends ManifestDocument {
  readonly terraform: {
    readonly provider: TerraformProviderName;
    /**
     * The databases whose roles and grants this stack's Terraform creates, and the
     * schemas its grants name: none with the pgcred provider, which covers every
     * non-system schema as pgcred does.
     */
    readonly databases: readonly { readonly name: string; readonly schemas: readonly string[] }[];
  };
}

const REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;

/** Where pgcred keeps its control store, as the manifest records it. */
export interface ControlOptions {
  /**
   * The environment variable holding the control store's URL; PGCRED_CONTROL_URL still wins.
   * @default - the first primary database
   */
  readonly urlVariable?: string;
  /**
   * The master key file (created 0600 on first use); PGCRED_MASTER_KEY still wins.
   * Relative paths are relative to the directory `cdktf synth` runs in.
   * @default - .pgcred/master.key in the directory pgcred runs in
   */
  readonly keyFile?: string;
}

/**
 * The stack's pgcred manifest: the model that the constructs declare, validated at
 * synth and written beside cdk.tf.json as pgcred.manifest.json, so one synth serves
 * `cdktf deploy` and `pgcred plan|apply|drift --manifest`. One per stack.
 */
export class Manifest extends Construct {
  static readonly FILE_NAME = 'pgcred.manifest.json';

  /** The manifest of the stack that holds `scope`, created on first use. */
  static of(scope: IConstruct): Manifest {
    const stack = TerraformStack.of(scope);
    return (stack.node.tryFindChild(ID) as Manifest | undefined) ?? new Manifest(stack, ID);
  }

  private readonly stack: TerraformStack;
  private readonly databases: Database[] = [];
  private readonly applications: Application[] = [];
  private readonly attachments: Attachment[] = [];
  private control: Config['control'] = {};
  private cached?: Map<IConstruct, string[]>;
  private controlSynthesized = false;

  private constructor(stack: TerraformStack, id: string) {
    super(stack, id);
    this.stack = stack;
    Aspects.of(stack).add(new TerraformResources());
    // The stack's synthesizer is public and replaceable: wrapping it writes the manifest
    // beside cdk.tf.json once the stack has synthesized (and so validated) without errors.
    const synthesizer: IStackSynthesizer = stack.synthesizer;
    stack.synthesizer = {
      synthesize: (session) => {
        synthesizer.synthesize(session);
        this.write(session);
      },
    };
    this.node.addValidation({ validate: () => this.problemsFor(this) });
  }

  /** @internal */
  addDatabase(database: Database): void {
    this.databases.push(database);
    this.changed();
  }

  /** @internal */
  addApplication(application: Application): void {
    this.applications.push(application);
    this.changed();
  }

  /** @internal */
  addAttachment(attachment: Attachment): void {
    this.attachments.push(attachment);
    this.changed();
  }

  /** @internal Something the model is built from changed: validate again. */
  changed(): void {
    this.cached = undefined;
  }

  /** Records where pgcred keeps its control store. */
  configureControl(options: ControlOptions): void {
    if (options.urlVariable !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(options.urlVariable)) {
      throw new Error(
        `urlVariable ${JSON.stringify(options.urlVariable)} is not an environment variable name`,
      );
    }
    this.control = {
      url: options.urlVariable === undefined ? undefined : `\${${options.urlVariable}}`,
      // The manifest is read from cdktf.out/stacks/<stack>/: relative paths are relative to it.
      keyFile: options.keyFile === undefined ? undefined : stackRelativePath(this, options.keyFile),
    };
    this.changed();
  }

  /** The Terraform provider the stack's credentials synthesize to: its first such database's. */
  get terraformProvider(): TerraformProviderName {
    return this.databases.find((db) => db.hasTerraformResources)?.terraformProvider ?? 'postgresql';
  }

  /**
   * @internal The attachments of an app that Terraform makes, in the order
   * `pgcred apply` hands out names: those with `as` first, then by database, the
   * default credential first, then by credential.
   */
  attachmentOrder(app: Application): Attachment[] {
    const rank = (a: Attachment) =>
      a.credential.credentialName === DEFAULT_CREDENTIAL ? '' : a.credential.credentialName;
    const mine = this.attachments.filter((a) => a.app === app && a.ownedByTerraform);
    return [
      ...mine.filter((a) => a.as !== undefined),
      ...mine
        .filter((a) => a.as === undefined)
        .sort(
          (a, b) =>
            a.credential.database.name.localeCompare(b.credential.database.name) ||
            rank(a).localeCompare(rank(b)),
        ),
    ];
  }

  /**
   * @internal Called by the stack's pgcred aspect: the pgcred provider's control
   * store settings, from configureControl. Its URL variable becomes a sensitive
   * Terraform variable, `pgcred_control_url`.
   */
  _synthesizeTerraform(): void {
    if (this.terraformProvider !== 'pgcred' || this.controlSynthesized) return;
    this.controlSynthesized = true;
    const provider = pgcredProviderOf(this);
    if (this.control.keyFile !== undefined) provider.keyFile = this.control.keyFile;
    if (this.control.url !== undefined) {
      const variable = new TerraformVariable(this, 'ControlUrl', {
        type: 'string',
        sensitive: true,
        description: `The control store's URL (what ${this.control.url} holds for pgcred)`,
      });
      variable.overrideLogicalId('pgcred_control_url');
      provider.controlUrl = variable.stringValue;
    }
  }

  /** The model the stack declares (not validated: see `problemsFor`). */
  config(): Config {
    return {
      version: 1,
      databases: this.databases.map((db) => db.spec()),
      apps: this.applications.map((app) => app.spec()),
      attachments: this.attachments.map((attachment) => attachment.spec()),
      control: this.control,
    };
  }

  /** The manifest as it is written to pgcred.manifest.json. */
  document(): PgcredManifest {
    const config = this.config();
    return {
      manifestVersion: 1,
      generatedBy: `pgcred ${packageVersion()} constructs`,
      stack: this.stack.node.id,
      terraform: {
        provider: this.terraformProvider,
        databases: this.databases
          .filter((db) => db.hasTerraformResources)
          .map((db) => ({ name: db.name, schemas: db.targetsPgcred ? [] : [...db.schemas] })),
      },
      // Attachments Terraform makes are left out: `pgcred apply` would make them again.
      config: configDocument({
        ...config,
        attachments: this.attachments.filter((a) => !a.ownedByTerraform).map((a) => a.spec()),
      }),
    };
  }

  /**
   * The problems of one construct, in the words the CLI uses for pgcred.yaml, with
   * the rest of the JSON path when it goes deeper than the construct.
   */
  problemsFor(construct: IConstruct): string[] {
    if (!this.cached) this.cached = this.allProblems();
    return this.cached.get(construct) ?? [];
  }

  private allProblems(): Map<IConstruct, string[]> {
    const config = this.config();
    const document = configDocument(config);
    const problems: Problem[] = [];
    // The manifest is a build artifact: a URL in it would put the admin password there.
    config.databases.forEach((db, d) => {
      if (!REFERENCE.test(db.url))
        problems.push({ path: `databases[${d}].url`, message: 'must be a ${VAR} reference' });
    });
    if (config.control.url !== undefined && !REFERENCE.test(config.control.url)) {
      problems.push({ path: 'control.url', message: 'must be a ${VAR} reference' });
    }
    // The manifest records one provider per stack.
    const target = this.terraformProvider;
    this.databases.forEach((db, d) => {
      if (db.hasTerraformResources && db.terraformProvider !== target) {
        problems.push({
          path: `databases[${d}]`,
          message:
            `its credentials target the ${db.terraformProvider} Terraform provider and this stack's other ` +
            `databases the ${target} one: one stack targets one provider, so split the stack or give every ` +
            'database the same terraformProvider',
        });
      }
    });
    // The file's own rules first (names, patterns); the model's rules where the file's found nothing.
    const shape = validateAgainstSchema('pgcred.schema.json', document);
    const seen = new Set(shape.map((p) => p.path));
    problems.push(...shape);
    problems.push(...validateConfig(config).filter((p) => !seen.has(p.path)));
    const byConstruct = new Map<IConstruct, string[]>();
    const add = (construct: IConstruct, message: string) =>
      byConstruct.set(construct, [...(byConstruct.get(construct) ?? []), message]);
    for (const problem of problems) {
      const message = this.inConstructTerms(problem.message);
      const whole = /^databases\[(\d+)\]\.credentials$/.exec(problem.path);
      const credentials = whole ? (this.databases[Number(whole[1])]?.credentials ?? []) : [];
      if (credentials.length > 0) {
        // "No credentials here" (Essential tier, followers) is about each credential declared.
        for (const credential of credentials) add(credential, message);
        continue;
      }
      const { construct, rest } = this.locate(problem.path);
      add(construct, rest ? `${rest}: ${message}` : message);
    }
    return byConstruct;
  }

  /** The model speaks of a file and JSON paths; a stack's author knows construct paths. */
  private inConstructTerms(message: string): string {
    return message
      .replace(/\bthis file declares\b/g, 'the stack declares')
      .replace(/\b(?:databases\[\d+\](?:\.credentials\[\d+\])?|apps\[\d+\]|attachments\[\d+\])/g, (path) => {
        const { construct, rest } = this.locate(path);
        return construct === this || rest ? path : construct.node.path;
      });
  }

  /** The construct a JSON path of the model points into, and the part of the path below it. */
  private locate(path: string): { construct: IConstruct; rest: string } {
    const match = /^(databases|apps|attachments)\[(\d+)\](.*)$/.exec(path);
    if (!match) return { construct: this, rest: path };
    const [, section, index, tail] = match as unknown as [string, string, string, string];
    const at = Number(index);
    if (section === 'databases') {
      const database = this.databases[at];
      if (!database) return { construct: this, rest: path };
      const credential = /^\.credentials\[(\d+)\](.*)$/.exec(tail);
      const found = credential ? database.credentials[Number(credential[1])] : undefined;
      if (found) return { construct: found, rest: strip(credential![2]!) };
      return { construct: database, rest: strip(tail) };
    }
    const list: readonly IConstruct[] = section === 'apps' ? this.applications : this.attachments;
    return { construct: list[at] ?? this, rest: list[at] ? strip(tail) : path };
  }

  private write(session: ISynthesisSession): void {
    const dir = join(session.outdir, session.manifest.forStack(this.stack).workingDirectory);
    writeFileSync(join(dir, Manifest.FILE_NAME), manifestText(this.document()));
  }
}

/** Turns each credential's final access into Terraform resources before validation and synthesis. */
class TerraformResources implements IAspect {
  visit(node: IConstruct): void {
    const credential = node as { _synthesizeTerraform?: () => void };
    if (typeof credential._synthesizeTerraform === 'function') credential._synthesizeTerraform();
  }
}

function strip(tail: string): string {
  return tail.replace(/^\./, '');
}

let version: string | undefined;
function packageVersion(): string {
  if (!version)
    version = (JSON.parse(readFileSync(projectFile('package.json'), 'utf8')) as { version: string }).version;
  return version;
}
