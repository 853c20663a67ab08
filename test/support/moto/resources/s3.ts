import {
  type BucketCannedACL,
  CreateBucketCommand,
  type CreateBucketCommandInput,
  type LifecycleRule,
  type ObjectOwnership,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketLoggingCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  type ServerSideEncryptionRule,
} from '@aws-sdk/client-s3';
import { allowOnly, type CreateInput, type StandInKind, tagList, UnsupportedProperty } from './kind';

/**
 * `AWS::S3::Bucket` on moto: CreateBucket (with the canned ACL and object ownership), then one Put call per
 * configuration the template sets: versioning, default encryption, public access block, lifecycle, logging, tags.
 * moto keeps each configuration and answers it back; it does not encrypt objects or expire them on a clock.
 */
const CANNED_ACL: Readonly<Record<string, BucketCannedACL | 'log-delivery-write'>> = {
  Private: 'private',
  PublicRead: 'public-read',
  PublicReadWrite: 'public-read-write',
  AuthenticatedRead: 'authenticated-read',
  LogDeliveryWrite: 'log-delivery-write',
};

export const s3Bucket: StandInKind = {
  type: 'AWS::S3::Bucket',
  properties: [
    'BucketName',
    'AccessControl',
    'OwnershipControls',
    'VersioningConfiguration',
    'BucketEncryption',
    'PublicAccessBlockConfiguration',
    'LifecycleConfiguration',
    'LoggingConfiguration',
    'Tags',
  ],
  async create({ logicalId, properties: p, clients, pseudo, generatedName }: CreateInput) {
    const where = `AWS::S3::Bucket ${logicalId}`;
    const bucket = p.BucketName === undefined ? generatedName(63).toLowerCase() : String(p.BucketName);
    const region = pseudo['AWS::Region'];
    const input: CreateBucketCommandInput = { Bucket: bucket };
    if (region !== 'us-east-1') input.CreateBucketConfiguration = { LocationConstraint: region as never };
    if (p.AccessControl !== undefined) {
      const acl = CANNED_ACL[String(p.AccessControl)];
      if (!acl) throw new UnsupportedProperty(`${where}.AccessControl ${String(p.AccessControl)} is not stood in`);
      input.ACL = acl as BucketCannedACL;
    }
    if (p.OwnershipControls !== undefined) {
      const o = allowOnly(p.OwnershipControls, ['Rules'], `${where}.OwnershipControls`);
      const rules = (o.Rules as unknown[]).map((rule, i) =>
        allowOnly(rule, ['ObjectOwnership'], `${where}.OwnershipControls.Rules[${i}]`),
      );
      if (rules.length !== 1) throw new Error(`${where}.OwnershipControls has ${rules.length} rules, not one`);
      input.ObjectOwnership = rules[0]!.ObjectOwnership as ObjectOwnership;
    }
    await clients.s3.send(new CreateBucketCommand(input));

    if (p.VersioningConfiguration !== undefined) {
      const v = allowOnly(p.VersioningConfiguration, ['Status'], `${where}.VersioningConfiguration`);
      await clients.s3.send(
        new PutBucketVersioningCommand({
          Bucket: bucket,
          VersioningConfiguration: { Status: v.Status as 'Enabled' | 'Suspended' },
        }),
      );
    }
    if (p.BucketEncryption !== undefined) {
      const e = allowOnly(p.BucketEncryption, ['ServerSideEncryptionConfiguration'], `${where}.BucketEncryption`);
      const rules = (e.ServerSideEncryptionConfiguration as unknown[]).map((rule, i) => {
        const at = `${where}.BucketEncryption.ServerSideEncryptionConfiguration[${i}]`;
        const r = allowOnly(rule, ['ServerSideEncryptionByDefault', 'BucketKeyEnabled'], at);
        const d = allowOnly(
          r.ServerSideEncryptionByDefault,
          ['SSEAlgorithm', 'KMSMasterKeyID'],
          `${at}.ServerSideEncryptionByDefault`,
        );
        return {
          ApplyServerSideEncryptionByDefault: d,
          ...(r.BucketKeyEnabled !== undefined ? { BucketKeyEnabled: r.BucketKeyEnabled === true } : {}),
        } as unknown as ServerSideEncryptionRule;
      });
      await clients.s3.send(
        new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: { Rules: rules } }),
      );
    }
    if (p.PublicAccessBlockConfiguration !== undefined) {
      const b = allowOnly(
        p.PublicAccessBlockConfiguration,
        ['BlockPublicAcls', 'BlockPublicPolicy', 'IgnorePublicAcls', 'RestrictPublicBuckets'],
        `${where}.PublicAccessBlockConfiguration`,
      );
      await clients.s3.send(
        new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: b as never }),
      );
    }
    if (p.LifecycleConfiguration !== undefined) {
      const l = allowOnly(p.LifecycleConfiguration, ['Rules'], `${where}.LifecycleConfiguration`);
      const rules = (l.Rules as unknown[]).map((rule, i) =>
        lifecycleRule(rule, `${where}.LifecycleConfiguration.Rules[${i}]`),
      );
      await clients.s3.send(
        new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: rules } }),
      );
    }
    if (p.LoggingConfiguration !== undefined) {
      const g = allowOnly(
        p.LoggingConfiguration,
        ['DestinationBucketName', 'LogFilePrefix'],
        `${where}.LoggingConfiguration`,
      );
      await clients.s3.send(
        new PutBucketLoggingCommand({
          Bucket: bucket,
          BucketLoggingStatus: {
            LoggingEnabled: {
              // Without a destination, CloudFormation logs to the bucket itself.
              TargetBucket: String(g.DestinationBucketName ?? bucket),
              TargetPrefix: String(g.LogFilePrefix ?? ''),
            },
          },
        }),
      );
    }
    const tags = tagList(p.Tags, `${where}.Tags`);
    if (tags.length > 0) {
      await clients.s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: tags } }));
    }

    const suffix = pseudo['AWS::URLSuffix'];
    return {
      ref: bucket,
      attributes: {
        Arn: `arn:${pseudo['AWS::Partition']}:s3:::${bucket}`,
        DomainName: `${bucket}.s3.${suffix}`,
        RegionalDomainName: `${bucket}.s3.${region}.${suffix}`,
        DualStackDomainName: `${bucket}.s3.dualstack.${region}.${suffix}`,
        WebsiteURL: `http://${bucket}.s3-website-${region}.${suffix}`,
      },
    };
  },
};

