import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import examples from '@octokit/webhooks-examples';
import { type SteplineConfigInput, validateConfig } from '../../../core/config';
import type { RawDelivery } from '../../../core/intake/delivery';
import type { WebhookSecrets } from '../../../core/intake/ports';

/** Shared test material for the intake: secrets, signed deliveries per provider, real payloads, a configuration. */

export const SECRET = 'the current webhook secret';
export const PREVIOUS_SECRET = 'the secret being rotated out';
export const SECRETS: WebhookSecrets = { current: SECRET, previous: PREVIOUS_SECRET };

type Payload = Record<string, unknown>;

/** Untyped JSON, for test edits that reach deep into a payload. */
// biome-ignore lint/suspicious/noExplicitAny: edits of fixture payloads reach into untyped JSON on purpose
export type Loose = any;

const FIXTURES = join(__dirname, '../../fixtures/webhooks');

export function fixture(path: string): Payload {
  return JSON.parse(readFileSync(join(FIXTURES, path), 'utf8')) as Payload;
}

/** A deep copy, changed by `edit`: table rows derive their variants from one documented payload. */
export function variant(payload: Payload, edit: (copy: Loose) => void): Payload {
  const copy = structuredClone(payload);
  edit(copy);
  return copy;
}

interface OctokitEvent {
  readonly name: string;
  readonly examples: readonly Payload[];
}

/** A payload from @octokit/webhooks-examples: the first example of `event` that `where` accepts. */
export function githubExample(event: string, where: (payload: Loose) => boolean = () => true): Loose {
  const found = (examples as unknown as OctokitEvent[]).find((e) => e.name === event)?.examples.find(where);
  if (found === undefined) throw new Error(`no @octokit/webhooks-examples payload for ${event}`);
  return structuredClone(found);
}

/** GitHub's push of a new branch `master` of Codertocat/Hello-World, one commit adding README.md. */
export function githubPush(): Payload {
  return githubExample('push', (p) => p.ref === 'refs/heads/master' && !p.deleted);
}

export function sign(secret: string, body: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface DeliveryOptions {
  readonly secret?: string;
  readonly deliveryId?: string;
  readonly contentType?: string;
  /** Header values to set (or, when undefined, to remove), applied last. */
  readonly headers?: Record<string, string | undefined>;
  /** Replaces the body after signing (a tampered body). */
  readonly tamper?: (body: string) => string;
}

function finish(provider: string, headers: Record<string, string | undefined>, body: string, options: DeliveryOptions) {
  const all = { ...headers, ...options.headers };
  const sent = options.tamper ? options.tamper(body) : body;
  return { provider, headers: all, body: Buffer.from(sent, 'utf8') } satisfies RawDelivery;
}

export function githubDelivery(event: string, payload: Payload, options: DeliveryOptions & { form?: boolean } = {}) {
  const json = JSON.stringify(payload);
  const body = options.form ? `payload=${encodeURIComponent(json)}` : json;
  return finish(
    'github',
    {
      'X-GitHub-Event': event,
      'X-GitHub-Delivery': options.deliveryId ?? '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      'X-Hub-Signature-256': sign(options.secret ?? SECRET, body),
      'Content-Type': options.contentType ?? (options.form ? 'application/x-www-form-urlencoded' : 'application/json'),
      'User-Agent': 'GitHub-Hookshot/044aadd',
    },
    body,
    options,
  );
}

export function gitlabDelivery(event: string, payload: Payload, options: DeliveryOptions = {}) {
  return finish(
    'gitlab',
    {
      'X-Gitlab-Event': event,
      'X-Gitlab-Token': options.secret ?? SECRET,
      'Idempotency-Key': options.deliveryId ?? 'f1b1a5a2-6c4e-4d2b-9f0e-3a7c5d9e1b20',
      'X-Gitlab-Event-UUID': '0c3b2a19-7e6d-4f5c-8b4a-39281706f5e4',
      'X-Gitlab-Instance': 'https://gitlab.example.com',
      'Content-Type': options.contentType ?? 'application/json',
    },
    JSON.stringify(payload),
    options,
  );
}

export function bitbucketDelivery(eventKey: string, payload: Payload, options: DeliveryOptions = {}) {
  const body = JSON.stringify(payload);
  return finish(
    'bitbucket',
    {
      'X-Event-Key': eventKey,
      'X-Request-UUID': options.deliveryId ?? '{3d5f7a9b-1c2e-4f60-8a9b-c0d1e2f3a4b5}',
      'X-Hook-UUID': '{8e7d6c5b-4a39-4281-9f0e-d1c2b3a49586}',
      'X-Attempt-Number': '1',
      'X-Hub-Signature': sign(options.secret ?? SECRET, body),
      'Content-Type': options.contentType ?? 'application/json',
    },
    body,
    options,
  );
}

const CLUSTER = { type: 'kubeconfig' } as const;

/** A configuration that wants the three test repositories: branches, tags, pull requests and environments. */
export const CONFIG_INPUT: SteplineConfigInput = {
  version: 1,
  repositories: [
    {
      provider: 'github',
      name: 'Codertocat/Hello-World',
      branches: [{ pattern: 'master', environments: ['staging', 'production'] }, { pattern: 'release/*' }],
      tags: [{ pattern: 'simple-*', environments: ['production'] }],
      pullRequests: {},
      build: { imageRepository: 'codertocat/hello-world' },
      tests: [{ name: 'unit', buildspec: 'ci/unit.yml' }],
      environments: {
        staging: { cluster: CLUSTER, namespace: 'hello-staging', manifests: 'deploy/staging' },
        production: {
          cluster: { type: 'eks', name: 'prod' },
          namespace: 'hello',
          manifests: 'deploy/production',
          approval: { approvers: ['octocat'], timeoutMinutes: 90 },
        },
      },
    },
    {
      provider: 'gitlab',
      name: 'acme/platform/storefront',
      branches: [{ pattern: 'main', environments: ['staging'] }],
      tags: [{ pattern: 'v*', environments: ['staging'] }],
      pullRequests: { baseBranches: ['main'] },
      build: { imageRepository: 'acme/storefront' },
      environments: { staging: { cluster: CLUSTER, namespace: 'storefront', manifests: 'deploy/staging' } },
    },
    {
      provider: 'bitbucket',
      name: 'acme/payments',
      branches: [{ pattern: 'main', environments: ['staging'] }],
      tags: [{ pattern: 'v*' }],
      pullRequests: { events: ['opened', 'synchronize'] },
      build: { imageRepository: 'acme/payments' },
      environments: { staging: { cluster: CLUSTER, namespace: 'payments', manifests: 'deploy/staging' } },
    },
  ],
};

export const CONFIG = validateConfig(CONFIG_INPUT, 'test configuration');
