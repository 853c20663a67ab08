import { createHash, randomUUID } from 'node:crypto';
import {
  type CompiledStateMachine,
  type DefinitionDiagnostic,
  type Engine,
  EngineApiError,
  InvalidDefinitionError,
  InvalidNameError,
  validExecutionName,
} from '../../engine';
import {
  type ExecutionStore,
  InvalidCursorError,
  type JsonObject,
  type MachineDetailsStore,
  type StateMachineRecord,
  type Tag,
  type VersionRecord,
} from '../../store';
import {
  ConflictError,
  InvalidArnError,
  MissingRequiredParameterError,
  ResourceNotFoundError,
  StateMachineAlreadyExistsError,
  StateMachineDoesNotExistError,
  ValidationError,
} from './states-errors';
import {
  constraint,
  encryptionConfiguration,
  enumValue,
  loggingConfiguration,
  MAX_TAGS,
  pageSize,
  pageToken,
  parseMachineArn,
  required,
  tagList,
  tooManyTags,
  tracingConfiguration,
} from './states-input';

/**
 * State machines as the Step Functions API manages them: CreateStateMachine (with its tags, logging, tracing and
 * encryption configurations, and `publish`), DescribeStateMachine (of a machine or of one of its versions),
 * UpdateStateMachine, DeleteStateMachine, versions (PublishStateMachineVersion, ListStateMachineVersions,
 * DeleteStateMachineVersion), tags, and ValidateStateMachineDefinition. Errors and idempotency follow the API
 * reference; what the local runtime does differently is in docs/adr/0016-step-functions-api-locally.md.
 */

export type StateMachineType = 'STANDARD' | 'EXPRESS';
const TYPES: readonly StateMachineType[] = ['STANDARD', 'EXPRESS'];

/** DescribeStateMachine's view of a state machine or of one of its versions. */
export interface MachineView {
  readonly arn: string;
  readonly name: string;
  readonly definition: string;
  readonly roleArn: string;
  readonly type: StateMachineType;
  /** Milliseconds since the epoch: the machine's creation, or the version's publication. */
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly logging: JsonObject;
  readonly tracing: JsonObject;
  readonly encryption: JsonObject | null;
  readonly revisionId: string | null;
  readonly description: string | null;
}

export interface CreateStateMachineInput {
  readonly name?: unknown;
  readonly definition?: unknown;
  readonly roleArn?: unknown;
  readonly type?: unknown;
  readonly loggingConfiguration?: unknown;
  readonly tracingConfiguration?: unknown;
  readonly encryptionConfiguration?: unknown;
  readonly tags?: unknown;
  readonly publish?: unknown;
  readonly versionDescription?: unknown;
  /** The runtime's own start: update the machine to this definition, as a deploy would. */
  readonly replace?: boolean;
}

const OFF = { level: 'OFF', includeExecutionData: false };
const UNTRACED = { enabled: false };

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function definitionHash(definition: string): string {
  return createHash('sha256').update(definition).digest('hex').slice(0, 32);
}

function description(value: unknown, member: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length > 256) {
    throw constraint(member, value, 'Member must have length less than or equal to 256');
  }
  return value;
}

export class StateMachines {
  private readonly compiled = new Map<string, CompiledStateMachine>();

  public constructor(
    private readonly engine: Engine,
    private readonly store: ExecutionStore,
    private readonly details: MachineDetailsStore,
    private readonly arnOf: (name: string) => string,
    private readonly accountId: string,
    /** Stops the running executions of a machine that is being deleted (states.ts). */
    private readonly stopRunning: (machineArn: string) => void,
  ) {}

  // ------------------------------------------------------------------------------------------ lookups

  /** The stored machine of an unqualified ARN, or StateMachineDoesNotExist. */
  public record(arn: unknown): StateMachineRecord {
    const parsed = parseMachineArn(arn);
    const record = parsed.kind === 'machine' ? this.store.getStateMachine(parsed.arn) : undefined;
    if (!record) throw new StateMachineDoesNotExistError(parsed.arn);
    return record;
  }

