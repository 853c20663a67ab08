import { PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3ManifestSource } from '../../../adapters/aws/artifacts';
import { ManifestsNotFound } from '../../../core/deploy/errors';
import { onlyOfType, useMoto } from '../../support/moto/fixture';

/**
 * The manifests source (adapters/aws/artifacts.ts) against moto's S3, in the artifacts bucket the synthesized
 * template declares (BuildProjects/Artifacts: versioned, KMS default encryption, access logs to its own bucket).
 * The objects are laid out as the build uploads them: `manifests/<repository>/<commit>/<path>`. What moto cannot
 * stand in for stays in test/unit/deploy/artifacts.test.ts: S3's 403 answers to a role without s3:ListBucket, and
 * listings that span pages (over 1,000 keys).
 */

const moto = useMoto({ select: (id) => id.startsWith('BuildProjectsArtifacts') });

const YAML = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\n`;
const bucket = () => onlyOfType(moto().standIns, 'AWS::S3::Bucket', 'BuildProjectsArtifacts').ref;
const location = () => `s3://${bucket()}/manifests/shop/abc`;
const source = () => new S3ManifestSource(moto().clients.s3);

describe('the S3 manifests source (moto)', () => {
  beforeEach(async () => {
    // Prepare: the build's upload for commit abc.
    const objects: Record<string, string> = {
      'manifests/shop/abc/all.yaml': YAML('all'),
      'manifests/shop/abc/deploy/staging/web.yaml': YAML('web'),
      'manifests/shop/abc/deploy/staging/api.yml': YAML('api'),
      'manifests/shop/abc/deploy/staging/base/config.json': '{"kind":"ConfigMap"}',
      'manifests/shop/abc/deploy/staging/README.md': '# not a manifest',
      'manifests/shop/abc/deploy/staging-old/stale.yaml': YAML('stale'),
      'manifests/shop/def/deploy/staging/other-commit.yaml': YAML('other'),
    };
    await Promise.all(
      Object.entries(objects).map(([Key, Body]) =>
        moto().clients.s3.send(new PutObjectCommand({ Bucket: bucket(), Key, Body })),
      ),
    );
  });

  it('reads a single file when the path names a manifest object', async () => {
    // Act
    const files = await source().read(location(), 'all.yaml');

    // Assess
    expect(files).toEqual([{ path: 'all.yaml', content: YAML('all') }]);
  });

  it('reads a folder: every .yaml, .yml and .json object below it, in key order, and nothing else', async () => {
    // Act
    const files = await source().read(location(), './deploy/staging/');

    // Assess: not the README, not the sibling folder staging-old, not another commit's upload.
    expect(files).toEqual([
      { path: 'api.yml', content: YAML('api') },
      { path: 'base/config.json', content: '{"kind":"ConfigMap"}' },
      { path: 'web.yaml', content: YAML('web') },
    ]);
  });

  it('reads the folder at the location itself when the path is "."', async () => {
    // Act
    const files = await source().read(`s3://${bucket()}/manifests/shop/def/deploy`, '.');

    // Assess
    expect(files).toEqual([{ path: 'staging/other-commit.yaml', content: YAML('other') }]);
  });

  it('says where it looked when a manifest object is missing and there is no folder of that name', async () => {
    // Act
    const read = source().read(location(), 'k8s.yaml');

    // Assess: moto answers the owner's GetObject of a missing key with 404 NoSuchKey, as S3 does.
    await expect(read).rejects.toThrow(ManifestsNotFound);
    await expect(read).rejects.toThrow(
      `No manifests at "k8s.yaml" in ${location()}: no object s3://${bucket()}/manifests/shop/abc/k8s.yaml, and no ` +
        `.yaml, .yml or .json object in bucket ${bucket()} under the prefix "manifests/shop/abc/k8s.yaml/"`,
    );
  });

  it('finds no manifests in a folder that holds none, naming the bucket and the prefix', async () => {
    // Act
    const read = source().read(location(), 'deploy/production');

    // Assess
    await expect(read).rejects.toThrow(
      `No manifests at "deploy/production" in ${location()}: no .yaml, .yml or .json object in bucket ${bucket()} ` +
        'under the prefix "manifests/shop/abc/deploy/production/"',
    );
  });

  it('names the bucket and the S3 error when the bucket does not exist', async () => {
    // Act
    const read = source().read('s3://no-such-bucket-stepline/manifests/shop/abc', 'deploy/staging');

    // Assess
    await expect(read).rejects.toThrow(/Cannot list bucket no-such-bucket-stepline .*NoSuchBucket/);
  });
});
