import { createEksToken, TOKEN_PREFIX } from '../../../adapters/kubernetes/token';
import type { SimulatedKubernetes } from '../../../local/services/kubernetes';
import type { RequestAttributes, UserInfo } from '../../../local/services/kubernetes/auth';
import type { ServiceAnswer } from './aws-endpoint';
import type { IamModel } from './iam';
import type { StackValues } from './template';

/**
 * Amazon EKS for the suite, over the simulated Kubernetes API server:
 * - `DescribeCluster` answers for the clusters a scenario declares, with the simulated server's endpoint and CA and
 *   the cluster's authentication mode;
 * - the API server accepts EKS bearer tokens (`k8s-aws-v1.` + a presigned STS GetCallerIdentity URL for the
 *   cluster) whose signature is good for one of the template's roles, and authenticates the role as EKS does;
 * - an authenticated role may do only what the template's `AWS::EKS::AccessEntry` for that cluster grants:
 *   `AmazonEKSEditPolicy` scoped to its namespaces (no cluster-scoped objects), on the built-in API groups that
 *   policy lists (EKS user guide, "Review access policy permissions": apps, batch, core, ...; never a custom
 *   resource such as Argo CD's `argoproj.io`), and what RBAC Roles in the cluster grant the entry's
 *   `KubernetesGroups` through RoleBindings ("Create an access entry using Kubernetes groups"). A cluster whose
 *   authentication mode is `CONFIG_MAP` has no access entries at all (EKS refuses to create them), so nothing is
 *   authorized there.
 */

export interface EksCluster {
  readonly name: string;
  /** `API`, `API_AND_CONFIG_MAP` or `CONFIG_MAP`. */
  readonly authenticationMode: string;
}

interface AccessScope {
  readonly principalArn: string;
  readonly cluster: string;
  readonly kubernetesGroups: readonly string[];
  readonly policies: readonly { readonly policy: string; readonly namespaces: readonly string[] | null }[];
}

