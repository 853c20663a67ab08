import { createHash } from 'node:crypto';
import { MOTO_ACCOUNT, MOTO_REGION } from './clients';
import type { CfnTemplate } from './template';

/**
 * Evaluates CloudFormation intrinsic functions in a synthesized template the way CloudFormation would at deploy
 * time: `Ref` and `Fn::GetAtt` give the values of the resources created for the test (`provide`), pseudo
 * parameters the test account and region, and `Fn::Join`, `Fn::Sub`, `Fn::Select`, `Fn::Split`, `Fn::If` and the
 * condition functions compute what they compute. An intrinsic it does not know, or a reference it cannot give a
 * value for, is an error naming it: a template is never half-resolved.
 *
 * What `Ref` and `Fn::GetAtt` return per type follows the CloudFormation template reference ("Return values") and
 * the resource provider schemas (cfn-lint's copy: `primaryIdentifier` is what `Ref` returns, `readOnlyProperties`
 * what `Fn::GetAtt` may read): a DynamoDB table's `Ref` is its name, a queue's its URL, a bucket's its name, a
 * secret's its ARN.
 */

/** The values CloudFormation gives a resource: `Ref` and each `Fn::GetAtt` attribute. */
export interface ReturnValues {
  readonly ref: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface PseudoParameters {
  readonly 'AWS::AccountId': string;
  readonly 'AWS::Region': string;
  readonly 'AWS::Partition': string;
  readonly 'AWS::URLSuffix': string;
  readonly 'AWS::StackName': string;
  readonly 'AWS::StackId': string;
}

export interface ResolverOptions {
  readonly pseudo?: Partial<PseudoParameters>;
  /** Values of template parameters; a parameter not given takes its `Default`. */
  readonly parameters?: Readonly<Record<string, string>>;
  /**
   * Give resources of the types in `PLACEHOLDER_TYPES` that nobody `provide`d values shaped as CloudFormation's
   * (a Lambda function's name and ARN, a role's ARN), so that what refers to them resolves. @default true
   */
  readonly placeholders?: boolean;
}

/** `AWS::NoValue`: the property or list item that evaluates to it is left out. */
const NO_VALUE = Symbol('AWS::NoValue');

export class UnresolvableReference extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'UnresolvableReference';
  }
}

export class TemplateResolver {
  public readonly pseudo: PseudoParameters;
  readonly #template: CfnTemplate;
  readonly #parameters: Readonly<Record<string, string>>;
  readonly #placeholders: boolean;
  readonly #provided = new Map<string, ReturnValues>();

  public constructor(template: CfnTemplate, options: ResolverOptions = {}) {
    this.#template = template;
    this.#parameters = options.parameters ?? {};
    this.#placeholders = options.placeholders ?? true;
    const account = options.pseudo?.['AWS::AccountId'] ?? MOTO_ACCOUNT;
    const region = options.pseudo?.['AWS::Region'] ?? MOTO_REGION;
    const stackName = options.pseudo?.['AWS::StackName'] ?? 'Stepline';
    this.pseudo = {
      'AWS::AccountId': account,
      'AWS::Region': region,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': stackName,
      'AWS::StackId': `arn:aws:cloudformation:${region}:${account}:stack/${stackName}/${uuidFrom(stackName)}`,
      ...options.pseudo,
    };
  }

  /** Records what a resource created for the test returns to `Ref` and `Fn::GetAtt`. */
  public provide(logicalId: string, values: ReturnValues): void {
    this.#provided.set(logicalId, values);
  }

  /** The values of a resource: provided, else a placeholder for its type, else an error naming it. */
  public returnValues(logicalId: string): ReturnValues {
    const known = this.#provided.get(logicalId);
    if (known) return known;
    const resource = this.#template.Resources[logicalId];
    if (!resource) throw new UnresolvableReference(`the template has no resource ${logicalId}`);
    const placeholder = this.#placeholders ? PLACEHOLDER_TYPES[resource.Type] : undefined;
    if (!placeholder) {
      throw new UnresolvableReference(
        `no value for ${logicalId} (${resource.Type}): it was not created on the stand-in, nor given to provide()`,
      );
    }
    const properties = resource.Properties ?? {};
    const own = (property: string): string | undefined => {
      const value = properties[property] === undefined ? undefined : this.resolve(properties[property]);
      return value === undefined ? undefined : String(value);
    };
    const values = placeholder({ logicalId, own, pseudo: this.pseudo });
    this.#provided.set(logicalId, values);
    return values;
  }

  public ref(name: string): string {
    if (name in this.pseudo) return this.pseudo[name as keyof PseudoParameters];
    const parameter = this.#template.Parameters?.[name];
    if (parameter) {
      const value = this.#parameters[name] ?? parameter.Default;
      if (value === undefined) throw new UnresolvableReference(`parameter ${name} has no value and no Default`);
      return String(value);
    }
    return this.returnValues(name).ref;
  }

