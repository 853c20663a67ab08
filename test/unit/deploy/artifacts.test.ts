import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3ManifestSource } from '../../../adapters/aws/artifacts';
import { FileManifestSource } from '../../../adapters/local/artifacts';
import { ManifestsNotFound } from '../../../core/deploy/errors';

const YAML = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n';

describe('FileManifestSource', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'stepline-artifacts-'));
    await mkdir(join(root, 'deploy/production/base'), { recursive: true });
    await writeFile(join(root, 'deploy/production/b.yaml'), YAML);
    await writeFile(join(root, 'deploy/production/a.yml'), YAML);
    await writeFile(join(root, 'deploy/production/base/c.json'), '{}');
    await writeFile(join(root, 'deploy/production/README.md'), '# not a manifest');
    await writeFile(join(root, 'rendered.yaml'), YAML);
    await mkdir(join(root, 'empty'));
    await writeFile(join(root, 'empty/notes.txt'), 'x');
    await symlink('/etc', join(root, 'deploy/production/escape'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reads every .yaml, .yml and .json file below a folder, in path order, and nothing else', async () => {
    // Act
    const files = await new FileManifestSource().read(`file://${root}`, 'deploy/production');

    // Assess
    expect(files.map((f) => f.path)).toEqual(['a.yml', 'b.yaml', 'base/c.json']);
    expect(files[0]!.content).toBe(YAML);
  });

  it('reads one file when the path names a file', async () => {
    // Act
    const files = await new FileManifestSource().read(`file://${root}/`, './rendered.yaml');

    // Assess
    expect(files).toEqual([{ path: 'rendered.yaml', content: YAML }]);
  });

  it.each([
    ['a path that does not exist', 'nowhere', 'No manifests at nowhere'],
    ['a folder without manifests', 'empty', 'holds no .yaml, .yml or .json file'],
    ['a path that climbs out with ..', '../etc', 'climbs out of the manifests location'],
  ])('refuses %s', async (_case, path, expected) => {
    // Act
    const read = new FileManifestSource().read(`file://${root}`, path);

    // Assess
    await expect(read).rejects.toThrow(ManifestsNotFound);
    await expect(read).rejects.toThrow(expected);
  });

  it('refuses a location that is not an absolute file URL', async () => {
    // Act & Assess
    await expect(new FileManifestSource().read('file://relative/path', 'x')).rejects.toThrow(
      'must be an absolute file:// URL',
    );
  });
});

describe('S3ManifestSource', () => {
  const s3 = mockClient(S3Client);
  const body = (text: string) => ({ Body: { transformToString: async () => text } }) as never;
  const noSuchKey = Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });

  beforeEach(() => {
    s3.reset();
  });

  it('reads the manifests below a prefix, across pages, in key order, skipping other files', async () => {
    // Prepare
    s3.on(ListObjectsV2Command, { Bucket: 'artifacts', Prefix: 'builds/42/deploy/production/' })
      .resolvesOnce({
        Contents: [{ Key: 'builds/42/deploy/production/z.yaml' }, { Key: 'builds/42/deploy/production/notes.txt' }],
        IsTruncated: true,
        NextContinuationToken: 't1',
      })
      .resolvesOnce({ Contents: [{ Key: 'builds/42/deploy/production/a/b.json' }], IsTruncated: false });
    s3.on(GetObjectCommand, { Bucket: 'artifacts', Key: 'builds/42/deploy/production/z.yaml' }).resolves(body(YAML));
    s3.on(GetObjectCommand, { Bucket: 'artifacts', Key: 'builds/42/deploy/production/a/b.json' }).resolves(body('{}'));

    // Act
    const files = await new S3ManifestSource(new S3Client({ region: 'eu-west-1' })).read(
      's3://artifacts/builds/42/',
      'deploy/production',
    );

    // Assess
    expect(files).toEqual([
      { path: 'a/b.json', content: '{}' },
      { path: 'z.yaml', content: YAML },
    ]);
    expect(s3.commandCalls(ListObjectsV2Command)[1]!.args[0].input.ContinuationToken).toBe('t1');
  });

  it('reads one object when the path names a manifest file', async () => {
    // Prepare
    s3.on(GetObjectCommand, { Bucket: 'artifacts', Key: 'builds/42/all.yaml' }).resolves(body(YAML));

    // Act
    const files = await new S3ManifestSource(new S3Client({ region: 'eu-west-1' })).read(
      's3://artifacts/builds/42',
      'all.yaml',
    );

    // Assess
    expect(files).toEqual([{ path: 'all.yaml', content: YAML }]);
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(0);
  });

  it('says where it looked when there are no manifests', async () => {
    // Prepare
    s3.on(GetObjectCommand).rejects(noSuchKey);
    s3.on(ListObjectsV2Command).resolves({ Contents: [], IsTruncated: false });

    // Act
    const read = new S3ManifestSource(new S3Client({ region: 'eu-west-1' })).read(
      's3://artifacts/builds/42',
      'k8s.yaml',
    );

    // Assess
    await expect(read).rejects.toThrow(
      'No manifests at k8s.yaml in s3://artifacts/builds/42: no object s3://artifacts/builds/42/k8s.yaml',
    );
  });

  it('names the bucket and the S3 error when it may not list', async () => {
    // Prepare
    s3.on(ListObjectsV2Command).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));

    // Act
    const read = new S3ManifestSource(new S3Client({ region: 'eu-west-1' })).read('s3://artifacts/builds/42', 'deploy');

    // Assess
    await expect(read).rejects.toThrow('Cannot list s3://artifacts/builds/42/deploy: AccessDenied: Access Denied');
  });
});
