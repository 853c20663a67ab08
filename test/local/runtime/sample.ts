/**
 * A small service repository for the runtime's end-to-end tests: a buildspec that exports an image digest and the
 * rendered manifests' location (as the pipeline expects), a unit suite that writes a JUnit report, and the
 * Kubernetes manifests of one environment.
 */

export const REPOSITORY = 'acme/hello';

export const BUILDSPEC = `version: 0.2
env:
  exported-variables: [IMAGE_DIGEST, MANIFESTS_LOCATION]
phases:
  build:
    commands:
      - test -f service.txt
      - IMAGE_DIGEST="sha256:$(printf '%s' "$CODEBUILD_RESOLVED_SOURCE_VERSION" | sha256sum | cut -d' ' -f1)"
      - echo "built $IMAGE_REPOSITORY_URI@$IMAGE_DIGEST"
  post_build:
    commands:
      - mkdir -p "$STEPLINE_ARTIFACTS_DIR/manifests"
      - cp -r deploy/. "$STEPLINE_ARTIFACTS_DIR/manifests/"
      - MANIFESTS_LOCATION="file://$STEPLINE_ARTIFACTS_DIR/manifests"
`;

export const UNIT_SUITE = `version: 0.2
phases:
  build:
    commands:
      - mkdir -p reports
      - |
        if grep -q broken service.txt; then
          printf '<testsuite name="unit"><testcase name="greets" classname="hello"><failure message="broken"/></testcase></testsuite>' > reports/unit.xml
          exit 1
        fi
        printf '<testsuite name="unit"><testcase name="greets" classname="hello" time="0.01"/></testsuite>' > reports/unit.xml
reports:
  unit:
    files: ['reports/*.xml']
`;

/** A Namespace and a Deployment, both called `name`; its container `name` runs the image the build made. */
export function manifests(name = 'hello'): string {
  return `apiVersion: v1
kind: Namespace
metadata:
  name: ${name}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${name}
spec:
  replicas: 2
  progressDeadlineSeconds: 600
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      containers:
        - name: ${name}
          image: ${name}:latest
          ports:
            - containerPort: 8080
`;
}

export function sampleFiles(options: { service?: string; name?: string } = {}): Record<string, string> {
  return {
    'buildspec.yml': BUILDSPEC,
    'ci/unit.yml': UNIT_SUITE,
    'service.txt': options.service ?? 'hello, world\n',
    'deploy/staging/app.yaml': manifests(options.name),
  };
}

/** The one environment of the sample, deploying to namespace `namespace`. */
export function environments(namespace = 'hello'): Record<string, Record<string, unknown>> {
  return {
    staging: {
      cluster: { type: 'kubeconfig' },
      namespace,
      clusterScopedKinds: ['Namespace'],
      manifests: 'staging',
      rollout: { timeoutSeconds: 60, pollSeconds: 2 },
    },
  };
}

export const ENVIRONMENTS = {
  staging: {
    cluster: { type: 'kubeconfig' },
    namespace: 'hello',
    clusterScopedKinds: ['Namespace'],
    manifests: 'staging',
    rollout: { timeoutSeconds: 60, pollSeconds: 2 },
  },
};
