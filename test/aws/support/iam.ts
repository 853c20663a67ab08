import { createHash } from 'node:crypto';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { StackValues } from './template';

/**
 * IAM for the AWS-composition suite: each role of the template is a principal with its policies as synthesized
 * (inline, and the `AWS::IAM::Policy` resources attached to it), given an access key of its own so that every
 * request signed with it is known to come from that role. Each call is evaluated with @cloud-copilot/iam-simulate
 * against the role's policies and the resource's policy (bucket policies, key policies), as AWS evaluates a
 * same-account request. Calls are recorded; a denied call is kept with the simulator's explanation, and the
 * statements no call ever matched are reported as permissions no scenario used.
 */

export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: readonly Statement[] | Statement;
}

export interface Statement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly NotResource?: string | readonly string[];
  readonly Principal?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

export interface Principal {
  /** The role's logical id. */
  readonly roleId: string;
  readonly roleArn: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly policies: readonly { readonly name: string; readonly document: PolicyDocument }[];
  /** Who uses the role: function and project names. */
  readonly users: string[];
}

/** One authorization AWS makes: an action on a resource, with the request's condition keys. */
export interface Authorization {
  readonly action: string;
  readonly resource: string;
  readonly context?: Readonly<Record<string, string | string[]>>;
}

export interface CallRecord {
  readonly principal: string;
  /** What the caller sent: `dynamodb:Query`, `s3:ListObjectsV2`, `lambda:Invoke (task)`. */
  readonly operation: string;
  readonly authorization: Authorization;
  readonly allowed: boolean;
  /** For a denial: the statements the simulator looked at, and why none allowed it. */
  readonly explanation?: string;
}

