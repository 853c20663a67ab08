import { createHmac, timingSafeEqual } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StaticWebhookSecrets } from '../../../../adapters/local/secrets';
import type { StartRequest } from '../../../../core/intake/ports';
import { createWebhookHandler } from '../../../../functions/webhook/handler';
import {
  bitbucketDelivery,
  CONFIG,
  fixture,
  githubDelivery,
  githubExample,
  githubPush,
  gitlabDelivery,
  type Loose,
  PREVIOUS_SECRET,
  SECRET,
  SECRETS,
} from '../../intake/support';
import { apiEvent, CONTEXT, captureStdout } from './support';

/**
 * The property the webhook must hold whatever arrives: no body or header set yields a 5xx, and no execution is
 * started for a request without a valid signature. Three kinds of input: anything at all; real signed payloads
 * with their fields replaced by random JSON (the normalizers' worst day); real payloads whose signature, body or
 * headers were tampered with.
 */

const PROVIDERS = ['github', 'gitlab', 'bitbucket'] as const;
type Known = (typeof PROVIDERS)[number];
const EVENTS: Record<Known, string[]> = {
  github: ['push', 'pull_request', 'ping', 'delete', 'star'],
  gitlab: ['Push Hook', 'Tag Push Hook', 'Merge Request Hook', 'System Hook'],
  bitbucket: ['repo:push', 'pullrequest:created', 'pullrequest:updated', 'pullrequest:fulfilled', 'diagnostics:ping'],
};
const BASES: Record<Known, () => Record<string, unknown>[]> = {
  github: () => [githubPush(), githubExample('pull_request', (p) => p.action === 'synchronize'), githubExample('ping')],
  gitlab: () => [
    fixture('gitlab/push.json'),
    fixture('gitlab/tag-push.json'),
    fixture('gitlab/merge-request-open.json'),
  ],
  bitbucket: () => [fixture('bitbucket/repo-push.json'), fixture('bitbucket/pullrequest-created.json')],
};
const BASE_PAYLOADS = Object.fromEntries(PROVIDERS.map((p) => [p, BASES[p]()])) as Record<
  Known,
  Record<string, unknown>[]
>;

type Path = (string | number)[];

function pathsOf(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (prefix.length > 0) out.push(prefix);
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      pathsOf(v, [...prefix, i], out);
    });
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) pathsOf(v, [...prefix, k], out);
  }
  return out;
}

const BASE_PATHS = Object.fromEntries(PROVIDERS.map((p) => [p, BASE_PAYLOADS[p].map((b) => pathsOf(b))])) as Record<
  Known,
  Path[][]
>;

function setAt(target: Loose, path: Path, value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node !== 'object' || node === null) return;
    node = node[key];
  }
  if (typeof node === 'object' && node !== null) node[path[path.length - 1]!] = value;
}

function signed(provider: Known, event: string, payload: Record<string, unknown>) {
  if (provider === 'github') return githubDelivery(event, payload);
  if (provider === 'gitlab') return gitlabDelivery(event, payload);
  return bitbucketDelivery(event, payload);
}

/** Whether the request carries a valid signature, checked here independently of the code under test. */
function validlySigned(provider: string | undefined, headers: Record<string, string>, body: Buffer): boolean {
  const secrets = [SECRET, PREVIOUS_SECRET];
  if (provider === 'gitlab') return secrets.includes(headers['x-gitlab-token'] ?? '');
  const header = provider === 'github' ? headers['x-hub-signature-256'] : headers['x-hub-signature'];
  if (header === undefined || !/^sha256=[0-9a-fA-F]{64}$/.test(header)) return false;
  const given = Buffer.from(header.slice(7), 'hex');
  return secrets.some((s) => timingSafeEqual(given, createHmac('sha256', s).update(body).digest()));
}

const headerName = fc.oneof(
  fc.constantFrom(
    'content-type',
    'x-github-event',
    'x-github-delivery',
    'x-hub-signature-256',
    'x-hub-signature',
    'x-gitlab-event',
    'x-gitlab-token',
    'idempotency-key',
    'x-gitlab-event-uuid',
    'x-event-key',
    'x-request-uuid',
  ),
  fc.string({ minLength: 1, maxLength: 20 }),
);
const headerValue = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'push', 'Push Hook', 'repo:push', SECRET),
  fc.stringMatching(/^sha256=[0-9a-f]{64}$/),
);

