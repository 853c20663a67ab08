import { EngineApiError } from '../../engine';
import type { JsonObject, Tag } from '../../store';
import { InvalidArnError, InvalidLoggingConfigurationError, TooManyTagsError, ValidationError } from './states-errors';

/**
 * The checks the Step Functions API makes on its request members, with the API reference's error codes and, where
 * the reference gives one, its message. Shared by the state machine operations (state-machines.ts) and the
 * execution ones (states.ts).
 */

const MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:([^:/\s]+)$/;
const VERSION_ARN = /^(arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:/\s]+):(\d+)$/;

/** `1 validation error detected: Value 'x' at 'member' failed to satisfy constraint: ...`, as AWS writes it. */
export function constraint(member: string, value: unknown, rule: string): ValidationError {
  return new ValidationError(
    `1 validation error detected: Value ${value === undefined || value === null ? 'null' : `'${String(value)}'`} at '${member}' failed to satisfy constraint: ${rule}`,
  );
}

export function required(member: string): ValidationError {
  return constraint(member, null, 'Member must not be null');
}

export function enumValue<T extends string>(member: string, value: unknown, values: readonly T[]): T | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
    throw constraint(member, value, `Member must satisfy enum value set: [${values.join(', ')}]`);
  }
  return value as T;
}

export type ParsedMachineArn =
  | { kind: 'machine'; arn: string; name: string }
  | { kind: 'version'; arn: string; machineArn: string; version: number }
  | { kind: 'qualified'; arn: string };

/** A state machine ARN, a version ARN (`...:stateMachine:name:3`), or another qualified one (a map run's label). */
export function parseMachineArn(value: unknown): ParsedMachineArn {
  if (typeof value !== 'string' || value === '') throw new InvalidArnError(`Invalid Arn: '${String(value)}'`);
  const machine = MACHINE_ARN.exec(value);
  if (machine) return { kind: 'machine', arn: value, name: machine[1] as string };
  const version = VERSION_ARN.exec(value);
  if (version) return { kind: 'version', arn: value, machineArn: version[1] as string, version: Number(version[2]) };
  if (/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:\s]+/.test(value))
    return { kind: 'qualified', arn: value };
  throw new InvalidArnError(`Invalid Arn: 'Resource type not valid in this context: ${value}'`);
}

/** A page size: 0 or absent is the default (100), at most 1000. */
export function pageSize(value: unknown, max = 1000): number {
  if (value === undefined || value === null || value === 0) return 100;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw constraint('maxResults', value, `Member must have value less than or equal to ${max}`);
  }
  return value;
}

export function pageToken(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string')
    throw new EngineApiError('InvalidToken', 'Invalid Token: the pagination token must be a string');
  return value;
}

const LOG_LEVELS = ['ALL', 'ERROR', 'FATAL', 'OFF'] as const;

/**
 * A LoggingConfiguration, normalized as DescribeStateMachine gives it back (`level` OFF and `includeExecutionData`
 * false by default). A level other than OFF takes exactly one destination, a CloudWatch Logs log group: AWS
 * answers `InvalidLoggingConfiguration` otherwise ("Must specify exactly one Log Destination.").
 */
export function loggingConfiguration(value: unknown): JsonObject | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value))
    throw constraint('loggingConfiguration', value, 'Member must be a structure');
  const input = value as Record<string, unknown>;
  const level = enumValue('loggingConfiguration.level', input['level'], LOG_LEVELS) ?? 'OFF';
  const include = input['includeExecutionData'];
  if (include !== undefined && typeof include !== 'boolean') {
    throw constraint('loggingConfiguration.includeExecutionData', include, 'Member must be a boolean');
  }
  const destinations = input['destinations'];
  if (destinations !== undefined && !Array.isArray(destinations)) {
    throw constraint('loggingConfiguration.destinations', destinations, 'Member must be a list');
  }
  const list = (destinations ?? []) as unknown[];
  if (list.length > 1 || (level !== 'OFF' && list.length === 0)) {
    throw new InvalidLoggingConfigurationError(
      'Invalid Logging Configuration: Must specify exactly one Log Destination.',
    );
  }
  for (const d of list) {
    const arn = (d as { cloudWatchLogsLogGroup?: { logGroupArn?: unknown } } | null)?.cloudWatchLogsLogGroup
      ?.logGroupArn;
    if (typeof arn !== 'string' || !/^arn:aws[a-z-]*:logs:[a-z0-9-]+:\d{12}:log-group:.+/.test(arn)) {
      throw new InvalidLoggingConfigurationError(
        `Invalid Logging Configuration: the destination must be a CloudWatch Logs log group ARN, got '${String(arn)}'.`,
      );
    }
  }
  return {
    level,
    includeExecutionData: include === true,
    ...(list.length ? { destinations: list as JsonObject[] } : {}),
  };
}

export function tracingConfiguration(value: unknown): JsonObject | null {
  if (value === undefined || value === null) return null;
  const enabled = (value as { enabled?: unknown }).enabled;
  if (typeof value !== 'object' || (enabled !== undefined && typeof enabled !== 'boolean')) {
    throw constraint('tracingConfiguration.enabled', enabled, 'Member must be a boolean');
  }
  return { enabled: enabled === true };
}

const ENCRYPTION_TYPES = ['AWS_OWNED_KEY', 'CUSTOMER_MANAGED_KMS_KEY'] as const;

/** Kept and described; the local runtime encrypts nothing. */
export function encryptionConfiguration(value: unknown): JsonObject | null {
  if (value === undefined || value === null) return null;
  const input = value as Record<string, unknown>;
  const type = enumValue('encryptionConfiguration.type', input['type'], ENCRYPTION_TYPES);
  if (!type) throw required('encryptionConfiguration.type');
  const out: JsonObject = { type };
  if (typeof input['kmsKeyId'] === 'string') out['kmsKeyId'] = input['kmsKeyId'];
  if (typeof input['kmsDataKeyReusePeriodSeconds'] === 'number') {
    out['kmsDataKeyReusePeriodSeconds'] = input['kmsDataKeyReusePeriodSeconds'];
  }
  return out;
}

/** Tag keys and values: Unicode letters, digits, white space, and `_ . : / = + - @` (the API reference). */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
export const MAX_TAGS = 50;

export function tagList(value: unknown, member = 'tags'): Tag[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw constraint(member, value, 'Member must be a list');
  return value.map((t: unknown, i) => {
    const key = (t as { key?: unknown } | null)?.key;
    const tagValue = (t as { value?: unknown } | null)?.value ?? '';
    if (typeof key !== 'string' || key.length < 1 || key.length > 128 || !TAG_TEXT.test(key)) {
      throw constraint(
        `${member}.${i + 1}.member.key`,
        key,
        'Member must have length between 1 and 128, of letters, digits, spaces and _.:/=+-@',
      );
    }
    if (typeof tagValue !== 'string' || tagValue.length > 256 || !TAG_TEXT.test(tagValue)) {
      throw constraint(
        `${member}.${i + 1}.member.value`,
        tagValue,
        'Member must have length less than or equal to 256, of letters, digits, spaces and _.:/=+-@',
      );
    }
    return { key, value: tagValue };
  });
}

export function tooManyTags(resourceArn: string, count: number): TooManyTagsError {
  return new TooManyTagsError(
    `Too many tags: ${resourceArn} would have ${count} tags; a resource takes at most ${MAX_TAGS}`,
    resourceArn,
  );
}
