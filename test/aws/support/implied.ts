import type { Authorization } from './iam';
import type { Decoded } from './iam-actions';
import type { StackValues } from './template';

/**
 * What AWS authorizes besides the call itself, for resources the template encrypts with a customer managed KMS
 * key. S3 objects in a bucket whose default encryption is `aws:kms` with a key: reading one needs `kms:Decrypt` on
 * the key, writing one `kms:GenerateDataKey` ("Using server-side encryption with AWS KMS keys", Amazon S3 User Guide:
 * "Permissions"). S3-managed (AES256) and SQS-managed encryption need no key permissions.
 */
export function impliedAuthorizations(values: StackValues, decoded: Decoded): Authorization[] {
  if (!decoded.operation.startsWith('s3:')) return [];
  const out: Authorization[] = [];
  for (const authorization of decoded.authorizations) {
    const bucket = /^arn:[^:]+:s3:::([^/]+)\//.exec(authorization.resource)?.[1];
    if (!bucket) continue;
    const key = bucketKey(values, bucket);
    if (!key) continue;
    if (authorization.action === 's3:GetObject') out.push({ action: 'kms:Decrypt', resource: key });
    if (authorization.action === 's3:PutObject') out.push({ action: 'kms:GenerateDataKey', resource: key });
  }
  return out;
}

function bucketKey(values: StackValues, bucket: string): string | null {
  for (const id of values.resourcesOf('AWS::S3::Bucket')) {
    if (values.ref(id) !== bucket) continue;
    const encryption = values.resolve<{
      ServerSideEncryptionConfiguration?: {
        ServerSideEncryptionByDefault?: { SSEAlgorithm?: string; KMSMasterKeyID?: string };
      }[];
    }>(values.properties(id)['BucketEncryption'] ?? {});
    const rule = encryption.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault;
    if (rule?.SSEAlgorithm === 'aws:kms' && rule.KMSMasterKeyID) return rule.KMSMasterKeyID;
  }
  return null;
}
