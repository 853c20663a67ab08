import type { MotoClients } from '../clients';
import type { PseudoParameters, ReturnValues } from '../resolver';

/** A resource type the stand-ins create: the properties it applies, and how it creates one resource. */
export interface StandInKind {
  readonly type: string;
  /** Every property the kind applies; any other is an UnsupportedProperty error. */
  readonly properties: readonly string[];
  create(input: CreateInput): Promise<ReturnValues>;
}

export interface CreateInput {
  readonly logicalId: string;
  /** The resource's properties with every intrinsic evaluated. */
  readonly properties: Readonly<Record<string, unknown>>;
  readonly clients: MotoClients;
  readonly pseudo: PseudoParameters;
  /** The name the template sets, or one generated as CloudFormation does: `Stack-LogicalId-RANDOM`, cut to `max`. */
  readonly generatedName: (max: number) => string;
}

export class UnsupportedProperty extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'UnsupportedProperty';
  }
}

/** Throws UnsupportedProperty for any key of `value` not in `allowed` (a sub-property the kind does not apply). */
export function allowOnly(value: unknown, allowed: readonly string[], where: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UnsupportedProperty(`${where} is not an object: ${JSON.stringify(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new UnsupportedProperty(
        `${where}.${key} is not stood in by test/support/moto (it takes ${allowed.join(', ')})`,
      );
    }
  }
  return value as Record<string, unknown>;
}

/** CloudFormation's `Tags` list (`[{Key, Value}]`), checked. */
export function tagList(value: unknown, where: string): { Key: string; Value: string }[] {
  return ((value as unknown[] | undefined) ?? []).map((tag, i) => {
    const { Key, Value } = allowOnly(tag, ['Key', 'Value'], `${where}[${i}]`);
    return { Key: String(Key), Value: String(Value) };
  });
}
