import { z } from 'zod';
import { PROVIDERS } from './providers';

/**
 * `handoffs`: which other CI systems (Jenkins, CircleCI, GitHub Actions, ...) may hand Stepline an image they built,
 * for which repositories and environments, from which registries, and with the rendered manifests where. A hand-off
 * is a signed `POST /webhooks/generic` (core/intake/handoff, docs/adr/0100): it starts the pipeline at the
 * promotion, without a build. Each source signs with its own secret (Secrets Manager on AWS, the state folder
 * locally), never written here. Absent: no source may hand off, and every hand-off is refused.
 */

/** A source's name travels in the `X-Stepline-Source` header and names its secret. */
export const HandoffSourceName = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/, {
  message: 'must be 1-32 lowercase letters, digits or dashes, starting and ending with a letter or digit',
});

/** `host[:port]` or `host[:port]/path`: an image repository is allowed when it is this, or below it. */
const RegistryPrefix = z
  .string()
  .regex(/^[a-z0-9]+(?:[.-][a-z0-9]+)*(?::[0-9]{1,5})?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/, {
    message:
      'must be a registry host with an optional path, such as "ghcr.io/acme" or "123456789012.dkr.ecr.eu-west-1.amazonaws.com"',
  });

/** `s3://bucket/prefix/` or `file:///abs/path/`: where the rendered manifests of a hand-off may be read from. */
const LocationPrefix = z.string().regex(/^(s3:\/\/([a-z0-9.-]{3,63}|\{artifactsBucket\})\/|file:\/\/\/)\S*$/, {
  message: 'must be an s3://bucket/prefix/ (or s3://{artifactsBucket}/prefix/) or file:///path/ location',
});

const HandoffRepository = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/, { message: 'must be the full name, such as "acme/shop"' })
      .describe('A repository configured under "repositories", by its full name.'),
    provider: z
      .enum(PROVIDERS)
      .optional()
      .describe('Its Git host, where two configured repositories share the name. Default: the one with that name.'),
    environments: z
      .array(z.string().min(1))
      .min(1)
      .describe(
        'Environments of that repository this source may deploy to. A hand-off naming none deploys to the environments its ref promotes to, among these.',
      ),
  })
  .strict();

export const HandoffSource = z
  .object({
    repositories: z.array(HandoffRepository).min(1).describe('Repositories this source may hand off.'),
    registries: z
      .array(RegistryPrefix)
      .min(1)
      .describe('Registries (and paths) its images may come from; an image elsewhere is refused.'),
    manifests: z
      .array(LocationPrefix)
      .default([])
      .describe(
        'Locations its rendered manifests may be read from (prefixes). A hand-off that names none deploys the ' +
          'manifests of "defaultManifests". On AWS, "{artifactsBucket}" stands for the stack\'s artifacts bucket.',
      ),
    defaultManifests: z
      .string()
      .regex(/^(s3:\/\/([a-z0-9.-]{3,63}|\{artifactsBucket\})\/|file:\/\/\/)\S*$/, {
        message: 'must be an s3:// or file:/// location',
      })
      .optional()
      .describe('Where the manifests are when a hand-off names no location; "{commit}" is replaced by its commit.'),
  })
  .strict();

export const Handoffs = z
  .object({
    sources: z.record(HandoffSourceName, HandoffSource).describe('The sources that may hand off, by name.'),
  })
  .strict();

export type HandoffSource = z.infer<typeof HandoffSource>;
export type Handoffs = z.infer<typeof Handoffs>;

interface ConfiguredRepository {
  readonly provider: string;
  readonly name: string;
  readonly environments: Readonly<Record<string, unknown>>;
}

interface Issue {
  readonly path: (string | number)[];
  readonly message: string;
}

/** Cross-checks `handoffs` against `repositories`: each named repository and environment must be configured. */
export function handoffIssues(handoffs: Handoffs | undefined, repositories: readonly ConfiguredRepository[]): Issue[] {
  const issues: Issue[] = [];
  for (const [source, entry] of Object.entries(handoffs?.sources ?? {})) {
    entry.repositories.forEach((allowed, i) => {
      const path = ['handoffs', 'sources', source, 'repositories', i];
      const matches = repositories.filter(
        (r) =>
          r.name.toLowerCase() === allowed.name.toLowerCase() &&
          (allowed.provider === undefined || r.provider === allowed.provider),
      );
      if (matches.length === 0) {
        issues.push({
          path: [...path, 'name'],
          message: `names repository "${allowed.name}", which is not configured under "repositories"`,
        });
        return;
      }
      if (matches.length > 1) {
        issues.push({
          path: [...path, 'provider'],
          message: `"${allowed.name}" is configured for several Git hosts: name its provider`,
        });
        return;
      }
      allowed.environments.forEach((env, j) => {
        if (!(env in matches[0]!.environments)) {
          issues.push({
            path: [...path, 'environments', j],
            message: `names environment "${env}", which repository "${allowed.name}" does not define`,
          });
        }
      });
    });
  }
  return issues;
}
