import type { JsonObject } from '../kubernetes/fields';

/**
 * The CustomResourceDefinitions the stand-in controller serves, reduced to what matters here: names, scope, the
 * served version and the status subresource (Argo CD's `applications.argoproj.io` v1alpha1; Flux's
 * `kustomizations.kustomize.toolkit.fluxcd.io` and `gitrepositories.source.toolkit.fluxcd.io` v1). Their schemas
 * keep unknown fields, as the simulated API server does not validate custom resources field by field.
 */

function crd(group: string, version: string, kind: string, plural: string, shortNames: string[]): JsonObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List`, shortNames },
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        },
      ],
    },
  };
}

export const GITOPS_CRDS: readonly JsonObject[] = [
  crd('argoproj.io', 'v1alpha1', 'Application', 'applications', ['app', 'apps']),
  crd('kustomize.toolkit.fluxcd.io', 'v1', 'Kustomization', 'kustomizations', ['ks']),
  crd('source.toolkit.fluxcd.io', 'v1', 'GitRepository', 'gitrepositories', ['gitrepo']),
];
