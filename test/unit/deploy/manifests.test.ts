import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManifestInvalid } from '../../../core/deploy/errors';
import { parseManifests } from '../../../core/deploy/manifests';

const FIXTURES = join(__dirname, '../../fixtures/manifests');

function parseError(content: string, path = 'deploy.yaml'): ManifestInvalid {
  try {
    parseManifests([{ path, content }]);
  } catch (error) {
    if (error instanceof ManifestInvalid) return error;
    throw error;
  }
  throw new Error('expected ManifestInvalid');
}

describe('parseManifests', () => {
  it('reads `helm template` output: one document per object, empty documents and comments skipped', () => {
    // Prepare
    const content = readFileSync(join(FIXTURES, 'helm-template.yaml'), 'utf8');

    // Act
    const documents = parseManifests([{ path: 'helm-template.yaml', content }]);

    // Assess
    expect(documents.map((d) => `${d.object.kind}/${d.object.metadata.name}`)).toEqual([
      'ServiceAccount/web',
      'Deployment/web',
    ]);
    expect(documents.map((d) => d.source)).toEqual([
      { file: 'helm-template.yaml', index: 1 },
      { file: 'helm-template.yaml', index: 2 },
    ]);
  });

  it('drops the server-owned fields rendered output carries (status, creationTimestamp)', () => {
    // Prepare
    const content = readFileSync(join(FIXTURES, 'helm-template.yaml'), 'utf8');

    // Act
    const deployment = parseManifests([{ path: 'x.yaml', content }])[1]!.object;

    // Assess
    expect(deployment).not.toHaveProperty('status');
    expect(deployment.metadata).not.toHaveProperty('creationTimestamp');
  });

  it('reads YAML as Kubernetes does (1.1): an unquoted yes is a boolean, a quoted one a string', () => {
    // Act
    const [document] = parseManifests([
      {
        path: 'a.yaml',
        content: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  quoted: "yes"\n  bare: yes\n',
      },
    ]);

    // Assess
    expect(document!.object['data']).toEqual({ quoted: 'yes', bare: true });
  });

  it('flattens a List into its items, numbering each as a document', () => {
    // Prepare
    const content = JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one' } },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'two' } },
      ],
    });

    // Act
    const documents = parseManifests([{ path: 'list.json', content }]);

    // Assess
    expect(documents.map((d) => [d.object.metadata.name, d.source.index])).toEqual([
      ['one', 1],
      ['two', 2],
    ]);
  });

  it.each([
    ['a YAML syntax error', 'apiVersion: v1\nkind: [ConfigMap\n', 'deploy.yaml#1: is not valid YAML at line'],
    ['a document that is a list', '- a\n- b\n', 'deploy.yaml#1: must be a mapping (an object), not a list'],
    [
      'a second document that is a string',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\njust text\n',
      'deploy.yaml#2: must be a mapping',
    ],
    [
      'a duplicate key',
      'apiVersion: v1\nkind: ConfigMap\nkind: Secret\nmetadata: {name: a}\n',
      'deploy.yaml#1: is not valid YAML',
    ],
  ])('names the file and the document of %s', (_case, content, expected) => {
    // Act
    const error = parseError(content);

    // Assess
    expect(error.name).toBe('ManifestInvalid');
    expect(error.message).toContain(expected);
    expect(error.message).toContain('nothing was applied');
  });
});