  public getAtt(logicalId: string, attribute: string): string {
    const value = this.returnValues(logicalId).attributes[attribute];
    if (value === undefined) throw new UnresolvableReference(`${logicalId} has no attribute ${attribute}`);
    return value;
  }

  public condition(name: string): boolean {
    const definition = this.#template.Conditions?.[name];
    if (definition === undefined) throw new UnresolvableReference(`the template has no condition ${name}`);
    return this.resolve(definition) === true;
  }

  /** `value` with every intrinsic function evaluated. */
  public resolve<T = unknown>(value: unknown): T {
    const out = this.#evaluate(value);
    return (out === NO_VALUE ? undefined : out) as T;
  }

  #evaluate(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((item) => this.#evaluate(item)).filter((item) => item !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    const [key] = keys;
    if (keys.length === 1 && key !== undefined && (key === 'Ref' || key === 'Condition' || key.startsWith('Fn::'))) {
      return this.#intrinsic(key, record[key]);
    }
    const out: Record<string, unknown> = {};
    for (const [name, item] of Object.entries(record)) {
      const evaluated = this.#evaluate(item);
      if (evaluated !== NO_VALUE) out[name] = evaluated;
    }
    return out;
  }

  #intrinsic(name: string, arg: unknown): unknown {
    const list = (): unknown[] => {
      if (!Array.isArray(arg)) throw new UnresolvableReference(`${name} takes a list, not ${JSON.stringify(arg)}`);
      return arg;
    };
    switch (name) {
      case 'Ref':
        return arg === 'AWS::NoValue' ? NO_VALUE : this.ref(String(arg));
      case 'Fn::GetAtt': {
        const [id, ...attribute] = typeof arg === 'string' ? arg.split('.') : (list() as string[]);
        return this.getAtt(String(id), attribute.map((part) => String(this.#evaluate(part))).join('.'));
      }
      case 'Fn::Join': {
        const [delimiter, parts] = list() as [string, unknown];
        return (this.#evaluate(parts) as unknown[]).map(String).join(delimiter);
      }
      case 'Fn::Sub':
        return this.#sub(arg);
      case 'Fn::Select': {
        const [index, items] = list();
        const selected = (this.#evaluate(items) as unknown[])[Number(this.#evaluate(index))];
        if (selected === undefined) throw new UnresolvableReference(`Fn::Select index ${String(index)} out of range`);
        return selected;
      }
      case 'Fn::Split': {
        const [delimiter, source] = list();
        return String(this.#evaluate(source)).split(String(delimiter));
      }
      case 'Fn::If': {
        const [condition, whenTrue, whenFalse] = list();
        return this.#evaluate(this.condition(String(condition)) ? whenTrue : whenFalse);
      }
      case 'Fn::Equals': {
        const [a, b] = list().map((item) => this.#evaluate(item));
        return JSON.stringify(a) === JSON.stringify(b);
      }
      case 'Fn::Not':
        return !this.#evaluate(list()[0]);
      case 'Fn::And':
        return list().every((item) => this.#evaluate(item) === true);
      case 'Fn::Or':
        return list().some((item) => this.#evaluate(item) === true);
      case 'Condition':
        return this.condition(String(arg));
      case 'Fn::FindInMap': {
        const [map, top, second] = list().map((item) => String(this.#evaluate(item)));
        const found = this.#template.Mappings?.[map!]?.[top!]?.[second!];
        if (found === undefined) throw new UnresolvableReference(`Fn::FindInMap ${map}/${top}/${second} not found`);
        return found;
      }
      case 'Fn::Base64':
        return Buffer.from(String(this.#evaluate(arg))).toString('base64');
      default:
        throw new UnresolvableReference(`the stand-in resolver does not evaluate ${name}`);
    }
  }

  /** `Fn::Sub`: `${Name}` is a variable, a pseudo parameter, a parameter or a Ref; `${Id.Attr}` a GetAtt. */
  #sub(arg: unknown): string {
    const [text, variables] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [arg as string, {}];
    const values = this.#evaluate(variables) as Record<string, unknown>;
    return String(text).replace(/\$\{([^}]*)\}/g, (_match, inner: string) => {
      if (inner.startsWith('!')) return `\${${inner.slice(1)}}`;
      const name = inner.trim();
      if (name in values) return String(values[name]);
      if (name.includes('.') && !name.startsWith('AWS::')) {
        const [id, ...attribute] = name.split('.');
        return this.getAtt(id!, attribute.join('.'));
      }
      return this.ref(name);
    });
  }
}

interface PlaceholderInput {
  readonly logicalId: string;
  /** The resource's own property, resolved; undefined when the template does not set it. */
  readonly own: (property: string) => string | undefined;
  readonly pseudo: PseudoParameters;
}
type Placeholder = (input: PlaceholderInput) => ReturnValues;

/** A stable token of `length` characters from `seed`, in `alphabet` (generated names stay the same per run). */
export function tokenFrom(seed: string, length: number, alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'): string {
  const bytes = createHash('sha256').update(seed).digest();
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[bytes[i % bytes.length]! % alphabet.length];
  return out;
}

function uuidFrom(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** `Stack-LogicalId-RANDOM`, the shape of CloudFormation's generated names ("Name type"), cut to `max`. */
export function generatedName(pseudo: PseudoParameters, logicalId: string, max = 64): string {
  const suffix = tokenFrom(`${pseudo['AWS::StackName']}/${logicalId}`, 12);
  const stem = `${pseudo['AWS::StackName']}-${logicalId}`.slice(0, max - suffix.length - 1);
  return `${stem}-${suffix}`;
}

/**
 * Values for resources that no stand-in creates, in the shapes CloudFormation returns (template reference,
 * "Return values" of each type), so that an environment variable or policy naming one resolves.
 */
export const PLACEHOLDER_TYPES: Readonly<Record<string, Placeholder>> = {
  'AWS::KMS::Key': ({ logicalId: id, pseudo: p }) => {
    const keyId = uuidFrom(`${p['AWS::StackName']}/${id}`);
    return { ref: keyId, attributes: { Arn: arn(p, 'kms', `key/${keyId}`), KeyId: keyId } };
  },
  'AWS::Lambda::Function': ({ logicalId: id, own, pseudo: p }) => {
    const name = own('FunctionName') ?? generatedName(p, id, 64);
    return { ref: name, attributes: { Arn: arn(p, 'lambda', `function:${name}`) } };
  },
  'AWS::IAM::Role': ({ logicalId: id, own, pseudo: p }) => {
    const name = own('RoleName') ?? generatedName(p, id, 64);
    return {
      ref: name,
      attributes: { Arn: `arn:aws:iam::${p['AWS::AccountId']}:role/${name}`, RoleId: `AROA${tokenFrom(id, 17)}` },
    };
  },
  'AWS::StepFunctions::StateMachine': ({ logicalId: id, own, pseudo: p }) => {
    const name = own('StateMachineName') ?? generatedName(p, id, 80);
    const stateMachineArn = arn(p, 'states', `stateMachine:${name}`);
    return { ref: stateMachineArn, attributes: { Arn: stateMachineArn, Name: name } };
  },
  'AWS::SNS::Topic': ({ logicalId: id, own, pseudo: p }) => {
    const name = own('TopicName') ?? generatedName(p, id, 256);
    const topicArn = arn(p, 'sns', name);
    return { ref: topicArn, attributes: { TopicArn: topicArn, TopicName: name } };
  },
  'AWS::Logs::LogGroup': ({ logicalId: id, own, pseudo: p }) => {
    const name = own('LogGroupName') ?? generatedName(p, id, 512);
    return { ref: name, attributes: { Arn: arn(p, 'logs', `log-group:${name}:*`) } };
  },
  'AWS::ECR::Repository': ({ logicalId: id, own, pseudo: p }) => {
    const name = own('RepositoryName') ?? generatedName(p, id, 256).toLowerCase();
    const host = `${p['AWS::AccountId']}.dkr.ecr.${p['AWS::Region']}.${p['AWS::URLSuffix']}`;
    return { ref: name, attributes: { Arn: arn(p, 'ecr', `repository/${name}`), RepositoryUri: `${host}/${name}` } };
  },
  'AWS::CodeBuild::Project': ({ logicalId: id, own, pseudo: p }) => {
    const name = own('Name') ?? generatedName(p, id, 150);
    return { ref: name, attributes: { Arn: arn(p, 'codebuild', `project/${name}`) } };
  },
  'AWS::Events::Rule': ({ logicalId: id, own, pseudo: p }) => {
    const name = own('Name') ?? generatedName(p, id, 64);
    return { ref: name, attributes: { Arn: arn(p, 'events', `rule/${name}`) } };
  },
  'AWS::ApiGatewayV2::Api': ({ logicalId: id, pseudo: p }) => {
    const apiId = tokenFrom(id, 10, 'abcdefghijklmnopqrstuvwxyz0123456789');
    const endpoint = `https://${apiId}.execute-api.${p['AWS::Region']}.${p['AWS::URLSuffix']}`;
    return { ref: apiId, attributes: { ApiId: apiId, ApiEndpoint: endpoint } };
  },
  'AWS::CloudWatch::Alarm': ({ logicalId: id, own, pseudo: p }) => {
    const name = own('AlarmName') ?? generatedName(p, id, 255);
    return { ref: name, attributes: { Arn: arn(p, 'cloudwatch', `alarm:${name}`) } };
  },
};

function arn(p: PseudoParameters, service: string, resource: string): string {
  return `arn:${p['AWS::Partition']}:${service}:${p['AWS::Region']}:${p['AWS::AccountId']}:${resource}`;
}
