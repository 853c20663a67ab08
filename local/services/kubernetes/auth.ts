import { StatusError } from './status';

/**
 * Authentication (bearer tokens) and a small RBAC-like authorizer for the simulated API server: every
 * authenticated user may do everything, except what a deny rule matches. Denials are worded as the real API
 * server words them, so that a deployer's 403 handling meets real messages.
 */

export interface UserInfo {
  readonly name: string;
  readonly groups: readonly string[];
}

export interface RequestAttributes {
  readonly user: UserInfo;
  /** get, list, watch, create, update, patch, delete. */
  readonly verb: string;
  readonly group: string;
  /** The plural resource name, `deployments`; a subresource as `deployments/status`. */
  readonly resource: string;
  readonly namespace?: string;
  readonly name?: string;
}

/** A denial: every field that is set must match (lists match any of their entries). */
export interface DenyRule {
  readonly users?: readonly string[];
  readonly verbs?: readonly string[];
  /** `deployments`, `deployments.apps`, `secrets`. */
  readonly resources?: readonly string[];
  readonly namespaces?: readonly string[];
}

/** Authenticates a bearer token the static table does not know (an EKS token); null when it does not either. */
export type TokenAuthenticator = (token: string) => UserInfo | null | Promise<UserInfo | null>;

/** Whether a user may make a request, beyond the deny rules (an EKS access policy's scope); false denies it. */
export type RequestPolicy = (attributes: RequestAttributes) => boolean;

export class Authorizer {
  private readonly tokens = new Map<string, UserInfo>();
  private rules: DenyRule[] = [];
  private readonly authenticators: TokenAuthenticator[] = [];
  private readonly policies: RequestPolicy[] = [];

  public addToken(token: string, user: UserInfo): void {
    this.tokens.set(token, user);
  }

  /** Consulted, in order, for a token that no `addToken` gave. */
  public addAuthenticator(authenticator: TokenAuthenticator): void {
    this.authenticators.push(authenticator);
  }

  /** Every policy must allow a request; one that does not denies it with the API server's 403. */
  public addPolicy(policy: RequestPolicy): void {
    this.policies.push(policy);
  }

  public removeToken(token: string): void {
    this.tokens.delete(token);
  }

  public deny(rule: DenyRule): void {
    this.rules.push(rule);
  }

  public clearDenials(): void {
    this.rules = [];
  }

  /** The user of an Authorization header; throws 401 otherwise. */
  public async authenticate(header: string | undefined): Promise<UserInfo> {
    const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    const token = match?.[1];
    let user = token ? this.tokens.get(token) : undefined;
    for (const authenticate of this.authenticators) {
      if (user || !token) break;
      user = (await authenticate(token)) ?? undefined;
    }
    if (!user) throw new StatusError(401, 'Unauthorized', 'Unauthorized');
    return user;
  }

  /** Whether a request would be allowed (a SelfSubjectAccessReview's answer); never throws. */
  public allows(attributes: RequestAttributes): boolean {
    try {
      this.authorize(attributes);
      return true;
    } catch {
      return false;
    }
  }

  public authorize(attributes: RequestAttributes): void {
    const denied = this.rules.some((rule) => {
      const qualified = attributes.group ? `${attributes.resource}.${attributes.group}` : attributes.resource;
      return (
        (!rule.users || rule.users.includes(attributes.user.name)) &&
        (!rule.verbs || rule.verbs.includes(attributes.verb)) &&
        (!rule.resources || rule.resources.includes(attributes.resource) || rule.resources.includes(qualified)) &&
        (!rule.namespaces || (attributes.namespace !== undefined && rule.namespaces.includes(attributes.namespace)))
      );
    });
    if (!denied && this.policies.every((allows) => allows(attributes))) return;
    const [base, sub] = attributes.resource.split('/');
    const qualified = attributes.group ? `${base}.${attributes.group}` : base!;
    const subject = attributes.name ? `${qualified} "${attributes.name}"` : qualified;
    const what = sub ? `resource "${base}/${sub}"` : `resource "${base}"`;
    const where = attributes.namespace ? `in the namespace "${attributes.namespace}"` : 'at the cluster scope';
    const message = `${subject} is forbidden: User "${attributes.user.name}" cannot ${attributes.verb} ${what} in API group "${attributes.group}" ${where}`;
    const details: Record<string, unknown> = { group: attributes.group, kind: base };
    if (attributes.name) details['name'] = attributes.name;
    throw new StatusError(403, 'Forbidden', message, details);
  }
}