  /** Compiles a definition once per ARN and revision. */
  public compile(key: string, definition: string): CompiledStateMachine {
    const cacheKey = `${key}#${definitionHash(definition)}`;
    let machine = this.compiled.get(cacheKey);
    if (!machine) {
      machine = this.engine.validate(definition);
      this.compiled.set(cacheKey, machine);
    }
    return machine;
  }

  /** DescribeStateMachine: a machine, or a version (`...:stateMachine:name:3`). */
  public describe(arn: unknown): MachineView {
    const parsed = parseMachineArn(arn);
    if (parsed.kind === 'version') {
      const v = this.details.version(parsed.arn);
      if (!v) throw new StateMachineDoesNotExistError(parsed.arn);
      return this.versionView(v);
    }
    const record = parsed.kind === 'machine' ? this.store.getStateMachine(parsed.arn) : undefined;
    if (!record) throw new StateMachineDoesNotExistError(parsed.arn);
    const settings = this.details.settings(record.arn);
    return {
      arn: record.arn,
      name: record.name,
      definition: record.definition,
      roleArn: record.roleArn,
      type: record.type,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      logging: settings.logging ?? OFF,
      tracing: settings.tracing ?? UNTRACED,
      encryption: settings.encryption,
      revisionId: settings.revision,
      description: null,
    };
  }

  private versionView(v: VersionRecord): MachineView {
    return {
      arn: v.arn,
      name: v.machineArn.slice(v.machineArn.lastIndexOf(':') + 1),
      definition: v.definition,
      roleArn: v.roleArn,
      type: v.type,
      createdAt: v.createdAt,
      updatedAt: v.createdAt,
      logging: v.logging ?? OFF,
      tracing: v.tracing ?? UNTRACED,
      encryption: v.encryption,
      revisionId: v.revision === 'INITIAL' ? null : v.revision,
      description: v.description,
    };
  }

  public list(maxResults: unknown, nextToken: unknown): { items: StateMachineRecord[]; next: string | null } {
    const page = guard(() => this.store.listStateMachines(pageSize(maxResults), pageToken(nextToken)));
    return { items: [...page.items], next: page.next };
  }

  // ------------------------------------------------------------------------------------------ create, update

  private validDefinition(definition: unknown, type: StateMachineType): string {
    if (typeof definition !== 'string' || definition === '') throw required('definition');
    const machine = this.engine.validate(definition);
    const problems = expressProblems(machine, type);
    if (problems.length > 0) throw new InvalidDefinitionError(problems);
    return definition;
  }

