import { ManifestsNotFound } from './errors';

/**
 * Where the build put its rendered manifests, and which files of it are manifests. A location is
 * `s3://bucket/prefix` (on AWS) or `file:///absolute/path` (locally); the environment's `manifests` path is
 * relative to it and names one file or a folder.
 */

export type ManifestsLocation =
  | { readonly scheme: 's3'; readonly bucket: string; readonly prefix: string }
  | { readonly scheme: 'file'; readonly path: string };

/** The extensions of manifest files in a folder. */
export const MANIFEST_EXTENSIONS: readonly string[] = ['.yaml', '.yml', '.json'];

/** At most this many files and this many bytes in all are read: a guard against pointing at the wrong folder. */
export const MANIFEST_LIMITS = { files: 500, bytes: 20 * 1024 * 1024 } as const;

export function isManifestFile(path: string): boolean {
  const lower = path.toLowerCase();
  return MANIFEST_EXTENSIONS.some((extension) => lower.endsWith(extension));
}

export function parseManifestsLocation(location: string): ManifestsLocation {
  const s3 = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(location);
  if (s3) return { scheme: 's3', bucket: s3[1]!, prefix: (s3[2] ?? '').replace(/\/+$/, '') };
  if (location.startsWith('file://')) {
    const path = decodeURIComponent(location.slice('file://'.length));
    if (!path.startsWith('/'))
      throw new ManifestsNotFound(`Manifests location ${location} must be an absolute file:// URL`);
    return { scheme: 'file', path: path.replace(/\/+$/, '') || '/' };
  }
  throw new ManifestsNotFound(`Manifests location "${location}" is neither s3://bucket/prefix nor file:///path`);
}

/**
 * The environment's `manifests` path, normalized: relative, `/`-separated, without `.` segments. A path that is
 * absolute or climbs out of the location with `..` is refused.
 */
export function normalizeManifestsPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.replace(/\\/g, '/').split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      throw new ManifestsNotFound(`The manifests path "${path}" climbs out of the manifests location with ".."`);
    }
    segments.push(segment);
  }
  if (path.startsWith('/'))
    throw new ManifestsNotFound(`The manifests path "${path}" must be relative to the manifests location`);
  return segments.join('/');
}