/** A CloudFormation lifecycle rule as the S3 API takes it (the shapes differ: `ExpirationInDays` → `Expiration`). */
function lifecycleRule(value: unknown, where: string): LifecycleRule {
  const r = allowOnly(
    value,
    [
      'Id',
      'Status',
      'Prefix',
      'ExpirationInDays',
      'ExpiredObjectDeleteMarker',
      'NoncurrentVersionExpiration',
      'NoncurrentVersionExpirationInDays',
      'AbortIncompleteMultipartUpload',
    ],
    where,
  );
  const rule: LifecycleRule = {
    Status: r.Status as 'Enabled' | 'Disabled',
    Filter: { Prefix: r.Prefix === undefined ? '' : String(r.Prefix) },
  };
  if (r.Id !== undefined) rule.ID = String(r.Id);
  if (r.ExpirationInDays !== undefined) rule.Expiration = { Days: Number(r.ExpirationInDays) };
  if (r.ExpiredObjectDeleteMarker !== undefined) {
    rule.Expiration = { ExpiredObjectDeleteMarker: r.ExpiredObjectDeleteMarker === true };
  }
  if (r.NoncurrentVersionExpiration !== undefined) {
    const n = allowOnly(
      r.NoncurrentVersionExpiration,
      ['NoncurrentDays', 'NewerNoncurrentVersions'],
      `${where}.NoncurrentVersionExpiration`,
    );
    rule.NoncurrentVersionExpiration = {
      NoncurrentDays: Number(n.NoncurrentDays),
      ...(n.NewerNoncurrentVersions !== undefined
        ? { NewerNoncurrentVersions: Number(n.NewerNoncurrentVersions) }
        : {}),
    };
  }
  if (r.NoncurrentVersionExpirationInDays !== undefined) {
    rule.NoncurrentVersionExpiration = { NoncurrentDays: Number(r.NoncurrentVersionExpirationInDays) };
  }
  if (r.AbortIncompleteMultipartUpload !== undefined) {
    const a = allowOnly(
      r.AbortIncompleteMultipartUpload,
      ['DaysAfterInitiation'],
      `${where}.AbortIncompleteMultipartUpload`,
    );
    rule.AbortIncompleteMultipartUpload = { DaysAfterInitiation: Number(a.DaysAfterInitiation) };
  }
  return rule;
}