  /**
   * CreateStateMachine. Idempotent as AWS's: the same name, definition, type, logging and tracing answer the
   * existing machine (a different role or tags are ignored, as AWS ignores them); anything else under the same
   * name is `StateMachineAlreadyExists`, unless `replace`.
   */
  public create(input: CreateStateMachineInput): {
    stateMachineArn: string;
    creationDate: Date;
    stateMachineVersionArn?: string;
  } {
    const name = input.name;
    if (typeof name !== 'string' || !validExecutionName(name))
      throw new InvalidNameError(`Invalid Name: '${String(name)}'`);
    const type = enumValue('type', input.type, TYPES) ?? 'STANDARD';
    const definition = this.validDefinition(input.definition, type);
    const roleArn =
      typeof input.roleArn === 'string' ? input.roleArn : `arn:aws:iam::${this.accountId}:role/stepline-local`;
    if (!roleArn.startsWith('arn:')) {
      throw new InvalidArnError(`Invalid Arn: 'Resource type not valid in this context: ${roleArn}'`);
    }
    const logging = loggingConfiguration(input.loggingConfiguration);
    const tracing = tracingConfiguration(input.tracingConfiguration);
    const encryption = encryptionConfiguration(input.encryptionConfiguration);
    const tags = tagList(input.tags);
    if (new Set(tags.map((t) => t.key)).size > MAX_TAGS) throw tooManyTags(this.arnOf(name), tags.length);
    const publish = input.publish === true;
    const versionDescription = description(input.versionDescription, 'versionDescription');
    if (versionDescription !== null && !publish) {
      throw new ValidationError('Version description can only be set when publish is true');
    }
    const arn = this.arnOf(name);
    const existing = this.store.getStateMachine(arn);
    if (existing && !input.replace) {
      const settings = this.details.settings(arn);
      const same =
        existing.revisionId === definitionHash(definition) &&
        existing.type === type &&
        sameJson(settings.logging ?? OFF, logging ?? OFF) &&
        sameJson(settings.tracing ?? UNTRACED, tracing ?? UNTRACED);
      if (!same) throw new StateMachineAlreadyExistsError(arn);
      const version = publish ? this.publishCurrent(existing, versionDescription) : undefined;
      return {
        stateMachineArn: arn,
        creationDate: new Date(existing.createdAt),
        ...(version ? { stateMachineVersionArn: version.arn } : {}),
      };
    }
    const now = Date.now();
    const record: StateMachineRecord = {
      arn,
      name,
      definition,
      roleArn,
      type,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
      revisionId: definitionHash(definition),
    };
    this.store.putStateMachine(record);
    const previous = existing ? this.details.settings(arn) : null;
    const changed = previous !== null && existing?.revisionId !== record.revisionId;
    this.details.putSettings(arn, {
      logging: logging ?? previous?.logging ?? null,
      tracing: tracing ?? previous?.tracing ?? null,
      encryption: encryption ?? previous?.encryption ?? null,
      revision: changed ? randomUUID() : (previous?.revision ?? null),
    });
    if (!existing && tags.length) this.details.tag(arn, tags);
    const version = publish ? this.publishCurrent(record, versionDescription) : undefined;
    return {
      stateMachineArn: arn,
      creationDate: new Date(record.createdAt),
      ...(version ? { stateMachineVersionArn: version.arn } : {}),
    };
  }

  /** UpdateStateMachine: a new revision when anything changes; `publish` makes it a version. */
  public update(input: {
    stateMachineArn?: unknown;
    definition?: unknown;
    roleArn?: unknown;
    loggingConfiguration?: unknown;
    tracingConfiguration?: unknown;
    encryptionConfiguration?: unknown;
    publish?: unknown;
    versionDescription?: unknown;
  }): { updateDate: Date; revisionId?: string; stateMachineVersionArn?: string } {
    const parsed = parseMachineArn(input.stateMachineArn);
    if (parsed.kind !== 'machine') {
      throw new ValidationError(`Only an unqualified state machine ARN can be updated: '${parsed.arn}'`);
    }
    const record = this.record(parsed.arn);
    const given = ['definition', 'roleArn', 'loggingConfiguration', 'tracingConfiguration', 'encryptionConfiguration'];
    if (!given.some((k) => input[k as keyof typeof input] !== undefined && input[k as keyof typeof input] !== null)) {
      throw new MissingRequiredParameterError(
        'Either the definition, the role ARN, the LoggingConfiguration, the EncryptionConfiguration or the TracingConfiguration must be specified',
      );
    }
    const publish = input.publish === true;
    const versionDescription = description(input.versionDescription, 'versionDescription');
    if (versionDescription !== null && !publish) {
      throw new ValidationError('Version description can only be set when publish is true');
    }
    const definition =
      input.definition === undefined ? record.definition : this.validDefinition(input.definition, record.type);
    if (input.roleArn !== undefined && (typeof input.roleArn !== 'string' || !input.roleArn.startsWith('arn:'))) {
      throw new InvalidArnError(`Invalid Arn: 'Resource type not valid in this context: ${String(input.roleArn)}'`);
    }
    const settings = this.details.settings(record.arn);
    const next = {
      logging: loggingConfiguration(input.loggingConfiguration) ?? settings.logging,
      tracing: tracingConfiguration(input.tracingConfiguration) ?? settings.tracing,
      encryption: encryptionConfiguration(input.encryptionConfiguration) ?? settings.encryption,
    };
    const roleArn = typeof input.roleArn === 'string' ? input.roleArn : record.roleArn;
    const changed =
      definition !== record.definition ||
      roleArn !== record.roleArn ||
      !sameJson(next.logging, settings.logging) ||
      !sameJson(next.tracing, settings.tracing) ||
      !sameJson(next.encryption, settings.encryption);
    const now = Date.now();
    let current = record;
    let revision = settings.revision;
    if (changed) {
      current = { ...record, definition, roleArn, updatedAt: now, revisionId: definitionHash(definition) };
      revision = randomUUID();
      this.store.putStateMachine(current);
      this.details.putSettings(record.arn, { ...next, revision });
    }
    const version = publish ? this.publishCurrent(current, versionDescription) : undefined;
    return {
      updateDate: new Date(changed ? now : record.updatedAt),
      ...(revision ? { revisionId: revision } : {}),
      ...(version ? { stateMachineVersionArn: version.arn } : {}),
    };
  }

