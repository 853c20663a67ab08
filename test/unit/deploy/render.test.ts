import { describe, expect, it } from 'vitest';
import type { ImageRef } from '../../../core/deploy/contracts';
import { ManifestInvalid } from '../../../core/deploy/errors';
import { type RenderContext, renderObjects } from '../../../core/deploy/render';
import type { KubernetesObject } from '../../../core/deploy/types';

const REPOSITORY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api';
const DIGEST = `sha256:${'c'.repeat(64)}`;
const SHA = '3f786850e387550fdab836ed7e6dc881de23001b';

function deployment(
  containers: { name: string; image: string }[],
  init: { name: string; image: string }[] = [],
): KubernetesObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api', namespace: 'shop', labels: { app: 'api' } },
    spec: {
      selector: { matchLabels: { app: 'api' } },
      template: {
        metadata: { labels: { app: 'api' } },
        spec: { containers, ...(init.length ? { initContainers: init } : {}) },
      },
    },
  };
}

function context(
  image: Partial<ImageRef> = {},
  ref: RenderContext['request']['ref'] = { name: 'main', kind: 'branch' },
): RenderContext {
  return {
    image: { repository: REPOSITORY, digest: DIGEST, ...image },
    request: { commit: { sha: SHA }, repository: { fullName: 'acme/shop' }, ref },
    executionName: 'shop-main-3f78685',
    environment: 'production',
  };
}

function images(object: KubernetesObject): string[] {
  const spec = (object['spec'] as { template: { spec: Record<string, { image: string }[]> } }).template.spec;
  return [...(spec['initContainers'] ?? []), ...(spec['containers'] ?? [])].map((c) => c.image);
}

function renderError(objects: KubernetesObject[], ctx: RenderContext): string {
  try {
    renderObjects(objects, ctx);
  } catch (error) {
    if (error instanceof ManifestInvalid) return error.message;
    throw error;
  }
  throw new Error('expected ManifestInvalid');
}

describe('renderObjects', () => {
  it.each([
    ['a placeholder of the same repository path, any tag', 'shop/api:latest'],
    ['the full repository URI with another tag', `${REPOSITORY}:v1`],
    ['the full repository URI pinned to an older digest', `${REPOSITORY}@sha256:${'0'.repeat(64)}`],
  ])('puts the built image, by digest, into a container that runs %s', (_case, placeholder) => {
    // Act
    const [rendered] = renderObjects([deployment([{ name: 'server', image: placeholder }])], context());

    // Assess
    expect(images(rendered!)).toEqual([`${REPOSITORY}@${DIGEST}`]);
  });

  it("matches a container by name (the repository's last segment) and leaves sidecars and init containers of other images alone", () => {
    // Prepare
    const object = deployment(
      [
        { name: 'api', image: 'placeholder' },
        { name: 'proxy', image: 'envoyproxy/envoy:v1.30.1' },
      ],
      [{ name: 'migrate', image: 'flyway/flyway:10' }],
    );

    // Act
    const [rendered] = renderObjects([object], context());

    // Assess
    expect(images(rendered!)).toEqual(['flyway/flyway:10', `${REPOSITORY}@${DIGEST}`, 'envoyproxy/envoy:v1.30.1']);
  });

  it('renders exactly the containers the event names, init containers included', () => {
    // Prepare
    const object = deployment(
      [
        { name: 'web', image: 'x' },
        { name: 'worker', image: 'y' },
      ],
      [{ name: 'migrate', image: 'z' }],
    );

    // Act
    const [rendered] = renderObjects([object], context({ containers: ['migrate', 'worker'] }));

    // Assess
    expect(images(rendered!)).toEqual([`${REPOSITORY}@${DIGEST}`, 'x', `${REPOSITORY}@${DIGEST}`]);
  });

  it('stamps version, environment, commit, execution and change cause on every object, and the version on pod templates', () => {
    // Prepare
    const configMap: KubernetesObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', namespace: 'shop' },
    };

    // Act
    const [rendered, cm] = renderObjects([deployment([{ name: 'api', image: 'shop/api' }]), configMap], context());

    // Assess
    for (const object of [rendered!, cm!]) {
      expect(object.metadata.labels).toMatchObject({
        'app.kubernetes.io/version': SHA.slice(0, 12),
        'stepline.dev/environment': 'production',
      });
      expect(object.metadata.annotations).toEqual({
        'stepline.dev/commit': SHA,
        'stepline.dev/repository': 'acme/shop',
        'stepline.dev/execution': 'shop-main-3f78685',
        'kubernetes.io/change-cause': `stepline shop-main-3f78685: acme/shop@${SHA.slice(0, 12)} to production`,
      });
    }
    const spec = rendered!['spec'] as { selector: unknown; template: { metadata: { labels: Record<string, string> } } };
    expect(spec.template.metadata.labels).toEqual({ app: 'api', 'app.kubernetes.io/version': SHA.slice(0, 12) });
    expect(spec.selector).toEqual({ matchLabels: { app: 'api' } });
  });

  it('uses a tag as the version label when a tag was built', () => {
    // Act
    const [rendered] = renderObjects(
      [deployment([{ name: 'api', image: 'x' }])],
      context({}, { name: 'v1.4.0', kind: 'tag' }),
    );

    // Assess
    expect(rendered!.metadata.labels?.['app.kubernetes.io/version']).toBe('v1.4.0');
  });

  it('does not change the objects it was given', () => {
    // Prepare
    const object = deployment([{ name: 'api', image: 'shop/api:latest' }]);
    const before = structuredClone(object);

    // Act
    renderObjects([object], context());

    // Assess
    expect(object).toEqual(before);
  });

  it.each([
    [
      'no container runs the image',
      [deployment([{ name: 'web', image: 'nginx:1.25' }])],
      {},
      'is run by no container: none has an image of that repository or is named "api" (containers: web)',
    ],
    [
      'a named container does not exist',
      [deployment([{ name: 'api', image: 'x' }])],
      { containers: ['worker'] },
      'names container "worker", which no workload has (containers: api)',
    ],
    [
      'the digest is a tag',
      [deployment([{ name: 'api', image: 'x' }])],
      { digest: 'latest' },
      'image.digest must be "sha256:" and 64 lowercase hex digits',
    ],
    [
      'the repository carries a tag',
      [deployment([{ name: 'api', image: 'x' }])],
      { repository: `${REPOSITORY}:v1` },
      'is not an image repository without tag',
    ],
  ])('refuses when %s', (_case, objects, image, expected) => {
    // Act
    const message = renderError(objects, context(image));

    // Assess
    expect(message).toContain(expected);
  });
});
