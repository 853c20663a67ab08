import { CreateSecretCommand, GetRandomPasswordCommand } from '@aws-sdk/client-secrets-manager';
import { tokenFrom } from '../resolver';
import { allowOnly, type CreateInput, type StandInKind, tagList, UnsupportedProperty } from './kind';

/**
 * `AWS::SecretsManager::Secret` on moto: CreateSecret with the template's `SecretString`, or with a value generated
 * as CloudFormation generates it: GetRandomPassword with the `GenerateSecretString` options (CloudFormation's
 * handler needs `secretsmanager:GetRandomPassword`), put under `GenerateStringKey` of the `SecretStringTemplate`
 * JSON when the template gives both. A generated name is `LogicalId-RANDOM` (CloudFormation's example names its
 * secret `CloudFormationCreatedSecret-a1b2c3d4e5f6`). `Ref` and `Fn::GetAtt Id` are the secret's ARN.
 */
const GENERATE_OPTIONS = [
  'ExcludeCharacters',
  'ExcludeLowercase',
  'ExcludeNumbers',
  'ExcludePunctuation',
  'ExcludeUppercase',
  'IncludeSpace',
  'PasswordLength',
  'RequireEachIncludedType',
] as const;

export const secretsManagerSecret: StandInKind = {
  type: 'AWS::SecretsManager::Secret',
  properties: ['Name', 'Description', 'SecretString', 'GenerateSecretString', 'KmsKeyId', 'Tags'],
  async create({ logicalId, properties: p, clients }: CreateInput) {
    const where = `AWS::SecretsManager::Secret ${logicalId}`;
    if ((p.SecretString === undefined) === (p.GenerateSecretString === undefined)) {
      throw new UnsupportedProperty(`${where}: give exactly one of SecretString and GenerateSecretString`);
    }
    const name =
      p.Name === undefined
        ? `${logicalId}-${tokenFrom(logicalId, 12, 'abcdefghijklmnopqrstuvwxyz0123456789')}`
        : String(p.Name);
    const value =
      p.SecretString !== undefined
        ? String(p.SecretString)
        : await generate(clients, p.GenerateSecretString, `${where}.GenerateSecretString`);
    const tags = tagList(p.Tags, `${where}.Tags`);
    const { ARN } = await clients.secretsManager.send(
      new CreateSecretCommand({
        Name: name,
        SecretString: value,
        ...(p.Description !== undefined ? { Description: String(p.Description) } : {}),
        ...(p.KmsKeyId !== undefined ? { KmsKeyId: String(p.KmsKeyId) } : {}),
        ...(tags.length > 0 ? { Tags: tags } : {}),
      }),
    );
    return { ref: ARN!, attributes: { Id: ARN! } };
  },
};

async function generate(clients: CreateInput['clients'], options: unknown, where: string): Promise<string> {
  const o = allowOnly(options, [...GENERATE_OPTIONS, 'GenerateStringKey', 'SecretStringTemplate'], where);
  if ((o.GenerateStringKey === undefined) !== (o.SecretStringTemplate === undefined)) {
    throw new UnsupportedProperty(`${where}: GenerateStringKey and SecretStringTemplate go together`);
  }
  const request: Record<string, unknown> = {};
  for (const option of GENERATE_OPTIONS) if (o[option] !== undefined) request[option] = o[option];
  const { RandomPassword } = await clients.secretsManager.send(new GetRandomPasswordCommand(request));
  if (o.GenerateStringKey === undefined) return RandomPassword!;
  const template = JSON.parse(String(o.SecretStringTemplate)) as Record<string, unknown>;
  return JSON.stringify({ ...template, [String(o.GenerateStringKey)]: RandomPassword });
}
