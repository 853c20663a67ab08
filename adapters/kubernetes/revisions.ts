import { gunzipSync, gzipSync } from 'node:zlib';
import { KubernetesRejected, RevisionUnreadable } from '../../core/deploy/errors';
import type { RevisionStore } from '../../core/deploy/ports';
import {
  decodeRevision,
  encodeRevision,
  REVISION_STATUSES,
  type RevisionRecord,
  type RevisionStatus,
  type RevisionSummary,
} from '../../core/deploy/revision';
import {
  ENVIRONMENT_LABEL,
  type KubernetesObject,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  type ObjectRef,
} from '../../core/deploy/types';
import type { KubernetesClusterClient } from './client';

/**
 * Revision records kept in the cluster itself, as Helm keeps releases (docs/adr/0022): one Secret per revision
 * in the environment's namespace, named `stepline.<environment>.v<revision>`, of type
 * `stepline.dev/revision.v1`, labelled with managed-by, environment, revision and status, its record gzipped
 * in `data.revision`. The status lives in a label, so that listing needs no decoding.
 */

export const REVISION_SECRET_TYPE = 'stepline.dev/revision.v1';
const REVISION_LABEL = 'stepline.dev/revision';
const STATUS_LABEL = 'stepline.dev/status';
const COMMIT_ANNOTATION = 'stepline.dev/commit';
const IMAGE_ANNOTATION = 'stepline.dev/image';
const CREATED_ANNOTATION = 'stepline.dev/created-at';
const FIELD_MANAGER = 'stepline-revisions';
/** Secrets are limited to 1 MiB; keep room for metadata. */
const MAX_DATA_BYTES = 900 * 1024;

export function revisionSecretName(environment: string, revision: number): string {
  return `stepline.${environment}.v${revision}`;
}

function secretRef(namespace: string, environment: string, revision: number): ObjectRef {
  return { apiVersion: 'v1', kind: 'Secret', namespace, name: revisionSecretName(environment, revision) };
}

export class SecretRevisionStore implements RevisionStore {
  public constructor(private readonly client: KubernetesClusterClient) {}

  public async list(namespace: string, environment: string): Promise<RevisionSummary[]> {
    const selector = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE},${ENVIRONMENT_LABEL}=${environment}`;
    const secrets = await this.client.list('v1', 'Secret', namespace, selector);
    const summaries: RevisionSummary[] = [];
    for (const secret of secrets) {
      if (secret['type'] !== REVISION_SECRET_TYPE) continue;
      const labels = secret.metadata.labels ?? {};
      const annotations = secret.metadata.annotations ?? {};
      const number = Number(labels[REVISION_LABEL]);
      const status = labels[STATUS_LABEL] as RevisionStatus;
      if (!Number.isInteger(number) || number < 1 || !REVISION_STATUSES.includes(status)) continue;
      summaries.push({
        number,
        status,
        commit: annotations[COMMIT_ANNOTATION] ?? '',
        image: annotations[IMAGE_ANNOTATION] ?? '',
        createdAt: annotations[CREATED_ANNOTATION] ?? '',
      });
    }
    return summaries.sort((a, b) => a.number - b.number);
  }

  public async read(namespace: string, environment: string, revision: number): Promise<RevisionRecord | null> {
    const ref = secretRef(namespace, environment, revision);
    const secret = await this.client.get(ref);
    if (!secret) return null;
    const where = `${namespace}/${ref.name}`;
    const data = (secret['data'] ?? {}) as Record<string, string>;
    if (typeof data['revision'] !== 'string')
      throw new RevisionUnreadable(`Revision record ${where} has no data.revision`);
    let text: string;
    try {
      text = gunzipSync(Buffer.from(data['revision'], 'base64')).toString('utf8');
    } catch (error) {
      throw new RevisionUnreadable(`Revision record ${where} is not gzip data`, { cause: error });
    }
    const record = decodeRevision(text, where);
    const status = secret.metadata.labels?.[STATUS_LABEL] as RevisionStatus | undefined;
    return status && REVISION_STATUSES.includes(status) ? { ...record, status } : record;
  }

  public async create(record: RevisionRecord): Promise<void> {
    const ref = secretRef(record.namespace, record.environment, record.number);
    const data = gzipSync(Buffer.from(encodeRevision(record), 'utf8')).toString('base64');
    if (data.length > MAX_DATA_BYTES) {
      throw new KubernetesRejected(
        `The revision record of ${record.environment} revision ${record.number} is ${Math.round(data.length / 1024)} KiB compressed, more than a Secret can hold: split the manifests across environments or trim them`,
        { object: ref },
      );
    }
    const secret: KubernetesObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: REVISION_SECRET_TYPE,
      metadata: {
        name: ref.name,
        namespace: record.namespace,
        labels: {
          [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
          [ENVIRONMENT_LABEL]: record.environment,
          [REVISION_LABEL]: String(record.number),
          [STATUS_LABEL]: record.status,
        },
        annotations: {
          [COMMIT_ANNOTATION]: record.commit,
          [IMAGE_ANNOTATION]: record.image,
          [CREATED_ANNOTATION]: record.createdAt,
        },
      },
      data: { revision: data },
    };
    await this.client.create(secret, FIELD_MANAGER);
  }

  public async setStatus(
    namespace: string,
    environment: string,
    revision: number,
    status: RevisionStatus,
  ): Promise<void> {
    await this.client.mergePatch(
      secretRef(namespace, environment, revision),
      { metadata: { labels: { [STATUS_LABEL]: status } } },
      FIELD_MANAGER,
    );
  }

  public async remove(namespace: string, environment: string, revision: number): Promise<void> {
    await this.client.delete(secretRef(namespace, environment, revision));
  }
}
