import { describe, expect, it } from 'vitest';
import {
  WriteBackError,
  writeArgoCdSource,
  writeFluxMarkers,
  writeHelmValues,
  writeKustomization,
} from '../../../core/gitops/writeback';

const REPO = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api';
const DIGEST = `sha256:${'a'.repeat(64)}`;
const OLD = `sha256:${'b'.repeat(64)}`;
const update = { repository: REPO, digest: DIGEST };

describe('kustomize images: entry (kubectl.docs.kubernetes.io, kustomization/images)', () => {
  // The documented example, with comments, quoting and a second entry that must stay as they are.
  const before = [
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    '# images pinned by the release pipeline',
    'images:',
    '  - name: postgres',
    '    newName: my-registry/my-postgres',
    '    newTag: v1',
    '  - name: shop/api   # the API',
    '    newName: "old.example/shop/api"',
    '    newTag: 1.7.9 # replaced by a digest',
    'resources:',
    '- deployment.yaml',
    '',
  ].join('\n');

  it('sets newName and digest of the entry, drops its newTag, and leaves every other byte', () => {
    const result = writeKustomization(before, 'shop/api', update);
    expect(result.after).toBe(
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        '# images pinned by the release pipeline',
        'images:',
        '  - name: postgres',
        '    newName: my-registry/my-postgres',
        '    newTag: v1',
        '  - name: shop/api   # the API',
        `    newName: "${REPO}"`,
        `    digest: ${DIGEST}`,
        'resources:',
        '- deployment.yaml',
        '',
      ].join('\n'),
    );
    expect(result.changes).toEqual([
      { field: 'images[shop/api]', from: 'old.example/shop/api:1.7.9', to: `${REPO}@${DIGEST}` },
    ]);
  });

  it('replaces only the digest when the entry already names the repository', () => {
    const pinned = `images:\n- name: shop/api\n  newName: ${REPO}\n  digest: ${OLD} # pinned\n`;
    const result = writeKustomization(pinned, 'shop/api', update);
    expect(result.after).toBe(`images:\n- name: shop/api\n  newName: ${REPO}\n  digest: ${DIGEST} # pinned\n`);
    expect(result.changes[0]?.from).toBe(`${REPO}@${OLD}`);
  });

  it("appends an entry at the dashes' column when none has the name", () => {
    const result = writeKustomization(before, 'shop/web', update);
    expect(result.after).toBe(
      before.replace(
        '    newTag: 1.7.9 # replaced by a digest\n',
        `    newTag: 1.7.9 # replaced by a digest\n  - name: shop/web\n    newName: ${REPO}\n    digest: ${DIGEST}\n`,
      ),
    );
  });

  it('adds images: at the end when the file has none, and changes nothing when already right', () => {
    const bare = 'resources:\n  - deployment.yaml\n';
    const result = writeKustomization(bare, 'shop/api', update);
    expect(result.after).toBe(`${bare}images:\n- name: shop/api\n  newName: ${REPO}\n  digest: ${DIGEST}\n`);
    expect(writeKustomization(result.after, 'shop/api', update)).toEqual({ after: result.after, changes: [] });
  });

  it('keeps CRLF line endings', () => {
    const crlf = 'images:\r\n- name: shop/api\r\n  newTag: v1\r\nresources:\r\n- a.yaml\r\n';
    expect(writeKustomization(crlf, 'shop/api', update).after).toBe(
      `images:\r\n- name: shop/api\r\n  newName: ${REPO}\r\n  digest: ${DIGEST}\r\nresources:\r\n- a.yaml\r\n`,
    );
  });

  it('refuses a file that is not YAML, naming it', () => {
    expect(() => writeKustomization('images: [\n', 'x', update)).toThrow(WriteBackError);
  });
});