const EDIT_VERBS = new Set(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection']);
/** The API groups AmazonEKSEditPolicy's rules name (AmazonEKSAdminPolicy adds RBAC and access reviews). */
const EDIT_GROUPS = new Set([
  '',
  'apps',
  'autoscaling',
  'batch',
  'discovery.k8s.io',
  'extensions',
  'networking.k8s.io',
  'policy',
]);
const ADMIN_GROUPS = new Set([...EDIT_GROUPS, 'rbac.authorization.k8s.io', 'authorization.k8s.io']);

interface RbacRule {
  readonly apiGroups?: string[];
  readonly resources?: string[];
  readonly resourceNames?: string[];
  readonly verbs?: string[];
}

export class EksStandIn {
  private readonly clusters = new Map<string, EksCluster>();
  private readonly entries: AccessScope[];
  /** Tokens that were presented and refused, with the reason (for the test's failure message). */
  public readonly refusedTokens: string[] = [];

  public constructor(
    private readonly values: StackValues,
    private readonly iam: IamModel,
    private readonly kubernetes: SimulatedKubernetes,
    clusters: readonly EksCluster[],
  ) {
    for (const cluster of clusters) this.clusters.set(cluster.name, cluster);
    this.entries = values.resourcesOf('AWS::EKS::AccessEntry').map((id) => {
      const props = values.resolve<Record<string, unknown>>(values.properties(id));
      const policies = (
        (props['AccessPolicies'] ?? []) as { PolicyArn: string; AccessScope: { Type: string; Namespaces?: string[] } }[]
      ).map((p) => ({
        policy: p.PolicyArn.split('/').pop() ?? p.PolicyArn,
        namespaces: p.AccessScope.Type === 'namespace' ? (p.AccessScope.Namespaces ?? []) : null,
      }));
      return {
        principalArn: String(props['PrincipalArn']),
        cluster: String(props['ClusterName']),
        kubernetesGroups: ((props['KubernetesGroups'] ?? []) as string[]).map(String),
        policies,
      };
    });
    kubernetes.authorizer.addAuthenticator((token) => this.authenticate(token));
    kubernetes.authorizer.addPolicy((attributes) => this.allows(attributes));
  }

  /** Adds a cluster, or changes one (its authentication mode, as `update-cluster-config` would). */
  public setCluster(cluster: EksCluster): void {
    this.clusters.set(cluster.name, cluster);
  }

  /** The clusters that exist. */
  public get clusterList(): EksCluster[] {
    return [...this.clusters.values()];
  }

  /** `GET /clusters/{name}` of the EKS API. */
  public async describeCluster(request: { method: string; path: string }): Promise<ServiceAnswer> {
    const name = decodeURIComponent(/^\/clusters\/([^/?]+)/.exec(request.path)?.[1] ?? '');
    const cluster = this.clusters.get(name);
    const json = (status: number, body: unknown, errorType?: string): ServiceAnswer => ({
      status,
      headers: { 'content-type': 'application/json', ...(errorType ? { 'x-amzn-errortype': errorType } : {}) },
      body: JSON.stringify(body),
    });
    if (!cluster) return json(404, { message: `No cluster found for name: ${name}.` }, 'ResourceNotFoundException');
    return json(200, {
      cluster: {
        name,
        arn: `arn:${this.values.partition}:eks:${this.values.region}:${this.values.accountId}:cluster/${name}`,
        status: 'ACTIVE',
        version: '1.33',
        endpoint: this.kubernetes.url,
        certificateAuthority: { data: Buffer.from(this.kubernetes.caPem).toString('base64') },
        accessConfig: { authenticationMode: cluster.authenticationMode },
      },
    });
  }

  /** The role an EKS token is good for, as EKS maps an IAM principal; null when the token is not one. */
  private async authenticate(token: string): Promise<UserInfo | null> {
    if (!token.startsWith(TOKEN_PREFIX)) return null;
    const refuse = (reason: string): null => {
      this.refusedTokens.push(reason);
      return null;
    };
    let url: URL;
    try {
      url = new URL(Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url').toString('utf8'));
    } catch {
      return refuse('the token is not a base64url URL');
    }
    const [accessKeyId, , region] = (url.searchParams.get('X-Amz-Credential') ?? '').split('/');
    const principal = accessKeyId ? this.iam.principalOfKey(accessKeyId) : undefined;
    if (!principal || !region) return refuse(`the token is signed with an unknown key ${accessKeyId ?? ''}`);
    const stamp = url.searchParams.get('X-Amz-Date') ?? '';
    const signingDate = new Date(
      `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}Z`,
    );
    if (Number.isNaN(signingDate.getTime())) return refuse('the token has no signing date');
    if (Date.now() - signingDate.getTime() > 15 * 60 * 1000) return refuse('the token is older than 15 minutes');
    for (const cluster of this.clusters.keys()) {
      // Made again from the same inputs, the token is the same string only if its signature is good for the cluster.
      const expected = await createEksToken({
        clusterName: cluster,
        region,
        credentials: { accessKeyId: principal.accessKeyId, secretAccessKey: principal.secretAccessKey },
        signingDate,
      });
      if (expected.token === token) {
        // EKS puts the principal in its access entry's Kubernetes groups, for RBAC.
        const groups = this.entries
          .filter((e) => e.cluster === cluster && e.principalArn === principal.roleArn)
          .flatMap((e) => e.kubernetesGroups);
        return { name: principal.roleArn, groups: ['system:authenticated', `eks:cluster:${cluster}`, ...groups] };
      }
    }
    return refuse(`the token of ${principal.roleArn} is not signed for any cluster here`);
  }

  /** What the access entries of the cluster grant the authenticated role. */
  private allows(attributes: RequestAttributes): boolean {
    const user = attributes.user.name;
    if (!user.startsWith('arn:')) return true;
    const cluster = attributes.user.groups.find((g) => g.startsWith('eks:cluster:'))?.slice('eks:cluster:'.length);
    const mode = cluster ? this.clusters.get(cluster)?.authenticationMode : undefined;
    if (!cluster || mode === 'CONFIG_MAP') return false;
    const entries = this.entries.filter((e) => e.cluster === cluster && e.principalArn === user);
    const byPolicy = entries.some((entry) =>
      entry.policies.some((p) => {
        if (p.policy !== 'AmazonEKSEditPolicy' && p.policy !== 'AmazonEKSAdminPolicy') return false;
        if (!EDIT_VERBS.has(attributes.verb)) return false;
        if (!(p.policy === 'AmazonEKSEditPolicy' ? EDIT_GROUPS : ADMIN_GROUPS).has(attributes.group)) return false;
        if (p.namespaces === null) return true;
        return attributes.namespace !== undefined && p.namespaces.includes(attributes.namespace);
      }),
    );
    return byPolicy || this.allowedByRbac(attributes);
  }

  /** What Roles (or ClusterRoles) bound in the request's namespace to the user or one of its groups allow. */
  private allowedByRbac(attributes: RequestAttributes): boolean {
    if (attributes.namespace === undefined) return false;
    const type = (kind: string) => this.kubernetes.registry.byKind('rbac.authorization.k8s.io', 'v1', kind);
    const bindingType = type('RoleBinding');
    if (!bindingType) return false;
    const { user } = attributes;
    const bindings = this.kubernetes.store.all(bindingType).filter((b) => {
      const meta = b['metadata'] as { namespace?: string };
      const subjects = (b['subjects'] ?? []) as { kind?: string; name?: string }[];
      return (
        meta.namespace === attributes.namespace &&
        subjects.some(
          (s) =>
            (s.kind === 'Group' && user.groups.includes(s.name ?? '')) || (s.kind === 'User' && s.name === user.name),
        )
      );
    });
    return bindings.some((binding) => {
      const ref = binding['roleRef'] as { kind?: string; name?: string };
      const roleType = type(ref.kind === 'ClusterRole' ? 'ClusterRole' : 'Role');
      const role = roleType
        ? this.kubernetes.store.find(
            roleType,
            ref.kind === 'ClusterRole' ? undefined : attributes.namespace,
            ref.name ?? '',
          )
        : undefined;
      const rules = ((role as { rules?: RbacRule[] } | undefined)?.rules ?? []) as RbacRule[];
      const has = (list: string[] | undefined, value: string) => (list ?? []).some((v) => v === '*' || v === value);
      return rules.some(
        (r) =>
          has(r.apiGroups, attributes.group) &&
          has(r.resources, attributes.resource) &&
          has(r.verbs, attributes.verb) &&
          (!r.resourceNames?.length || (attributes.name !== undefined && r.resourceNames.includes(attributes.name))),
      );
    });
  }
}