  /**
   * DeleteStateMachine. AWS marks the machine DELETING and deletes it once its executions have ended, ending them
   * at their next transition; here the running executions are stopped at once and the machine goes with its
   * versions and tags. An unknown machine is not an error, as on AWS; a qualified ARN is a ValidationException.
   */
  public delete(input: { stateMachineArn?: unknown }): void {
    const parsed = parseMachineArn(input.stateMachineArn);
    if (parsed.kind !== 'machine') {
      throw new ValidationError(
        `Invalid Arn: a qualified state machine ARN cannot be deleted with DeleteStateMachine: '${parsed.arn}' (use DeleteStateMachineVersion for a version)`,
      );
    }
    if (!this.store.getStateMachine(parsed.arn)) return;
    this.stopRunning(parsed.arn);
    this.details.deleteMachine(parsed.arn);
    for (const key of [...this.compiled.keys()]) if (key.startsWith(`${parsed.arn}#`)) this.compiled.delete(key);
  }

  // ------------------------------------------------------------------------------------------ versions

  /** Publishes the machine's current revision, or answers the version already published from it. */
  private publishCurrent(record: StateMachineRecord, versionDescription: string | null): VersionRecord {
    const settings = this.details.settings(record.arn);
    const revision = settings.revision ?? 'INITIAL';
    const existing = this.details.versionOfRevision(record.arn, revision);
    if (existing) return existing;
    return this.details.publish({
      machineArn: record.arn,
      definition: record.definition,
      roleArn: record.roleArn,
      type: record.type,
      logging: settings.logging,
      tracing: settings.tracing,
      encryption: settings.encryption,
      description: versionDescription,
      revision,
      createdAt: Date.now(),
    });
  }

  /** PublishStateMachineVersion: idempotent per revision; ConflictException when `revisionId` is not current. */
  public publish(input: { stateMachineArn?: unknown; revisionId?: unknown; description?: unknown }): VersionRecord {
    const record = this.record(input.stateMachineArn);
    const current = this.details.settings(record.arn).revision ?? 'INITIAL';
    if (input.revisionId !== undefined && input.revisionId !== null && input.revisionId !== current) {
      throw new ConflictError(
        `Failed to publish the State Machine version for revision ${String(input.revisionId)}. The current State Machine revision is ${current}.`,
      );
    }
    return this.publishCurrent(record, description(input.description, 'description'));
  }

  public versions(input: { stateMachineArn?: unknown; maxResults?: unknown; nextToken?: unknown }): {
    items: VersionRecord[];
    next: string | null;
  } {
    const parsed = parseMachineArn(input.stateMachineArn);
    if (parsed.kind !== 'machine')
      throw new ValidationError(`Expected an unqualified state machine ARN: '${parsed.arn}'`);
    const page = guard(() => this.details.versions(parsed.arn, pageSize(input.maxResults), pageToken(input.nextToken)));
    return { items: [...page.items], next: page.next };
  }