describe('Helm values path', () => {
  const before = [
    '# Default values for api.',
    'replicaCount: 2',
    'image:',
    '  repository: old.example/api # set by CI',
    "  digest: ''",
    '  pullPolicy: IfNotPresent',
    'service:',
    '  port: 80',
    '',
  ].join('\n');

  it('sets the digest and the repository at their dotted keys, in their quoting style', () => {
    const result = writeHelmValues(before, { digestKey: 'image.digest', repositoryKey: 'image.repository' }, update);
    expect(result.after).toBe(
      before.replace('old.example/api # set', `${REPO} # set`).replace("digest: ''", `digest: '${DIGEST}'`),
    );
    expect(result.changes.map((c) => [c.field, c.from])).toEqual([
      ['image.repository', 'old.example/api'],
      ['image.digest', ''],
    ]);
  });

  it("adds a missing last key at the map's column, and refuses a missing parent", () => {
    const noDigest = 'image:\n  repository: x\nservice:\n  port: 80\n';
    expect(writeHelmValues(noDigest, { digestKey: 'image.digest' }, update).after).toBe(
      `image:\n  repository: x\n  digest: ${DIGEST}\nservice:\n  port: 80\n`,
    );
    expect(() => writeHelmValues(noDigest, { digestKey: 'app.image.digest' }, update)).toThrow(/no map at app/);
  });
});

describe('Flux image-policy markers (fluxcd.io image update guide)', () => {
  const before = [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'spec:',
    '  template:',
    '    spec:',
    '      containers:',
    '        - name: api',
    '          image: ghcr.io/acme/api:5.0.0 # {"$imagepolicy": "flux-system:api"}',
    '        - name: sidecar',
    '          image: ghcr.io/acme/sidecar:1.0.0 # {"$imagepolicy": "flux-system:sidecar"}',
    '---',
    'image:',
    '  repository: "ghcr.io/acme/api" # {"$imagepolicy": "flux-system:api:name"}',
    '  tag: 5.0.0 # {"$imagepolicy": "flux-system:api:tag"}',
    `  digest: ${OLD} # {"$imagepolicy": "flux-system:api:digest"}`,
    '',
  ].join('\n');

  it('sets the marked values of the policy only: full marker, :name and :digest; :tag is left', () => {
    const result = writeFluxMarkers(before, 'flux-system:api', update);
    expect(result.after).toBe(
      before
        .replace('ghcr.io/acme/api:5.0.0 #', `${REPO}@${DIGEST} #`)
        .replace('"ghcr.io/acme/api" #', `"${REPO}" #`)
        .replace(`${OLD} #`, `${DIGEST} #`),
    );
    expect(result.changes.map((c) => c.field)).toEqual([
      'line 8 ($imagepolicy flux-system:api)',
      'line 13 ($imagepolicy flux-system:api:name)',
      'line 15 ($imagepolicy flux-system:api:digest)',
    ]);
  });

  it("refuses a file without the policy's marker", () => {
    expect(() => writeFluxMarkers(before, 'flux-system:web', update)).toThrow(
      /no \{"\$imagepolicy": "flux-system:web"\}/,
    );
  });
});

describe("Argo CD Image Updater's .argocd-source-<app>.yaml", () => {
  it('creates the file as the updater writes it', () => {
    expect(writeArgoCdSource(null, 'shop/api', update).after).toBe(
      `kustomize:\n  images:\n  - shop/api=${REPO}@${DIGEST}\n`,
    );
  });

  it('replaces the item of the image and keeps the other overrides', () => {
    const before = `helm:\n  parameters:\n  - name: replicas\n    value: "3"\nkustomize:\n  images:\n  - other=ghcr.io/other:1\n  - shop/api=${REPO}@${OLD}\n`;
    const result = writeArgoCdSource(before, 'shop/api', update);
    expect(result.after).toBe(before.replace(OLD, DIGEST));
    expect(result.changes).toEqual([
      { field: 'kustomize.images[shop/api]', from: `shop/api=${REPO}@${OLD}`, to: `shop/api=${REPO}@${DIGEST}` },
    ]);
  });

  it('appends the item when the image is not listed yet', () => {
    const before = 'kustomize:\n  images:\n    - other=ghcr.io/other:1\n';
    expect(writeArgoCdSource(before, 'shop/api', update).after).toBe(`${before}    - shop/api=${REPO}@${DIGEST}\n`);
  });
});
