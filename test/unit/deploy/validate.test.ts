import { describe, expect, it } from 'vitest';
import { ManifestInvalid } from '../../../core/deploy/errors';
import { parseManifests } from '../../../core/deploy/manifests';
import { type DeployScope, validateDocuments } from '../../../core/deploy/validate';

const SCOPE: DeployScope = { namespace: 'shop', allowedNamespaces: ['shop-jobs'], clusterScopedKinds: ['Namespace'] };
/** The cluster serves Widgets (namespaced) and Gizmos (cluster-scoped), nothing else beyond built-ins. */
const lookup = (apiVersion: string, kind: string): boolean | null => {
  if (apiVersion === 'example.com/v1' && kind === 'Widget') return true;
  if (apiVersion === 'example.com/v1' && kind === 'Gizmo') return false;
  return null;
};

function validate(yaml: string, scope: DeployScope = SCOPE) {
  return validateDocuments(parseManifests([{ path: 'app.yaml', content: yaml }]), scope, lookup);
}

function issuesOf(yaml: string, scope: DeployScope = SCOPE): string[] {
  try {
    validate(yaml, scope);
  } catch (error) {
    if (error instanceof ManifestInvalid)
      return error.issues.map((i) => `${i.source.file}#${i.source.index} ${i.field}: ${i.message}`);
    throw error;
  }
  return [];
}

const deployment = (container: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
${container}`;

describe('validateDocuments', () => {
  it.each([
    ['no apiVersion', 'kind: ConfigMap\nmetadata: {name: a}\n', 'app.yaml#1 apiVersion: is missing'],
    [
      'a malformed apiVersion',
      'apiVersion: apps/version1\nkind: ConfigMap\nmetadata: {name: a}\n',
      'app.yaml#1 apiVersion: "apps/version1" is not an API version',
    ],
    ['no kind', 'apiVersion: v1\nmetadata: {name: a}\n', 'app.yaml#1 kind: is missing'],
    ['no metadata', 'apiVersion: v1\nkind: ConfigMap\n', 'app.yaml#1 metadata: is missing'],
    [
      'no name',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {labels: {a: b}}\n',
      'app.yaml#1 metadata.name: is missing',
    ],
    [
      'generateName only',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: a-}\n',
      'app.yaml#1 metadata.name: is missing (generateName cannot be applied)',
    ],
    [
      'an uppercase name',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Web}\n',
      'app.yaml#1 metadata.name: "Web" must be lowercase',
    ],
    [
      'a label that is a number',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labels: {tier: 3}}\n',
      'app.yaml#1 metadata.labels.tier: must be a string, not number',
    ],
    [
      'an annotation that is a boolean',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, annotations: {enabled: yes}}\n',
      'metadata.annotations.enabled: must be a string, not boolean',
    ],
    [
      'a namespace of another team',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: payments}\n',
      'app.yaml#1 metadata.namespace: "payments" is not allowed in this environment (allowed: shop, shop-jobs)',
    ],
    [
      'a cluster-scoped kind not allowed',
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: admin}\n',
      "app.yaml#1 kind: ClusterRole is cluster-scoped and not among this environment's clusterScopedKinds (Namespace)",
    ],
    [
      "a namespace that is not the environment's",
      'apiVersion: v1\nkind: Namespace\nmetadata: {name: kube-system}\n',
      'app.yaml#1 metadata.name: namespace "kube-system" is not among the environment\'s namespaces',
    ],
    [
      'a kind the cluster does not serve',
      'apiVersion: example.com/v1\nkind: Sprocket\nmetadata: {name: s}\n',
      'app.yaml#1 kind: Sprocket (example.com/v1) is not served by the cluster',
    ],
    [
      'a workload without pod template',
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 1}\n',
      'app.yaml#1 spec.template: is missing (a workload needs a pod template)',
    ],
    [
      'a container without image',
      deployment('        - name: web\n'),
      'app.yaml#1 spec.template.spec.containers[0].image: is missing',
    ],
    [
      'two containers of one name',
      deployment('        - {name: web, image: a}\n        - {name: web, image: b}\n'),
      'spec.template.spec.containers[1].name: "web" is used by two containers',
    ],
    [
      'the same object twice',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: shop}\n',
      'app.yaml#2 metadata.name: is the same object as app.yaml#1',
    ],
  ])('refuses %s, naming the document and the field', (_case, yaml, expected) => {
    // Act
    const issues = issuesOf(yaml);

    // Assess
    expect(issues.join('\n')).toContain(expected);
  });

  it('lists every problem of every document at once, so one run shows them all', () => {
    // Act
    const issues = issuesOf(
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: A}\n---\nkind: Secret\nmetadata: {name: b}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: c, namespace: other}\n',
    );

    // Assess
    expect(issues).toHaveLength(3);
    expect(issues[0]).toMatch(/^app\.yaml#1 metadata\.name/);
    expect(issues[1]).toMatch(/^app\.yaml#2 apiVersion/);
    expect(issues[2]).toMatch(/^app\.yaml#3 metadata\.namespace/);
  });

  it("puts namespaced objects without a namespace into the environment's, and keeps allowed ones", () => {
    // Act
    const objects = validate(
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {name: b, namespace: shop-jobs}\nspec: {jobTemplate: {spec: {template: {spec: {containers: [{name: c, image: i}]}}}}}\n',
    );

    // Assess
    expect(objects.map((o) => o.metadata.namespace)).toEqual(['shop', 'shop-jobs']);
  });

  it('drops a namespace written on a cluster-scoped object, as kubectl does', () => {
    // Act
    const [namespace] = validate('apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, namespace: shop}\n');

    // Assess
    expect(namespace!.metadata).not.toHaveProperty('namespace');
  });

  it('scopes custom resources through the cluster, or through a CRD in the same manifests', () => {
    // Prepare
    const yaml = `apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
---
apiVersion: example.com/v1
kind: Gizmo
metadata: {name: g}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: sprockets.example.com}
spec: {group: example.com, scope: Namespaced, names: {kind: Sprocket, plural: sprockets}, versions: [{name: v1, served: true, storage: true}]}
---
apiVersion: example.com/v1
kind: Sprocket
metadata: {name: s}
`;

    // Act
    const issues = issuesOf(yaml, { ...SCOPE, clusterScopedKinds: ['CustomResourceDefinition'] });

    // Assess
    expect(issues).toEqual([
      "app.yaml#2 kind: Gizmo is cluster-scoped and not among this environment's clusterScopedKinds (CustomResourceDefinition)",
    ]);
  });

  it('never quotes the values of a Secret in its messages', () => {
    // Act
    const issues = issuesOf('apiVersion: v1\nkind: Secret\nmetadata: {name: S}\nstringData: {password: hunter2}\n');

    // Assess
    expect(issues.join('\n')).not.toContain('hunter2');
  });
});
