import picomatch from 'picomatch';
import type { HandoffSource } from '../../config/handoff';
import type { Repository, SteplineConfig } from '../../config/schema';
import { ARTIFACTS_BUCKET_PLACEHOLDER } from '../../contracts/handoff';
import { routeEnvironment } from '../route';
import type { PipelineRequest, Route } from '../types';
import { type Continue, proceed, type Rejected, reject } from '../verdict';

/** A check's verdict: go on, or the sender's error. */
type Verdict<T> = Continue<T> | Rejected;

import type { HandoffBody } from './payload';

/**
 * What the configuration allows a source to hand off (docs/adr/0100): the repository, the image (by digest, from
 * an allowed registry), the manifests' location, the environments. Each refusal is the sender's error, a 4xx that
 * names what was refused and why; what is allowed becomes the request and the route of an ordinary run, whose
 * build is the image given.
 */

/** `registry[:port]/path@sha256:<64 hex>`: lowercase, as OCI references are; no tag beside the digest. */
const IMAGE_BY_DIGEST =
  /^(?<repository>[a-z0-9]+(?:[.-][a-z0-9]+)*(?::[0-9]{1,5})?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+)@(?<digest>sha256:[0-9a-f]{64})$/;

const DEFAULT_HOSTS: Readonly<Record<Repository['provider'], string>> = {
  github: 'https://github.com',
  gitlab: 'https://gitlab.com',
  bitbucket: 'https://bitbucket.org',
};

export interface CheckedHandoff {
  readonly request: PipelineRequest;
  readonly route: Route;
  readonly image: { readonly repository: string; readonly digest: string };
  readonly manifestsLocation: string;
}

export function parseImage(image: string): Verdict<{ repository: string; digest: string }> {
  const match = IMAGE_BY_DIGEST.exec(image);
  if (match?.groups === undefined) {
    return reject(
      400,
      'image_not_by_digest',
      'image: must be the image by digest, REPOSITORY@sha256:<64 hex digits> without a tag (a tag can move; a digest cannot)',
    );
  }
  return proceed({ repository: match.groups['repository']!, digest: match.groups['digest']! });
}

/** Whether `repository` is `prefix` or below it, path segment by path segment. */
function under(repository: string, prefix: string): boolean {
  return repository === prefix || repository.startsWith(`${prefix.replace(/\/+$/, '')}/`);
}

function findRepository(
  config: SteplineConfig,
  source: string,
  allowed: HandoffSource,
  body: HandoffBody,
): Verdict<{ repo: Repository; environments: readonly string[] }> {
  const name = body.repository.toLowerCase();
  const entries = allowed.repositories.filter(
    (r) => r.name.toLowerCase() === name && (body.provider === null || (r.provider ?? body.provider) === body.provider),
  );
  const repos = config.repositories.filter(
    (r) =>
      r.name.toLowerCase() === name &&
      (body.provider === null || r.provider === body.provider) &&
      entries.some((e) => e.provider === undefined || e.provider === r.provider),
  );
  if (repos.length !== 1) {
    const why = repos.length > 1 ? '; name its provider' : '';
    return reject(
      403,
      'repository_not_allowed',
      `repository: source "${source}" may not hand off ${body.repository}${why}`,
    );
  }
  const repo = repos[0]!;
  const entry = entries.find((e) => e.provider === undefined || e.provider === repo.provider)!;
  return proceed({ repo, environments: entry.environments });
}

/** The environments the ref promotes to, as configured (first matching branch or tag pattern), or none. */
function refEnvironments(repo: Repository, ref: HandoffBody['ref']): readonly string[] {
  const triggers = ref.kind === 'branch' ? repo.branches : repo.tags;
  return triggers.find((t) => picomatch(t.pattern, { dot: true })(ref.name))?.environments ?? [];
}

function chooseEnvironments(
  source: string,
  repo: Repository,
  allowed: readonly string[],
  body: HandoffBody,
): Verdict<readonly string[]> {
  if (body.environments === null) {
    const chosen = refEnvironments(repo, body.ref).filter((e) => allowed.includes(e));
    if (chosen.length > 0 || body.tests) return proceed(chosen);
    return reject(
      403,
      'environment_not_allowed',
      `environments: none given, and ${body.ref.kind} ${body.ref.name} promotes to no environment source "${source}" may deploy to (${allowed.join(', ')})`,
    );
  }
  if (body.environments.length === 0 && !body.tests) {
    return reject(
      400,
      'malformed_body',
      `environments: an empty list deploys nothing and runs nothing: name one, leave it out for the ones ${body.ref.kind} ${body.ref.name} promotes to, or ask for the tests`,
    );
  }
  const seen = new Set<string>();
  for (const [i, name] of body.environments.entries()) {
    if (!allowed.includes(name)) {
      return reject(
        403,
        'environment_not_allowed',
        `environments[${i}]: source "${source}" may not deploy ${repo.name} to "${name}" (allowed: ${allowed.join(', ')})`,
      );
    }
    if (seen.has(name)) return reject(400, 'malformed_body', `environments[${i}]: "${name}" is listed twice`);
    seen.add(name);
  }
  return proceed(body.environments);
}

