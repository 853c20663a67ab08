import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
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
 * Rendered manifests on the local disk (`file:///…` locations, as the local CodeBuild leaves them): the
 * manifests path names a file, or a folder whose .yaml/.yml/.json files are read recursively in path order.
 * Symbolic links are not followed, so a manifests folder cannot reach outside itself.
 */
export class FileManifestSource implements ManifestSource {
  public async read(location: string, path: string): Promise<ManifestFile[]> {
    const parsed = parseManifestsLocation(location);
    if (parsed.scheme !== 'file') throw new ManifestsNotFound(`FileManifestSource cannot read ${location}`);
    const relativePath = normalizeManifestsPath(path);
    const target = relativePath ? join(parsed.path, relativePath) : parsed.path;
    const stats = await lstat(target).catch(() => null);
    if (!stats) throw new ManifestsNotFound(`No manifests at ${path} in ${location}: ${target} does not exist`);
    if (stats.isFile()) {
      return [{ path: relativePath.split('/').pop() ?? relativePath, content: await readFile(target, 'utf8') }];
    }
    if (!stats.isDirectory()) throw new ManifestsNotFound(`${target} is neither a file nor a folder`);
    const entries = await readdir(target, { recursive: true, withFileTypes: true });
    const paths = entries
      .filter((entry) => entry.isFile() && isManifestFile(entry.name))
      .map((entry) => relative(target, join(entry.parentPath, entry.name)).split(sep).join('/'))
      .sort();
    if (paths.length === 0)
      throw new ManifestsNotFound(`The folder ${path} in ${location} holds no .yaml, .yml or .json file`);
    if (paths.length > MANIFEST_LIMITS.files) {
      throw new ManifestsNotFound(
        `The folder ${path} in ${location} holds ${paths.length} manifest files, more than ${MANIFEST_LIMITS.files}`,
      );
    }
    const files: ManifestFile[] = [];
    let bytes = 0;
    for (const file of paths) {
      const content = await readFile(join(target, file), 'utf8');
      bytes += Buffer.byteLength(content);
      if (bytes > MANIFEST_LIMITS.bytes)
        throw new ManifestsNotFound(`The manifests in ${path} exceed ${MANIFEST_LIMITS.bytes} bytes`);
      files.push({ path: file, content });
    }
    return files;
  }
}
