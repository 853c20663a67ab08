import { createHmac } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StaticWebhookSecrets } from '../../../../adapters/local/secrets';
import { validateConfig } from '../../../../core/config';
import type { StartRequest } from '../../../../core/intake/ports';
import { createWebhookHandler } from '../../../../functions/webhook/handler';
import { CONFIG_INPUT, SECRETS } from '../../intake/support';
import { apiEvent, CONTEXT } from './support';

/**
 * The property a hand-off (`POST /webhooks/generic`, ADR 0100) must hold whatever arrives: no body or header yields
 * a 5xx, nothing unsigned starts a run, and whatever starts is what the configuration allows (an image by digest
 * from an allowed registry, allowed environments). Inputs: real hand-offs whose fields are replaced by random JSON,
 * signed; anything at all, signed or not.
 */

const SECRET = 'the property test hand-off secret';
const CONFIG = validateConfig(
  {
    ...CONFIG_INPUT,
    handoffs: {
      sources: {
        jenkins: {
          repositories: [{ name: 'Codertocat/Hello-World', environments: ['staging'] }],
          registries: ['ghcr.io/codertocat'],
          manifests: ['s3://acme-artifacts/'],
          defaultManifests: 's3://acme-artifacts/{commit}',
        },
      },
    },
  },
  'property test configuration',
);
const BASE: Record<string, unknown> = {
  repository: 'Codertocat/Hello-World',
  commit: 'a'.repeat(40),
  ref: 'refs/heads/master',
  image: `ghcr.io/codertocat/hello@sha256:${'b'.repeat(64)}`,
  manifests: 's3://acme-artifacts/1',
  environments: ['staging'],
  tests: false,
};
const FIELDS = [...Object.keys(BASE), 'provider', 'cloneUrl', 'buildUrl'];

function world() {
  const starts: StartRequest[] = [];
  const handler = createWebhookHandler({
    config: CONFIG,
    secrets: new StaticWebhookSecrets(SECRETS),
    handoffSecrets: { get: async (source) => (source === 'jenkins' ? { current: SECRET, previous: null } : null) },
    workflow: {
      start: async (request) => {
        starts.push(request);
        return { outcome: 'started', executionArn: `arn:aws:states:eu-west-1:1:execution:p:${request.name}` };
      },
    },
    parking: { park: async () => {} },
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'Test', serviceName: 'test' }),
  });
  return { handler, starts };
}

function event(body: string, headers: Record<string, string>) {
  return apiEvent({ provider: 'generic', headers: { 'Content-Type': 'application/json', ...headers }, body });
}

const signed = (body: string, delivery: string) =>
  event(body, {
    'X-Stepline-Source': 'jenkins',
    'X-Stepline-Delivery': delivery,
    'X-Stepline-Signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
  });

describe('the hand-off, whatever arrives', () => {
  it('answers signed hand-offs with random fields below 500, and starts only what the configuration allows', async () => {
    // Prepare
    const edits = fc.dictionary(fc.constantFrom(...FIELDS), fc.jsonValue(), { maxKeys: 4 });
    let started = 0;

    // Act + Assess
    await fc.assert(
      fc.asyncProperty(edits, fc.stringMatching(/^[\x21-\x7e]{1,40}$/), async (edit, delivery) => {
        const { handler, starts } = world();
        const result = await handler(signed(JSON.stringify({ ...BASE, ...edit }), delivery), CONTEXT);
        expect(result.statusCode).toBeLessThan(500);
        started += starts.length;
        for (const start of starts) {
          expect(start.input.prebuilt?.image.repository.startsWith('ghcr.io/codertocat/')).toBe(true);
          expect(start.input.prebuilt?.image.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
          // The one environment the source may deploy to; none only for a hand-off that asks for the tests alone.
          const environments = start.input.route.environments.map((e) => e.name);
          expect(environments.length === 0 ? [start.input.handoff?.tests] : environments).toEqual(
            environments.length === 0 ? [true] : ['staging'],
          );
          expect(start.input.prebuilt?.manifestsLocation?.startsWith('s3://acme-artifacts/')).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
    // Some edits leave the hand-off valid (an unknown field, a value equal to the base): the property is not empty.
    expect(started).toBeGreaterThan(0);
  });

  it('answers anything at all below 500, and starts nothing unsigned', async () => {
    // Prepare
    const headers = fc.dictionary(
      fc.constantFrom('X-Stepline-Source', 'X-Stepline-Delivery', 'X-Stepline-Signature-256', 'Content-Type'),
      fc.string({ maxLength: 80 }),
    );

    // Act + Assess
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 400 }), headers, async (body, given) => {
        const { handler, starts } = world();
        const result = await handler(event(body, given), CONTEXT);
        expect(result.statusCode).toBeLessThan(500);
        expect(starts).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