/**
 * Whether a location means what it says, so that a prefix check on its text holds: the readers parse it as a URL
 * (adapters/*\/artifacts.ts), which resolves `..` and `%2e%2e` segments (WHATWG URL) and so could leave the prefix.
 * A location whose parsed form differs from its text, or that has a dot segment or a backslash, is refused.
 */
function settledLocation(location: string): boolean {
  if (/\\|%2e/i.test(location) || location.split('/').some((segment) => segment === '.' || segment === '..')) {
    return false;
  }
  try {
    return new URL(location).href === location;
  } catch {
    return false;
  }
}

/** `{artifactsBucket}` replaced by the bucket's name; left as is (and so matching no real location) without one. */
function withBucket(location: string, artifactsBucket: string | undefined): string {
  return artifactsBucket ? location.replaceAll(ARTIFACTS_BUCKET_PLACEHOLDER, artifactsBucket) : location;
}

function chooseManifests(
  source: string,
  allowed: HandoffSource,
  body: HandoffBody,
  artifactsBucket: string | undefined,
): Verdict<string> {
  if (body.manifests === null) {
    const fallback = allowed.defaultManifests && withBucket(allowed.defaultManifests, artifactsBucket);
    // Without the bucket's name (locally), a default in the artifacts bucket names nothing this runtime can read.
    if (fallback && !fallback.includes(ARTIFACTS_BUCKET_PLACEHOLDER)) {
      return proceed(fallback.replaceAll('{commit}', body.commit));
    }
    return reject(
      400,
      'malformed_body',
      `manifests: required, since source "${source}" has no defaultManifests (an s3:// or file:/// location)`,
    );
  }
  const location = body.manifests;
  const prefixes = allowed.manifests.map((p) => withBucket(p, artifactsBucket));
  if (!settledLocation(location) || !prefixes.some((p) => location.startsWith(p))) {
    return reject(
      403,
      'manifests_not_allowed',
      `manifests: source "${source}" may not deploy manifests from there (allowed: ${allowed.manifests.join(', ') || 'none'})`,
    );
  }
  return proceed(location);
}

/** Checks a parsed hand-off against its source's configuration; the request and route of its run, or a 4xx. */
export function checkHandoff(
  config: SteplineConfig,
  source: string,
  deliveryId: string,
  body: HandoffBody,
  /** The artifacts bucket's name, for `{artifactsBucket}` in the source's locations (AWS). */
  artifactsBucket?: string,
): Verdict<CheckedHandoff> {
  const allowed = config.handoffs?.sources[source];
  if (allowed === undefined) return reject(401, 'invalid_signature', 'the request signature is missing or wrong');
  const image = parseImage(body.image);
  if (!image.continue) return image;
  if (!allowed.registries.some((registry) => under(image.value.repository, registry))) {
    return reject(
      403,
      'registry_not_allowed',
      `image: source "${source}" may not deploy images from ${image.value.repository} (allowed: ${allowed.registries.join(', ')})`,
    );
  }
  const found = findRepository(config, source, allowed, body);
  if (!found.continue) return found;
  const { repo } = found.value;
  const environments = chooseEnvironments(source, repo, found.value.environments, body);
  if (!environments.continue) return environments;
  const manifests = chooseManifests(source, allowed, body, artifactsBucket);
  if (!manifests.continue) return manifests;

  const request: PipelineRequest = {
    provider: repo.provider,
    deliveryId,
    event: 'handoff',
    repository: {
      fullName: repo.name,
      cloneUrl: body.cloneUrl ?? `${DEFAULT_HOSTS[repo.provider]}/${repo.name}.git`,
      defaultBranch: 'main',
      htmlUrl: null,
    },
    ref: body.ref,
    commit: { sha: body.commit, before: null, message: null, url: null },
    pullRequest: null,
    changedFiles: { paths: [], complete: false },
    sender: { login: `handoff:${source}` },
  };
  const route: Route = {
    repository: repo.name,
    trigger: body.ref.kind,
    pattern: `handoff:${source}`,
    build: {
      ...(repo.build.buildspec ? { buildspec: repo.build.buildspec } : {}),
      imageRepository: repo.build.imageRepository,
      timeoutMinutes: repo.build.timeoutMinutes,
    },
    tests: body.tests ? repo.tests : [],
    environments: environments.value.map((name) => routeEnvironment(name, repo.environments[name]!)),
    secrets: true,
    // The same key as a push to that ref: a hand-off and a push supersede each other, one deploy at a time.
    concurrencyKey: `${repo.provider}:${repo.name}:${body.ref.fullName}`,
  };
  return proceed({ request, route, image: image.value, manifestsLocation: manifests.value });
}
