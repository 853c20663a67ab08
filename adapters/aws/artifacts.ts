import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { ManifestsNotFound } from '../../core/deploy/errors';
import {
  isManifestFile,
  MANIFEST_LIMITS,
  normalizeManifestsPath,
  parseManifestsLocation,
} from '../../core/deploy/location';
import type { ManifestSource } from '../../core/deploy/ports';
import type { ManifestFile } from '../../core/deploy/types';

/**
 * Rendered manifests in S3 (`s3://bucket/prefix`, as the build uploads them): the manifests path names an
 * object, or a "folder" whose .yaml/.yml/.json objects are read in key order.
 */
export class S3ManifestSource implements ManifestSource {
  public constructor(private readonly s3: S3Client) {}

  public async read(location: string, path: string): Promise<ManifestFile[]> {
    const parsed = parseManifestsLocation(location);
    if (parsed.scheme !== 's3') throw new ManifestsNotFound(`S3ManifestSource cannot read ${location}`);
    const relativePath = normalizeManifestsPath(path);
    const key = [parsed.prefix, relativePath].filter(Boolean).join('/');

    if (key && isManifestFile(key)) {
      const single = await this.getText(parsed.bucket, key);
      if (single !== null) return [{ path: key.split('/').pop()!, content: single }];
    }

    const folder = key ? `${key}/` : '';
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3
        .send(new ListObjectsV2Command({ Bucket: parsed.bucket, Prefix: folder, ContinuationToken: token }))
        .catch((error: unknown) => {
          throw new ManifestsNotFound(`Cannot list ${location}/${relativePath}: ${describe(error)}`, { cause: error });
        });
      for (const object of page.Contents ?? []) {
        if (object.Key && isManifestFile(object.Key)) keys.push(object.Key);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (keys.length > MANIFEST_LIMITS.files) {
        throw new ManifestsNotFound(
          `s3://${parsed.bucket}/${folder} holds more than ${MANIFEST_LIMITS.files} manifest files`,
        );
      }
    } while (token);
    if (keys.length === 0) {
      throw new ManifestsNotFound(
        `No manifests at ${path} in ${location}: no object s3://${parsed.bucket}/${key} and no .yaml, .yml or .json object below it`,
      );
    }
    keys.sort();
    const files: ManifestFile[] = [];
    let bytes = 0;
    for (const objectKey of keys) {
      const content = await this.getText(parsed.bucket, objectKey);
      if (content === null)
        throw new ManifestsNotFound(`s3://${parsed.bucket}/${objectKey} disappeared while reading the manifests`);
      bytes += Buffer.byteLength(content);
      if (bytes > MANIFEST_LIMITS.bytes)
        throw new ManifestsNotFound(
          `The manifests in ${location}/${relativePath} exceed ${MANIFEST_LIMITS.bytes} bytes`,
        );
      files.push({ path: objectKey.slice(folder.length), content });
    }
    return files;
  }

  /** The object's text; null when there is no such key. */
  private async getText(bucket: string, key: string): Promise<string | null> {
    try {
      const output = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!output.Body) return '';
      return await output.Body.transformToString('utf8');
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      if (name === 'NoSuchKey' || name === 'NotFound') return null;
      throw new ManifestsNotFound(`Cannot read s3://${bucket}/${key}: ${describe(error)}`, { cause: error });
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
