import type { Provider } from '../../../core/config/schema';
import type { PipelineRequest, Route, RouteEnvironment } from '../../../core/intake/types';

/** A pipeline request and route as the intake makes them, for status and approval tests. */

export const SHA = '0123456789abcdef0123456789abcdef01234567';
export const EXECUTION_ARN = 'arn:aws:states:eu-west-1:123456789012:execution:stepline-pipeline:acme-shop-0123456-d1';

const FULL_NAMES: Record<Provider, string> = {
  github: 'acme/shop',
  gitlab: 'acme/platform/shop',
  bitbucket: 'acme/shop',
};

export function pipelineRequest(
  provider: Provider = 'github',
  overrides: Partial<PipelineRequest> = {},
): PipelineRequest {
  return {
    provider,
    deliveryId: 'd1',
    event: 'push',
    repository: {
      fullName: FULL_NAMES[provider],
      cloneUrl: `https://example.test/${FULL_NAMES[provider]}.git`,
      defaultBranch: 'main',
      htmlUrl: null,
    },
    ref: { name: 'main', fullName: 'refs/heads/main', kind: 'branch' },
    commit: {
      sha: SHA,
      before: null,
      message: 'Add the basket\n\nLonger text',
      url: `https://example.test/commit/${SHA}`,
    },
    pullRequest: null,
    changedFiles: { paths: ['services/api/index.ts'], complete: true },
    sender: { login: 'octocat' },
    ...overrides,
  };
}

export function environment(name: string, overrides: Partial<RouteEnvironment> = {}): RouteEnvironment {
  return {
    name,
    cluster: { type: 'eks', name: 'main' },
    namespace: name,
    allowedNamespaces: [],
    clusterScopedKinds: [],
    manifests: `deploy/${name}`,
    url: `https://${name}.shop.example.test`,
    approval: null,
    rollout: { timeoutSeconds: 600, pollSeconds: 10 },
    ...overrides,
  };
}

export function route(overrides: Partial<Route> = {}): Route {
  return {
    repository: 'acme/shop',
    trigger: 'branch',
    pattern: 'main',
    build: { buildspec: 'buildspec.yml', imageRepository: 'acme/shop', timeoutMinutes: 60 },
    tests: [
      { name: 'unit', buildspec: 'ci/unit.yml', timeoutMinutes: 30 },
      { name: 'e2e', buildspec: 'ci/e2e.yml', timeoutMinutes: 30 },
    ],
    environments: [
      environment('staging'),
      environment('production', { approval: { approvers: ['alice', 'Bob'], timeoutSeconds: 86_400 } }),
    ],
    secrets: true,
    concurrencyKey: 'github:acme/shop:refs/heads/main',
    ...overrides,
  };
}