const anything = fc.record({
  provider: fc.option(fc.oneof(fc.constantFrom(...PROVIDERS), fc.string({ maxLength: 12 })), { nil: undefined }),
  headers: fc.dictionary(headerName, headerValue, { maxKeys: 8 }),
  body: fc.oneof(
    fc.uint8Array({ maxLength: 512 }),
    fc.json().map((j) => new Uint8Array(Buffer.from(j))),
  ),
  base64: fc.boolean(),
});

const fuzzedPayload = fc
  .record({
    provider: fc.constantFrom(...PROVIDERS),
    pick: fc.nat(),
    event: fc.nat(),
    edits: fc.array(fc.tuple(fc.nat(), fc.jsonValue({ maxDepth: 2 })), { minLength: 1, maxLength: 4 }),
    base64: fc.boolean(),
  })
  .map(({ provider, pick, event, edits, base64 }) => {
    const bases = BASE_PAYLOADS[provider];
    const payload = structuredClone(bases[pick % bases.length]!);
    const paths = BASE_PATHS[provider][pick % bases.length]!;
    for (const [at, value] of edits) setAt(payload, paths[at % paths.length]!, value);
    const events = EVENTS[provider];
    return { raw: signed(provider, events[event % events.length]!, payload), base64 };
  });

const tampered = fc
  .record({
    provider: fc.constantFrom(...PROVIDERS),
    pick: fc.nat(),
    flip: fc.nat(),
    mode: fc.constantFrom('body', 'signature', 'drop-signature', 'other-secret'),
    forged: fc.stringMatching(/^[0-9a-f]{64}$/),
    base64: fc.boolean(),
  })
  .map(({ provider, pick, flip, mode, forged, base64 }) => {
    const bases = BASE_PAYLOADS[provider];
    const base = bases[pick % bases.length]!;
    const event = EVENTS[provider][0]!;
    const raw = signed(provider, event, base);
    const headers = { ...raw.headers };
    const signatureHeader = { github: 'X-Hub-Signature-256', gitlab: 'X-Gitlab-Token', bitbucket: 'X-Hub-Signature' }[
      provider
    ];
    let body = Buffer.from(raw.body);
    if (mode === 'body') {
      body = Buffer.from(body);
      const i = flip % body.length;
      body[i] = body[i]! ^ 0x01;
    } else if (mode === 'signature') {
      headers[signatureHeader] = provider === 'gitlab' ? forged : `sha256=${forged}`;
    } else if (mode === 'drop-signature') {
      delete headers[signatureHeader];
    } else {
      headers[signatureHeader] = signed(provider, event, base).headers[signatureHeader]!.replace(/./, 'x');
    }
    return { raw: { ...raw, headers, body }, base64 };
  });

function silentMetrics(): Metrics {
  const before = process.env['POWERTOOLS_METRICS_DISABLED'];
  process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
  try {
    return new Metrics({ namespace: 'Test', serviceName: 'property' });
  } finally {
    if (before === undefined) delete process.env['POWERTOOLS_METRICS_DISABLED'];
    else process.env['POWERTOOLS_METRICS_DISABLED'] = before;
  }
}

describe('the webhook function under arbitrary input', () => {
  it('never answers 5xx and never starts an execution without a valid signature', async () => {
    // Prepare
    const starts: StartRequest[] = [];
    const handler = createWebhookHandler({
      config: CONFIG,
      secrets: new StaticWebhookSecrets(SECRETS),
      workflow: {
        start: async (request) => {
          starts.push(request);
          return { outcome: 'started', executionArn: `arn:x:${request.name}` };
        },
      },
      parking: { park: async () => undefined },
      // Logs and metrics are not what this property is about: keep 10,000 runs quick.
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: silentMetrics(),
    });
    const input = fc.oneof(
      { weight: 2, arbitrary: anything.map((a) => ({ raw: a, base64: a.base64 })) },
      { weight: 2, arbitrary: fuzzedPayload },
      { weight: 1, arbitrary: tampered },
    );
    let runs = 0;

    // Act
    await captureStdout(() =>
      fc.assert(
        fc.asyncProperty(input, async ({ raw, base64 }) => {
          runs++;
          starts.length = 0;
          const event = apiEvent(raw, { base64 });
          const response = await handler(event, CONTEXT);
          const sentBody = event.isBase64Encoded
            ? Buffer.from(event.body!, 'base64')
            : Buffer.from(event.body ?? '', 'utf8');

          // Assess
          expect(response.statusCode).toBeLessThan(500);
          if (starts.length > 0)
            expect(validlySigned(raw.provider, event.headers as Record<string, string>, sentBody)).toBe(true);
        }),
        { numRuns: 10_000 },
      ),
    );

    // Assess
    expect(runs).toBeGreaterThanOrEqual(10_000);
  });
});
