import { z } from 'zod';
import { PROVIDERS } from './providers';

/**
 * An environment's `delivery`: how a release reaches its cluster. Absent (the default), Stepline applies the
 * rendered manifests itself. `type: "gitops"` hands the release to Argo CD or Flux instead: Stepline writes the
 * image digest into a configuration repository in one of the formats those tools read, then waits for the
 * environment's Argo CD `Application` or Flux `Kustomization` to converge on that commit (docs/adr/0102, 0103).
 */

/** A path inside the configuration repository: relative, no `..`, no leading slash. */
const RepoPath = z
  .string()
  .min(1)
  .regex(/^(?!\/)(?!.*(^|\/)\.\.(\/|$)).+$/, { message: 'must be a path relative to the repository root, without ..' });

const Branch = z
  .string()
  .min(1)
  .max(200)
  .regex(/^(?!-)(?!.*\.\.)[^\s~^:?*[\\]+$/, { message: 'must be a Git branch name' });

/** A kustomize `images:` entry (`newName`, `digest`) in `<path>/kustomization.yaml`. */
const KustomizeFormat = z
  .object({
    type: z.literal('kustomize'),
    image: z
      .string()
      .min(1)
      .optional()
      .describe("The entry's `name`: the image as the base manifests name it. Default: the built image's repository."),
  })
  .strict();

/** A Helm values file (`path` is the file) and the dotted keys of the repository and the digest in it. */
const HelmFormat = z
  .object({
    type: z.literal('helm'),
    digestKey: z
      .string()
      .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, { message: 'must be a dotted key such as image.digest' })
      .default('image.digest')
      .describe('Dotted key of the digest (`sha256:…`) in the values file.'),
    repositoryKey: z
      .string()
      .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, { message: 'must be a dotted key such as image.repository' })
      .optional()
      .describe('Dotted key of the image repository. Default: the repository is left as it is.'),
  })
  .strict();

/** Flux image-automation markers: `# {"$imagepolicy": "<namespace>:<policy>"}` on the lines to set (`path`: a file or folder). */
const FluxFormat = z
  .object({
    type: z.literal('flux'),
    policy: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, {
        message: 'must be "<namespace>:<image policy name>"',
      })
      .describe('The ImagePolicy the markers name, as "<namespace>:<name>".'),
  })
  .strict();

/** Argo CD's parameter override file `<path>/.argocd-source-<application>.yaml` (kustomize images), as Argo CD Image Updater writes it. */
const ArgoSourceFormat = z
  .object({
    type: z.literal('argocdSource'),
    image: z.string().min(1).optional().describe('The image name to override. Default: the built image repository.'),
  })
  .strict();

export const DeliveryFormat = z.discriminatedUnion('type', [KustomizeFormat, HelmFormat, FluxFormat, ArgoSourceFormat]);

/** Where the cluster reports convergence: the Argo CD Application or the Flux Kustomization of this environment. */
export const GitOpsController = z
  .object({
    kind: z.enum(['Application', 'Kustomization']).describe('Argo CD `Application` or Flux `Kustomization`.'),
    name: z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, { message: 'must be a Kubernetes object name' }),
    namespace: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/)
      .optional()
      .describe('Default: argocd for an Application, flux-system for a Kustomization.'),
  })
  .strict();

export const GitOpsRepository = z
  .object({
    provider: z.enum([...PROVIDERS, 'local']).describe('The Git host; "local": the bare repository in .stepline/.'),
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, { message: 'must be the full name, such as "acme/deploy"' })
      .describe('Full name as the Git host spells it (local: the folder name below .stepline/gitops/).'),
  })
  .strict();

export const GitOpsDelivery = z
  .object({
    type: z.literal('gitops'),
    repository: GitOpsRepository,
    branch: Branch.default('main').describe('The branch the GitOps tool follows.'),
    path: RepoPath.describe('The folder (kustomize, argocdSource), file (helm) or file or folder (flux) to write.'),
    format: DeliveryFormat,
    mode: z
      .enum(['commit', 'pullRequest'])
      .default('commit')
      .describe('commit: push to the branch. pullRequest: one pull/merge request per change, on its own branch.'),
    controller: GitOpsController.describe('The object whose status tells that the cluster converged.'),
    application: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/)
      .optional()
      .describe('argocdSource: the Argo CD application name in the file name. Default: the controller name.'),
  })
  .strict();

export const Delivery = z.discriminatedUnion('type', [GitOpsDelivery]);

export type DeliveryFormat = z.infer<typeof DeliveryFormat>;
export type GitOpsController = z.infer<typeof GitOpsController>;
export type GitOpsRepository = z.infer<typeof GitOpsRepository>;
export type GitOpsDelivery = z.infer<typeof GitOpsDelivery>;
export type Delivery = z.infer<typeof Delivery>;