  /** DeleteStateMachineVersion: an unknown version is not an error. */
  public deleteVersion(input: { stateMachineVersionArn?: unknown }): void {
    const parsed = parseMachineArn(input.stateMachineVersionArn);
    if (parsed.kind !== 'version') throw new ValidationError(`Expected a state machine version ARN: '${parsed.arn}'`);
    this.details.deleteVersion(parsed.arn);
  }

  // ------------------------------------------------------------------------------------------ tags

  private taggable(arn: unknown): string {
    const parsed = parseMachineArn(arn);
    const found =
      parsed.kind === 'machine'
        ? this.store.getStateMachine(parsed.arn)
        : parsed.kind === 'version'
          ? this.details.version(parsed.arn)
          : undefined;
    if (!found) throw new ResourceNotFoundError(`Resource not found: '${parsed.arn}'`);
    return parsed.arn;
  }

  public tags(resourceArn: unknown): Tag[] {
    return this.details.tags(this.taggable(resourceArn));
  }

  public tag(input: { resourceArn?: unknown; tags?: unknown }): void {
    const arn = this.taggable(input.resourceArn);
    if (input.tags === undefined || input.tags === null) throw required('tags');
    const tags = tagList(input.tags);
    const keys = new Set([...this.details.tags(arn).map((t) => t.key), ...tags.map((t) => t.key)]);
    if (keys.size > MAX_TAGS) throw tooManyTags(arn, keys.size);
    this.details.tag(arn, tags);
  }

  public untag(input: { resourceArn?: unknown; tagKeys?: unknown }): void {
    const arn = this.taggable(input.resourceArn);
    const keys = input.tagKeys;
    if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) throw required('tagKeys');
    this.details.untag(arn, keys as string[]);
  }

  // ------------------------------------------------------------------------------------------ validation

  /** ValidateStateMachineDefinition: `FAIL` with the diagnostics of an invalid definition, else `OK`. */
  public validate(input: { definition?: unknown; type?: unknown; severity?: unknown; maxResults?: unknown }): {
    result: 'OK' | 'FAIL';
    diagnostics: { severity: string; code: string; message: string; location: string }[];
    truncated: boolean;
  } {
    if (typeof input.definition !== 'string' || input.definition === '') throw required('definition');
    const type = enumValue('type', input.type, TYPES) ?? 'STANDARD';
    enumValue('severity', input.severity, ['ERROR', 'WARNING']);
    const max = input.maxResults === undefined || input.maxResults === 0 ? 100 : input.maxResults;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 0 || max > 100) {
      throw constraint('maxResults', max, 'Member must have value less than or equal to 100');
    }
    let problems: readonly DefinitionDiagnostic[] = [];
    try {
      problems = expressProblems(this.engine.validate(input.definition), type);
    } catch (error) {
      if (!(error instanceof InvalidDefinitionError)) throw error;
      problems = error.diagnostics;
    }
    const diagnostics = problems.map((d) => ({
      severity: 'ERROR',
      code: d.code,
      message: d.message,
      location: d.location,
    }));
    return {
      result: diagnostics.length ? 'FAIL' : 'OK',
      diagnostics: diagnostics.slice(0, max),
      truncated: diagnostics.length > max,
    };
  }
}

/** Express workflows run neither `.sync` nor `.waitForTaskToken` integrations, nor activities. */
function expressProblems(machine: CompiledStateMachine, type: StateMachineType): DefinitionDiagnostic[] {
  if (type !== 'EXPRESS') return [];
  return machine.resources
    .filter((r) => r.pattern !== 'REQUEST_RESPONSE')
    .map((r) => ({
      code: 'SCHEMA_VALIDATION_FAILED',
      location: '/States',
      message: `Express state machines do not support the '${r.pattern === 'RUN_JOB' ? '.sync' : r.kind === 'activity' ? 'activity' : '.waitForTaskToken'}' service integration pattern: ${r.arn}`,
    }));
}

function guard<T>(f: () => T): T {
  try {
    return f();
  } catch (error) {
    if (error instanceof InvalidCursorError) throw new EngineApiError('InvalidToken', error.message);
    throw error;
  }
}
