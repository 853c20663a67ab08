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

/**
 * S3ManifestSource against moto is test/aws/adapters/artifacts.test.ts (a single file, a folder, a missing key, a
 * prefix). What stays here is what moto cannot produce cheaply or at all: S3's 403 answers to a role that may not
 * list (moto is the bucket's owner), and listings that span pages (moto pages at 1,000 keys; uploading that many
 * takes it about 8 s).
 */
describe('S3ManifestSource', () => {
  const s3 = mockClient(S3Client);
  // The stub is on the client's prototype: later files in this worker must get the real send back.
  afterAll(() => s3.restore());
  const body = (text: string) => ({ Body: { transformToString: async () => text } }) as never;
  const accessDenied = () =>
    Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });

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

  it('looks for a folder when S3 refuses a single object with 403, as it answers for a key the role may not list', async () => {
    // Prepare
    s3.on(GetObjectCommand, { Key: 'manifests/shop/abc/app.yaml' }).rejects(accessDenied());
    s3.on(ListObjectsV2Command, { Prefix: 'manifests/shop/abc/app.yaml/' }).resolves({
      Contents: [{ Key: 'manifests/shop/abc/app.yaml/web.yaml' }],
      IsTruncated: false,
    });
    s3.on(GetObjectCommand, { Key: 'manifests/shop/abc/app.yaml/web.yaml' }).resolves(body(YAML));

    // Act
    const files = await new S3ManifestSource(new S3Client({ region: 'eu-west-1' })).read(
      's3://artifacts/manifests/shop/abc',
      'app.yaml',
    );

    // Assess
    expect(files).toEqual([{ path: 'web.yaml', content: YAML }]);
  });

  it('says that S3 refused the object when there is no folder of that name either', async () => {
    // Prepare
    s3.on(GetObjectCommand).rejects(accessDenied());
    s3.on(ListObjectsV2Command).resolves({ IsTruncated: false });

    // Act
    const read = new S3ManifestSource(new S3Client({ region: 'eu-west-1' })).read(
      's3://artifacts/manifests/shop/abc',
      'app.yaml',
    );

    // Assess
    await expect(read).rejects.toThrow(
      'S3 refused to read the object s3://artifacts/manifests/shop/abc/app.yaml (AccessDenied: Access Denied; S3 ' +
        'answers so for a missing key too), and no .yaml, .yml or .json object in bucket artifacts under the prefix',
    );
  });

  it('names the bucket, the prefix and the permission when it may not list', async () => {
    // Prepare
    s3.on(ListObjectsV2Command).rejects(accessDenied());

    // Act
    const read = new S3ManifestSource(new S3Client({ region: 'eu-west-1' })).read('s3://artifacts/builds/42', 'deploy');

    // Assess
    await expect(read).rejects.toThrow(
      'Cannot list bucket artifacts under the prefix "builds/42/deploy/": AccessDenied: Access Denied (the role ' +
        'needs s3:ListBucket on bucket artifacts for this prefix)',
    );
  });

  it('refuses a folder with more manifest files than the limit, counting across pages', async () => {
    // Prepare
    const page = (from: number) => ({
      Contents: Array.from({ length: 300 }, (_, i) => ({ Key: `m/${String(from + i).padStart(4, '0')}.yaml` })),
      IsTruncated: true,
      NextContinuationToken: `after-${from}`,
    });
    s3.on(ListObjectsV2Command).resolvesOnce(page(0)).resolvesOnce(page(300));

    // Act
    const read = new S3ManifestSource(new S3Client({ region: 'eu-west-1' })).read('s3://artifacts/m', '.');

    // Assess
    await expect(read).rejects.toThrow('s3://artifacts/m/ holds more than 500 manifest files');
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(2);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
  });
});
