import { GetObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { ManifestsNotFound } from '../../core/deploy/errors';
import {
  isManifestFile,
  MANIFEST_LIMITS,
  normalizeManifestsPath,
  parseManifestsLocation,
} from '../../core/deploy/location';
import type { ManifestSource } from '../../core/deploy/ports';
import type { ManifestFile } from '../../core/deploy/types';

/** What a GetObject found: the text, no such key (404), or a refusal (403) that may also mean no such key. */
type Got = { readonly text: string } | { readonly missing: true } | { readonly refused: string };

/**
 * Rendered manifests in S3 (`s3://bucket/prefix`, as the build uploads them): the manifests path names an
 * object, or a "folder" whose .yaml/.yml/.json objects are read in key order.
 *
 * Listing a folder is ListObjectsV2, which IAM authorizes as `s3:ListBucket` on the bucket (the deploy role has it
 * for the `manifests/` prefix only, BuildProjects.grantReadManifests). S3 answers a GetObject of a missing key with
 * 403 AccessDenied, not 404 NoSuchKey, unless the caller may list that key ("Permissions", GetObject in the Amazon
 * S3 API Reference): a 403 on a single object is therefore looked for as a folder before it is reported.
 */
export class S3ManifestSource implements ManifestSource {
  public constructor(private readonly s3: S3Client) {}

  public async read(location: string, path: string): Promise<ManifestFile[]> {
    const parsed = parseManifestsLocation(location);
    if (parsed.scheme !== 's3') throw new ManifestsNotFound(`S3ManifestSource cannot read ${location}`);
    const { bucket } = parsed;
    const relativePath = normalizeManifestsPath(path);
    const key = [parsed.prefix, relativePath].filter(Boolean).join('/');

    let refused: string | undefined;
    if (key && isManifestFile(key)) {
      const single = await this.get(bucket, key);
      if ('text' in single) return [{ path: key.split('/').pop()!, content: single.text }];
      if ('refused' in single) refused = single.refused;
    }

    // A folder's prefix ends with "/": "deploy/staging" must not also match "deploy/staging-old/...".
    const folder = key ? `${key}/` : '';
    const keys = await this.list(bucket, folder);
    if (keys.length === 0) {
      const object = refused
        ? `S3 refused to read the object s3://${bucket}/${key} (${refused}; S3 answers so for a missing key too)`
        : isManifestFile(key)
          ? `no object s3://${bucket}/${key}`
          : null;
      throw new ManifestsNotFound(
        `No manifests at "${path}" in ${location}: ${object ? `${object}, and ` : ''}no .yaml, .yml or .json ` +
          `object in bucket ${bucket} under the prefix "${folder}"`,
      );
    }
    keys.sort();
    const files: ManifestFile[] = [];
    let bytes = 0;
    for (const objectKey of keys) {
      const got = await this.get(bucket, objectKey);
      if (!('text' in got)) {
        const why = 'refused' in got ? `S3 refused to read it: ${got.refused}` : 'it disappeared while reading';
        throw new ManifestsNotFound(`Cannot read s3://${bucket}/${objectKey}: ${why}`);
      }
      bytes += Buffer.byteLength(got.text);
      if (bytes > MANIFEST_LIMITS.bytes)
        throw new ManifestsNotFound(
          `The manifests under s3://${bucket}/${folder} exceed ${MANIFEST_LIMITS.bytes} bytes`,
        );
      files.push({ path: objectKey.slice(folder.length), content: got.text });
    }
    return files;
  }

  /** The manifest keys under `prefix`, every page of ListObjectsV2 (1,000 keys each). */
  private async list(bucket: string, prefix: string): Promise<string[]> {
    const keys: string[] = [];
    try {
      for await (const page of paginateListObjectsV2({ client: this.s3 }, { Bucket: bucket, Prefix: prefix })) {
        for (const object of page.Contents ?? []) {
          if (object.Key && isManifestFile(object.Key)) keys.push(object.Key);
        }
        if (keys.length > MANIFEST_LIMITS.files) {
          throw new ManifestsNotFound(
            `s3://${bucket}/${prefix} holds more than ${MANIFEST_LIMITS.files} manifest files`,
          );
        }
      }
    } catch (error) {
      if (error instanceof ManifestsNotFound) throw error;
      const hint = statusOf(error) === 403 ? ` (the role needs s3:ListBucket on bucket ${bucket} for this prefix)` : '';
      throw new ManifestsNotFound(
        `Cannot list bucket ${bucket} under the prefix "${prefix}": ${describe(error)}${hint}`,
        { cause: error },
      );
    }
    return keys;
  }

  private async get(bucket: string, key: string): Promise<Got> {
    try {
      const output = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return { text: output.Body ? await output.Body.transformToString('utf8') : '' };
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      if (name === 'NoSuchKey' || name === 'NotFound') return { missing: true };
      if (name === 'AccessDenied' || statusOf(error) === 403) return { refused: describe(error) };
      throw new ManifestsNotFound(`Cannot read s3://${bucket}/${key}: ${describe(error)}`, { cause: error });
    }
  }
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