const asList = <T>(value: T | readonly T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? [...(value as T[])] : [value as T];

export class IamModel {
  public readonly principals = new Map<string, Principal>();
  private readonly byKey = new Map<string, Principal>();
  public readonly calls: CallRecord[] = [];
  /** Resource policies by resource ARN prefix: bucket ARN (covers its objects), key ARN. */
  private readonly resourcePolicies: { readonly prefix: string; readonly document: PolicyDocument }[] = [];

  public constructor(private readonly values: StackValues) {
    for (const roleId of values.resourcesOf('AWS::IAM::Role')) {
      const role = values.resource(roleId);
      const inline = asList(role.Properties?.['Policies'] as { PolicyName: unknown; PolicyDocument: unknown }[]).map(
        (p) => ({ name: values.string(p.PolicyName), document: values.resolve(p.PolicyDocument) as PolicyDocument }),
      );
      if (asList(role.Properties?.['ManagedPolicyArns'] as unknown[]).length > 0) {
        throw new Error(`${roleId} has managed policies: the suite does not know their documents yet`);
      }
      const digest = createHash('sha256').update(roleId).digest('hex').toUpperCase();
      const principal: Principal = {
        roleId,
        roleArn: values.attribute(roleId, 'Arn'),
        accessKeyId: `AKIAE2E${digest.slice(0, 13)}`,
        secretAccessKey: digest.slice(13, 53),
        policies: inline,
        users: [],
      };
      this.principals.set(roleId, principal);
      this.byKey.set(principal.accessKeyId, principal);
    }
    for (const policyId of values.resourcesOf('AWS::IAM::Policy')) {
      const props = values.resource(policyId).Properties ?? {};
      for (const role of asList(props['Roles'] as { Ref?: string }[])) {
        const principal = role.Ref ? this.principals.get(role.Ref) : undefined;
        if (!principal) continue;
        (principal.policies as { name: string; document: PolicyDocument }[]).push({
          name: policyId,
          document: values.resolve(props['PolicyDocument']) as PolicyDocument,
        });
      }
    }
    for (const id of values.resourcesOf('AWS::S3::BucketPolicy')) {
      const props = values.resource(id).Properties ?? {};
      const bucket = values.string(props['Bucket']);
      this.resourcePolicies.push({
        prefix: `arn:${values.partition}:s3:::${bucket}`,
        document: values.resolve(props['PolicyDocument']) as PolicyDocument,
      });
    }
    for (const id of values.resourcesOf('AWS::KMS::Key')) {
      const props = values.resource(id).Properties ?? {};
      this.resourcePolicies.push({
        prefix: values.attribute(id, 'Arn'),
        document: values.resolve(props['KeyPolicy']) as PolicyDocument,
      });
    }
  }

  /** The role a resource's `Role` property (a function's, a project's `ServiceRole`) names, by its logical id. */
  public roleIdOf(roleProperty: unknown): string {
    const id = StackValues.targetOf(roleProperty);
    if (!id || !this.principals.has(id)) throw new Error(`cannot tell which role ${JSON.stringify(roleProperty)} is`);
    return id;
  }

  public principal(roleId: string): Principal {
    const principal = this.principals.get(roleId);
    if (!principal) throw new Error(`no role ${roleId} in the template`);
    return principal;
  }

  public principalOfKey(accessKeyId: string): Principal | undefined {
    return this.byKey.get(accessKeyId);
  }

  /** Evaluates and records one call's authorizations; true when AWS would allow all of them. */
  public async authorize(
    principal: Principal,
    operation: string,
    authorizations: readonly Authorization[],
  ): Promise<boolean> {
    let all = true;
    for (const authorization of authorizations) {
      const { allowed, explanation } = await this.evaluate(principal, authorization);
      this.calls.push({
        principal: principal.roleId,
        operation,
        authorization,
        allowed,
        ...(explanation ? { explanation } : {}),
      });
      all &&= allowed;
    }
    return all;
  }

  private async evaluate(
    principal: Principal,
    { action, resource, context }: Authorization,
  ): Promise<{ allowed: boolean; explanation?: string }> {
    const resourcePolicy = this.resourcePolicies.find(
      (p) => resource === p.prefix || resource.startsWith(`${p.prefix}/`),
    )?.document;
    const result = await runSimulation(
      {
        identityPolicies: principal.policies.map((p) => ({ name: p.name, policy: p.document as never })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(resourcePolicy ? { resourcePolicy: resourcePolicy as never } : {}),
        request: {
          principal: principal.roleArn,
          action,
          resource: { resource, accountId: this.values.accountId },
          contextVariables: {
            'aws:SecureTransport': 'true',
            'aws:PrincipalArn': principal.roleArn,
            'aws:PrincipalAccount': this.values.accountId,
            'aws:RequestedRegion': this.values.region,
            ...(context ?? {}),
          },
        },
      },
      {},
    );
    const errors = (result as { errors?: unknown }).errors;
    if (errors) return { allowed: false, explanation: `the simulator refused the request: ${JSON.stringify(errors)}` };
    const overall = (result as { overallResult?: string }).overallResult;
    if (overall === 'Allowed') return { allowed: true };
    return { allowed: false, explanation: `${overall ?? 'unknown'}: ${JSON.stringify(result).slice(0, 1500)}` };
  }

  /** The denied calls, one line each, naming the role's users, the action and the resource. */
  public denials(): string[] {
    return this.calls
      .filter((c) => !c.allowed)
      .map((c) => {
        const users = this.principal(c.principal).users.join(', ') || c.principal;
        return `${users}: ${c.authorization.action} on ${c.authorization.resource} (${c.operation}) is not allowed by role ${c.principal}`;
      });
  }

  /**
   * The granted permissions no recorded call used: for each Allow statement of each role, its action and resource
   * patterns that matched no allowed call.
   */
  public unused(): { role: string; users: string; action: string; resource: string }[] {
    const out: { role: string; users: string; action: string; resource: string }[] = [];
    for (const principal of this.principals.values()) {
      const used = this.calls.filter((c) => c.principal === principal.roleId && c.allowed);
      for (const policy of principal.policies) {
        for (const statement of asList(policy.document.Statement)) {
          if (statement.Effect !== 'Allow') continue;
          for (const action of asList(statement.Action)) {
            for (const resource of asList(statement.Resource)) {
              const hit = used.some(
                (c) => wildcard(action, c.authorization.action, true) && wildcard(resource, c.authorization.resource),
              );
              if (!hit) out.push({ role: principal.roleId, users: principal.users.join(', '), action, resource });
            }
          }
        }
      }
    }
    return out;
  }
}

/** IAM's `*` and `?` matching; actions compare without case, resources with it. */
export function wildcard(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
}
