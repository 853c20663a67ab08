import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { openSealedConfig, parseConfig } from '../../core/config';
import { ENV } from '../../core/contracts';
import { entryExists, SteplineFunction } from '../../infra/constructs/SteplineFunction';
import { evaluate, logicalIdOf, nagFindings, resourcesOfType, scratchProject, testStack } from './helpers';

/** A valid configuration as written: defaults left out, which the sealed file must carry. */
const CONFIG_TEXT = JSON.stringify({
  version: 1,
  repositories: [{ provider: 'github', name: 'acme/shop', build: { imageRepository: 'acme/shop' } }],
});

/** The Lambda function's asset folder in a synthesized assembly. */
function assetDirOf(assembly: import('aws-cdk-lib/cx-api').CloudAssembly): string {
  const template = assembly.getStackByName('Test').template as {
    Resources: Record<string, { Type: string; Properties: { Code: { S3Key: string } } }>;
  };
  const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function')!;
  return path.join(assembly.directory, `asset.${fn.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
}

describe('SteplineFunction', () => {
  it('bundles the entry with the local esbuild as ESM with the createRequire banner, and ships the config beside it', () => {
    // Prepare
    const root = scratchProject(['probe'], { 'stepline.config.json': CONFIG_TEXT });
    const stack = testStack({ bundle: true });

    // Act
    new SteplineFunction(stack, 'Probe', {
      projectRoot: root,
      name: 'probe',
      description: 'probe',
      configFile: path.join(root, 'stepline.config.json'),
    });
    const assembly = (stack.node.root as import('aws-cdk-lib').App).synth();

    // Assess
    const template = assembly.getStackByName('Test').template as {
      Resources: Record<string, { Type: string; Properties: { Code: { S3Key: string } } }>;
    };
    const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function')!;
    const assetDir = path.join(assembly.directory, `asset.${fn.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
    const bundle = readFileSync(path.join(assetDir, 'index.mjs'), 'utf8');
    expect(
      bundle.startsWith("import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);"),
    ).toBe(true);
    expect(bundle).toMatch(/export\s*\{[^}]*handler/);
    const shipped = JSON.parse(readFileSync(path.join(assetDir, 'stepline.config.json'), 'utf8'));
    expect(openSealedConfig(shipped)).toEqual(parseConfig(CONFIG_TEXT, 'test'));
    expect(existsSync(path.join(assetDir, 'index.mjs.map'))).toBe(true);
  });

  it("bundles with the function folder's own definition when it has one, esbuild plugins included", () => {
    // Prepare: a definition with a plugin (esbuild's synchronous API refuses plugins) and a banner to recognize.
    const root = scratchProject(['probe'], {
      'stepline.config.json': CONFIG_TEXT,
      'functions/probe/bundle.ts': [
        "import { join } from 'node:path';",
        "import type { BuildOptions } from 'esbuild';",
        'export function probeBuildOptions(outfile: string): BuildOptions {',
        '  return {',
        "    entryPoints: [join(__dirname, 'index.ts')], outfile, bundle: true, platform: 'node', format: 'cjs',",
        "    plugins: [{ name: 'mark', setup: (build) => build.onEnd(() => undefined) }],",
        "    banner: { js: '/* own bundle */' },",
        '  };',
        '}',
        '',
      ].join('\n'),
    });
    const stack = testStack({ bundle: true });

    // Act
    new SteplineFunction(stack, 'Probe', {
      projectRoot: root,
      name: 'probe',
      description: 'probe',
      configFile: path.join(root, 'stepline.config.json'),
      ownBundle: { file: path.join(root, 'functions/probe/bundle.ts'), optionsExport: 'probeBuildOptions' },
    });
    const assembly = (stack.node.root as import('aws-cdk-lib').App).synth();

    // Assess
    const template = assembly.getStackByName('Test').template as {
      Resources: Record<string, { Type: string; Properties: { Code: { S3Key: string }; Handler: string } }>;
    };
    const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function')!;
    expect(fn.Properties.Handler).toBe('index.handler');
    const assetDir = path.join(assembly.directory, `asset.${fn.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
    const bundle = readFileSync(path.join(assetDir, 'index.js'), 'utf8');
    expect(bundle.startsWith('/* own bundle */')).toBe(true);
    expect(bundle).toContain('module.exports');
    const shipped = JSON.parse(readFileSync(path.join(assetDir, 'stepline.config.json'), 'utf8'));
    expect(openSealedConfig(shipped)).toEqual(parseConfig(CONFIG_TEXT, 'test'));
  });

  it('ships the configuration sealed: validated at synth with its defaults, opened by the function as it is', () => {
    // Prepare
    const root = scratchProject(['probe'], { 'stepline.config.json': CONFIG_TEXT });
    const stack = testStack({ bundle: true });
    new SteplineFunction(stack, 'Probe', {
      projectRoot: root,
      name: 'probe',
      description: 'probe',
      configFile: path.join(root, 'stepline.config.json'),
    });

    // Act
    const assetDir = assetDirOf((stack.node.root as import('aws-cdk-lib').App).synth());
    const shipped = JSON.parse(readFileSync(path.join(assetDir, 'stepline.config.json'), 'utf8'));

    // Assess
    expect(shipped).toMatchObject({ stepline: 'sealed-config', version: 1, digest: expect.stringMatching(/^sha256:/) });
    expect(shipped.config.repositories[0]).toMatchObject({ branches: [], paths: { include: ['**'], exclude: [] } });
    expect(openSealedConfig(shipped)).toEqual(shipped.config);
  });

  it('fails while bundling, naming the field, when the configuration it bundles is invalid', () => {
    // Prepare
    const invalid = JSON.stringify({ version: 1, repositories: [{ provider: 'github', name: 'acme/shop' }] });
    const root = scratchProject(['probe'], { 'stepline.config.json': invalid });
    const stack = testStack({ bundle: true });

    // Act: CDK bundles an asset when the function is made
    const act = () =>
      new SteplineFunction(stack, 'Probe', {
        projectRoot: root,
        name: 'probe',
        description: 'probe',
        configFile: path.join(root, 'stepline.config.json'),
      });

    // Assess: CDK wraps what the bundling threw (FailedToBundleAsset) and keeps its message
    expect(act).toThrow(
      /ConfigError: invalid Stepline configuration in \S+stepline\.config\.json:\s+repositories\[0\]\.build: /,
    );
  });

  it('runs Node.js 24 on arm64 with X-Ray, its own log group and a role that may write only there', () => {
    // Prepare
    const root = scratchProject(['probe']);
    const stack = testStack();

    // Act
    const probe = new SteplineFunction(stack, 'Probe', { projectRoot: root, name: 'probe', description: 'probe' });
    const json = Template.fromStack(stack).toJSON() as never;

    // Assess
    const [, fn] = resourcesOfType(json, 'AWS::Lambda::Function')[0]!;
    expect(fn).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 512,
      Timeout: 30,
      TracingConfig: { Mode: 'Active' },
    });
    const variables = (fn.Environment as { Variables: Record<string, string> }).Variables;
    expect(variables).toMatchObject({ [ENV.serviceName]: 'stepline-probe', [ENV.metricsNamespace]: 'Stepline' });
    expect(variables).not.toHaveProperty(ENV.config);
    const logGroupId = logicalIdOf(probe.logGroup);
    expect(evaluate(fn.LoggingConfig)).toEqual({ LogGroup: `ref:${logGroupId}` });
    const [, policy] = resourcesOfType(json, 'AWS::IAM::Policy')[0]!;
    const statements = (
      evaluate(policy.PolicyDocument) as { Statement: { Action: string[] | string; Resource: string }[] }
    ).Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: `getatt:${logGroupId}.Arn`,
      }),
    );
    expect(resourcesOfType(json, 'AWS::IAM::Role')[0]![1].ManagedPolicyArns).toBeUndefined();
  });

  it('sends failed asynchronous invocations to the given queue', () => {
    // Prepare
    const root = scratchProject(['probe']);
    const stack = testStack();
    const queue = new sqs.Queue(stack, 'Failures');

    // Act
    new SteplineFunction(stack, 'Probe', {
      projectRoot: root,
      name: 'probe',
      description: 'probe',
      asyncFailureQueue: queue,
    });

    // Assess
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: {
        OnFailure: {
          Destination: {
            'Fn::GetAtt': [logicalIdOf(queue), 'Arn'],
          },
        },
      },
    });
  });

  it('fails with the entry path, relative and absolute, when the entry point does not exist', () => {
    // Prepare
    const root = scratchProject([]);

    // Act + Assess
    expect(entryExists(root, 'deploy')).toBe(false);
    expect(
      () => new SteplineFunction(testStack(), 'Deploy', { projectRoot: root, name: 'deploy', description: 'd' }),
    ).toThrow(`functions/deploy/index.ts not found: ${root}/functions/deploy/index.ts`);
  });

  it('raises no cdk-nag finding that it does not acknowledge', () => {
    // Prepare
    const root = scratchProject(['probe', 'async']);
    const stack = testStack();
    new SteplineFunction(stack, 'Probe', { projectRoot: root, name: 'probe', description: 'probe' });
    const dlq = new sqs.Queue(stack, 'Failures', { enforceSSL: true });
    new SteplineFunction(stack, 'Async', {
      projectRoot: root,
      name: 'async',
      description: 'a',
      asyncFailureQueue: dlq,
    });

    // Act
    const findings = nagFindings(stack.node.root).filter((f) => !f.path.startsWith('Test/Failures'));

    // Assess
    expect(findings).toEqual([]);
  });
});
