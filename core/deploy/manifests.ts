import { parseAllDocuments } from 'yaml';
import { ManifestInvalid, type ManifestIssue } from './errors';
import { isRecord, type KubernetesObject, type ManifestDocument, type ManifestFile } from './types';

/**
 * Parses rendered manifests: plain YAML, the output of `kustomize build` or `helm template`, JSON files, and
 * `kind: List` documents (as `kubectl get -o yaml` writes them), into one document per object.
 *
 * YAML is read as YAML 1.1, the dialect Kubernetes' own decoder speaks, so a value means here what it means to
 * kubectl. Empty documents (a lone `---`, comments only) are skipped. Server-owned fields that rendered output
 * sometimes carries (`status`, `metadata.creationTimestamp`, `resourceVersion`, `uid`, `managedFields`,
 * `generation`, `selfLink`) are dropped, since server-side apply must not send them.
 *
 * Shape problems (not a mapping, a YAML syntax error) are collected and thrown together as `ManifestInvalid`;
 * the finer checks are `validateDocuments`'.
 */
export function parseManifests(files: readonly ManifestFile[]): ManifestDocument[] {
  const documents: ManifestDocument[] = [];
  const issues: ManifestIssue[] = [];
  for (const file of files) {
    const parsed = parseAllDocuments(file.content, { version: '1.1', uniqueKeys: true, prettyErrors: true });
    const yamlDocuments = Array.isArray(parsed) ? parsed : [parsed];
    let index = 0;
    for (const yamlDocument of yamlDocuments) {
      index += 1;
      const source = { file: file.path, index };
      const firstError = yamlDocument.errors[0];
      if (firstError) {
        const { line, col } = firstError.linePos?.[0] ?? { line: 0, col: 0 };
        const at = line > 0 ? ` at line ${line}, column ${col}` : '';
        issues.push({ source, object: null, field: '', message: `is not valid YAML${at}: ${firstError.code}` });
        continue;
      }
      const value: unknown = yamlDocument.toJS({ maxAliasCount: 100 });
      if (value === null || value === undefined) {
        index -= 1;
        continue;
      }
      if (!isRecord(value)) {
        issues.push({
          source,
          object: null,
          field: '',
          message: `must be a mapping (an object), not ${typeName(value)}`,
        });
        continue;
      }
      if (value['kind'] === 'List' && Array.isArray(value['items'])) {
        value['items'].forEach((item: unknown, i: number) => {
          const itemSource = { file: file.path, index: index + i };
          if (!isRecord(item)) {
            issues.push({
              source: itemSource,
              object: null,
              field: '',
              message: 'is a List item that is not a mapping',
            });
            return;
          }
          documents.push({ source: itemSource, object: clean(item) });
        });
        index += value['items'].length - 1;
        continue;
      }
      documents.push({ source, object: clean(value) });
    }
  }
  if (issues.length > 0) throw new ManifestInvalid(issues);
  return documents;
}

const SERVER_OWNED_METADATA = [
  'creationTimestamp',
  'resourceVersion',
  'uid',
  'managedFields',
  'generation',
  'selfLink',
];

function clean(value: Record<string, unknown>): KubernetesObject {
  const { status: _status, ...rest } = value;
  const metadata = isRecord(rest['metadata']) ? { ...rest['metadata'] } : rest['metadata'];
  if (isRecord(metadata)) {
    for (const field of SERVER_OWNED_METADATA) delete metadata[field];
    rest['metadata'] = metadata;
  }
  // The shape is checked by validateDocuments; until then the object is only assumed to be a Kubernetes object.
  return rest as KubernetesObject;
}

function typeName(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}
