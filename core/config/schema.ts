import { z } from 'zod';
import { Delivery } from './delivery';
import { Handoffs, handoffIssues } from './handoff';
import { PROVIDERS } from './providers';
import { Strategy } from './strategy';

/**
 * The pipeline configuration, `stepline.config.json`: per repository, which refs start a pipeline and where
 * each promotes to, which pull-request events build and test, path filters, test suites and environments.
 *
 * This zod schema is the single source: the TypeScript types below are inferred from it and the published JSON
 * Schema (`schema/stepline.config.schema.json`) is generated from it (`npm run schema`).
 */

const GLOB_HINT = 'a glob such as "main", "release/*" or "services/api/**"';

export { PROVIDERS };
export const Provider = z.enum(PROVIDERS);

const Glob = z.string().min(1, { message: `must be ${GLOB_HINT}` });

/** Environment names end up in commit status contexts, lock keys and execution history: keep them short and safe. */
export const EnvironmentName = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/, {
  message: 'must be 1-32 lowercase letters, digits or dashes, starting and ending with a letter or digit',
});

/** A Kubernetes object name (RFC 1123 label), as namespaces require. */
const KubernetesName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, { message: 'must be a Kubernetes name (RFC 1123 label)' });

const SuiteName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/, { message: 'must be 1-40 letters, digits, dots, dashes or underscores' });

const EksCluster = z
  .object({
    type: z.literal('eks'),
    name: z.string().min(1).max(100).describe('The EKS cluster name, as DescribeCluster takes it.'),
    region: z
      .string()
      .regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, { message: 'must be an AWS region such as eu-west-1' })
      .optional()
      .describe("The cluster's region. Default: the region Stepline is deployed in."),
  })
  .strict();

const KubeconfigCluster = z
  .object({
    type: z.literal('kubeconfig'),
    path: z
      .string()
      .min(1)
      .optional()
      .describe('Path of the kubeconfig file. Default: $KUBECONFIG, then ~/.kube/config.'),
    context: z.string().min(1).optional().describe('The context to use. Default: the current context.'),
  })
  .strict();

export const Cluster = z.discriminatedUnion('type', [EksCluster, KubeconfigCluster]);

export const Approval = z
  .object({
    required: z.boolean().default(true).describe('Whether a person must approve before this environment deploys.'),
    approvers: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Who may approve: Git host logins (Bitbucket: account ids or {UUIDs}) and host teams: "@org/team" (a GitHub ' +
          'team), "@group/subgroup" (a GitLab group), "@workspace" (a Bitbucket workspace). Empty: anyone who signs in.',
      ),
    allowSelfApproval: z
      .boolean()
      .default(false)
      .describe('Whether the person who pushed the commit may approve its deploy. Default: no.'),
    timeoutMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(24 * 60)
      .describe('How long the run waits for a decision before it ends "not approved".'),
  })
  .strict();

export const Rollout = z
  .object({
    timeoutSeconds: z
      .number()
      .int()
      .min(30)
      .max(3 * 60 * 60)
      .default(600)
      .describe('Deadline for the rollout to complete before it is rolled back.'),
    pollSeconds: z.number().int().min(2).max(300).default(10).describe('Seconds between rollout checks.'),
  })
  .strict();

export const Environment = z
  .object({
    cluster: Cluster,
    namespace: KubernetesName.describe('Namespace that namespaced objects without one are deployed to.'),
    allowedNamespaces: z
      .array(KubernetesName)
      .default([])
      .describe('Further namespaces that manifests of this environment may name.'),
    clusterScopedKinds: z
      .array(z.string().regex(/^[A-Z][A-Za-z0-9]*$/, { message: 'must be a Kubernetes kind such as Namespace' }))
      .default([])
      .describe('Cluster-scoped kinds (Namespace, ClusterRole, ...) that this environment may apply. Default: none.'),
    manifests: z
      .string()
      .min(1)
      .describe('Where the build puts the rendered manifests of this environment, relative to the repository root.'),
    url: z.url().optional().describe("The environment's URL, shown on the Git host's deployment."),
    approval: Approval.optional().describe('An approval gate before deploying. Default: none.'),
    rollout: Rollout.default({ timeoutSeconds: 600, pollSeconds: 10 }),
    strategy: Strategy.optional().describe(
      'How a new version rolls out: rolling (default), canary (steps gated by metrics) or blueGreen (docs/adr/0067).',
    ),
    delivery: Delivery.optional().describe(
      'How a release reaches the cluster. Default: Stepline applies it. gitops: written to a configuration repository for Argo CD or Flux (docs/adr/0102).',
    ),
  })
  .strict();

const RefTrigger = z
  .object({
    pattern: Glob.describe('Branch or tag name pattern (glob).'),
    environments: z
      .array(EnvironmentName)
      .default([])
      .describe('Environments this ref promotes to, in order. Empty: build and test only.'),
  })
  .strict();

export const PULL_REQUEST_EVENTS = ['opened', 'synchronize', 'reopened'] as const;

