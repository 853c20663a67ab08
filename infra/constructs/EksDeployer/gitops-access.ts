import { CfnOutput } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { SteplineConfig } from '../../../core/config';
import { controllerRef } from '../../../core/gitops/converge';

/**
 * What the deployer needs in a cluster to check a GitOps delivery (ADR 0103, 0108): `get` on the environment's Argo
 * CD `Application` or Flux `Kustomization`, in the controller's namespace (`argocd`, `flux-system` by default).
 * No EKS access policy grants that: AmazonEKSEditPolicy covers built-in API groups only (apps, batch, core, ...),
 * never `argoproj.io` or `kustomize.toolkit.fluxcd.io`, and AmazonEKSAdminViewPolicy would read every Secret of the
 * controller's namespace (Argo CD keeps repository and cluster credentials there). So the access entry carries a
 * Kubernetes group (EKS "Create an access entry using Kubernetes groups"), and the stack outputs the Role and
 * RoleBinding, `get` on exactly those objects, that the operator applies once (`kubectl apply -f -`).
 */

/** The Kubernetes group the deployer's access entry puts it in, for the RoleBindings below. */
export const GITOPS_READER_GROUP = 'stepline-gitops-readers';
/** The name of the Role and RoleBinding in each controller namespace. */
export const GITOPS_READER_ROLE = 'stepline-gitops-reader';

/** The controller objects a cluster's GitOps environments are checked at. */
export interface GitOpsReadTarget {
  readonly cluster: string;
  /** Null: the region Stepline is deployed in. */
  readonly region: string | null;
  readonly objects: readonly {
    readonly namespace: string;
    readonly group: string;
    readonly resource: string;
    readonly name: string;
  }[];
}

/** Per EKS cluster, the Argo CD Applications and Flux Kustomizations the configuration's GitOps environments name. */
export function gitopsReadTargets(config: SteplineConfig): GitOpsReadTarget[] {
  const byCluster = new Map<
    string,
    { cluster: string; region: string | null; objects: Map<string, GitOpsReadTarget['objects'][number]> }
  >();
  for (const repository of config.repositories) {
    for (const environment of Object.values(repository.environments)) {
      if (environment.delivery?.type !== 'gitops' || environment.cluster.type !== 'eks') continue;
      const region = environment.cluster.region ?? null;
      const key = `${region ?? ''}/${environment.cluster.name}`;
      const target = byCluster.get(key) ?? { cluster: environment.cluster.name, region, objects: new Map() };
      const ref = controllerRef(environment.delivery.controller);
      const group = ref.apiVersion.split('/')[0] ?? '';
      const resource = ref.kind === 'Application' ? 'applications' : 'kustomizations';
      const namespace = ref.namespace ?? '';
      target.objects.set(`${namespace}/${group}/${resource}/${ref.name}`, {
        namespace,
        group,
        resource,
        name: ref.name,
      });
      byCluster.set(key, target);
    }
  }
  return [...byCluster.values()].map((t) => ({
    cluster: t.cluster,
    region: t.region,
    objects: [...t.objects.values()].sort((a, b) =>
      `${a.namespace}/${a.resource}/${a.name}`.localeCompare(`${b.namespace}/${b.resource}/${b.name}`),
    ),
  }));
}

/**
 * The Role and RoleBinding per controller namespace (a `v1` List, as `kubectl apply -f -` takes it), bound to the
 * access entry's group, or to the aws-auth username for a cluster kept on the aws-auth ConfigMap.
 */
export function gitopsReaderManifest(
  target: GitOpsReadTarget,
  subject: { readonly kind: 'Group' | 'User'; readonly name: string },
): Record<string, unknown> {
  const namespaces = [...new Set(target.objects.map((o) => o.namespace))].sort();
  const items = namespaces.flatMap((namespace) => {
    const objects = target.objects.filter((o) => o.namespace === namespace);
    const rules = [...new Set(objects.map((o) => `${o.group}/${o.resource}`))].map((key) => {
      const [group = '', resource = ''] = key.split('/');
      return {
        apiGroups: [group],
        resources: [resource],
        resourceNames: objects.filter((o) => o.group === group && o.resource === resource).map((o) => o.name),
        verbs: ['get'],
      };
    });
    const metadata = { name: GITOPS_READER_ROLE, namespace, labels: { 'app.kubernetes.io/managed-by': 'stepline' } };
    return [
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata, rules },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata,
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: GITOPS_READER_ROLE },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: subject.kind, name: subject.name }],
      },
    ];
  });
  return { apiVersion: 'v1', kind: 'List', items };
}

/** Outputs the manifest for one cluster, with the command that applies it. */
export function outputGitOpsReader(
  scope: Construct,
  label: string,
  target: GitOpsReadTarget,
  subject: { readonly kind: 'Group' | 'User'; readonly name: string },
): void {
  new CfnOutput(scope, `GitOpsReaderRbac-${label}`, {
    description:
      `EKS cluster ${target.cluster}: apply once (kubectl apply -f - with that cluster as the current context) so ` +
      'that the deployer can read the GitOps controllers it waits for',
    value: JSON.stringify(gitopsReaderManifest(target, subject)),
  });
}
