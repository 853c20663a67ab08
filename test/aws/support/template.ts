import type { TemplateResolver } from '../../support/moto/resolver';
import type { CfnResource, CfnTemplate } from '../../support/moto/template';

export type { CfnResource, CfnTemplate } from '../../support/moto/template';

/**
 * The synthesized stack as the suite reads it: the template, and its values in one account and region through
 * the moto stand-in's resolver (`Ref`, `Fn::GetAtt`, conditions, as CloudFormation gives them). Whatever the suite
 * needs from the platform it reads from here; nothing is written twice by hand.
 */
export class StackValues {
  public constructor(
    public readonly template: CfnTemplate,
    public readonly resolver: TemplateResolver,
  ) {}

  public get region(): string {
    return this.resolver.pseudo['AWS::Region'];
  }

  public get accountId(): string {
    return this.resolver.pseudo['AWS::AccountId'];
  }

  public get partition(): string {
    return this.resolver.pseudo['AWS::Partition'];
  }

  /** The logical ids of the resources of a type that exist (their condition, if any, holds). */
  public resourcesOf(type: string): string[] {
    return Object.entries(this.template.Resources)
      .filter(([, r]) => r.Type === type && (r.Condition === undefined || this.resolver.condition(r.Condition)))
      .map(([id]) => id);
  }

  public resource(logicalId: string): CfnResource {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`the template has no resource ${logicalId}`);
    return resource;
  }

  public properties(logicalId: string): Record<string, unknown> {
    return this.resource(logicalId).Properties ?? {};
  }

  public resolve<T = unknown>(value: unknown): T {
    return this.resolver.resolve<T>(value);
  }

  public string(value: unknown): string {
    const resolved = this.resolver.resolve(value);
    if (typeof resolved !== 'string') throw new Error(`expected a string, got ${JSON.stringify(resolved)}`);
    return resolved;
  }

  public ref(logicalId: string): string {
    return this.resolver.ref(logicalId);
  }

  public attribute(logicalId: string, name: string): string {
    return this.resolver.getAtt(logicalId, name);
  }

  /** The logical id a `{ "Fn::GetAtt": [id, attr] }` or `{ "Ref": id }` names. */
  public static targetOf(value: unknown): string | undefined {
    const record = value as { 'Fn::GetAtt'?: [string, string]; Ref?: string } | undefined;
    return record?.['Fn::GetAtt']?.[0] ?? record?.Ref;
  }
}