export const PullRequests = z
  .object({
    events: z
      .array(z.enum(PULL_REQUEST_EVENTS))
      .min(1)
      .default([...PULL_REQUEST_EVENTS])
      .describe('Pull request actions that build and test. Pull requests never deploy.'),
    baseBranches: z.array(Glob).min(1).default(['**']).describe('Only pull requests into these branches build.'),
  })
  .strict();

export const PathFilter = z
  .object({
    include: z.array(Glob).min(1).default(['**']).describe('A change must touch one of these paths to start a run.'),
    exclude: z.array(Glob).default([]).describe('Paths whose changes alone never start a run.'),
  })
  .strict();

export const Build = z
  .object({
    buildspec: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Buildspec of the image build, in the repository. Default: none, and the build project's own buildspec " +
          "builds the Dockerfile, pushes the image and uploads the environments' manifests.",
      ),
    imageRepository: z
      .string()
      .regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/, {
        message: 'must be an ECR repository name such as "shop/api"',
      })
      .describe('ECR repository the image is pushed to (tagged with the commit SHA).'),
    timeoutMinutes: z.number().int().min(5).max(2160).default(60),
  })
  .strict();

export const TestSuite = z
  .object({
    name: SuiteName,
    buildspec: z.string().min(1).describe('Buildspec of this suite, in the repository.'),
    timeoutMinutes: z.number().int().min(5).max(2160).default(60),
  })
  .strict();

export const Repository = z
  .object({
    provider: Provider,
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/, { message: 'must be the full name, such as "acme/shop"' })
      .describe(
        'Full name as the Git host spells it: owner/name (GitLab: group/subgroup/name; Bitbucket: workspace/slug).',
      ),
    branches: z.array(RefTrigger).default([]).describe('Branches whose pushes start a pipeline (first match wins).'),
    tags: z.array(RefTrigger).default([]).describe('Tags whose pushes start a pipeline (first match wins).'),
    pullRequests: PullRequests.optional().describe('Pull requests that build and test. Default: none.'),
    paths: PathFilter.default({ include: ['**'], exclude: [] }),
    build: Build,
    tests: z.array(TestSuite).default([]),
    environments: z.record(EnvironmentName, Environment).default({}),
  })
  .strict()
  .superRefine((repo, ctx) => {
    const known = new Set(Object.keys(repo.environments));
    for (const kind of ['branches', 'tags'] as const) {
      repo[kind].forEach((trigger, i) => {
        const seen = new Set<string>();
        trigger.environments.forEach((env, j) => {
          if (!known.has(env)) {
            ctx.addIssue({
              code: 'custom',
              path: [kind, i, 'environments', j],
              message: `names environment "${env}", which is not defined under "environments"`,
            });
          }
          if (seen.has(env)) {
            ctx.addIssue({ code: 'custom', path: [kind, i, 'environments', j], message: `lists "${env}" twice` });
          }
          seen.add(env);
        });
      });
    }
    // A suite's name is its status context (`stepline/test/<suite>`), and GitHub's contexts are case-insensitive:
    // "unit" and "Unit" would overwrite each other's status, so names that differ only in case are refused.
    const suites = new Map<string, string>();
    repo.tests.forEach((suite, i) => {
      const same = suites.get(suite.name.toLowerCase());
      if (same === suite.name) {
        ctx.addIssue({ code: 'custom', path: ['tests', i, 'name'], message: `suite "${suite.name}" is defined twice` });
      } else if (same !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['tests', i, 'name'],
          message: `suite "${suite.name}" differs from suite "${same}" only in case: their commit statuses would be one (GitHub's contexts ignore case)`,
        });
      }
      if (same === undefined) suites.set(suite.name.toLowerCase(), suite.name);
    });
  });

export const SteplineConfig = z
  .object({
    $schema: z.string().optional(),
    version: z.literal(1).describe('Version of this configuration format.'),
    repositories: z.array(Repository).min(1, { message: 'must name at least one repository' }),
    handoffs: Handoffs.optional().describe('Other CI systems that may hand off an image they built (docs/adr/0100).'),
  })
  .strict()
  .superRefine((config, ctx) => {
    for (const issue of handoffIssues(config.handoffs, config.repositories)) ctx.addIssue({ code: 'custom', ...issue });
    const seen = new Map<string, number>();
    config.repositories.forEach((repo, i) => {
      const key = `${repo.provider}:${repo.name.toLowerCase()}`;
      const first = seen.get(key);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['repositories', i, 'name'],
          message: `repository "${repo.name}" (${repo.provider}) is already configured at repositories[${first}]`,
        });
      } else {
        seen.set(key, i);
      }
    });
  });

export type Provider = z.infer<typeof Provider>;
export type Cluster = z.infer<typeof Cluster>;
export type Approval = z.infer<typeof Approval>;
export type Rollout = z.infer<typeof Rollout>;
export type Environment = z.infer<typeof Environment>;
export type PullRequests = z.infer<typeof PullRequests>;
export type PathFilter = z.infer<typeof PathFilter>;
export type Build = z.infer<typeof Build>;
export type TestSuite = z.infer<typeof TestSuite>;
export type Repository = z.infer<typeof Repository>;
export type SteplineConfig = z.infer<typeof SteplineConfig>;
/** The configuration as written, before defaults are applied. */
export type SteplineConfigInput = z.input<typeof SteplineConfig>;
