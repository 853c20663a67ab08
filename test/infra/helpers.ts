import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const REPO_ROOT = path.resolve(__dirname, '../..');
export const FIXTURE_ASL = path.join(REPO_ROOT, 'test/fixtures/asl/pipeline-min.asl.json');

/** Context that skips asset bundling: construct tests look at the template, not at the bundles. */
export const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] as string[] };

/** An app and a stack with a concrete account and region (unless agnostic), bundling skipped unless asked for. */
export function testStack(
  options: { bundle?: boolean; agnostic?: boolean; context?: Record<string, unknown> } = {},
): Stack {
  // The built-in CloudFormation validation is left to the whole-app test: it costs seconds per file to load.
  const app = new App({
    builtinCloudFormationValidation: false,
    context: { ...(options.bundle ? {} : SKIP_BUNDLING), ...options.context },
  });
  return new Stack(app, 'Test', options.agnostic ? {} : { env: { account: ACCOUNT, region: REGION } });
}

/**
 * A scratch project folder with the given `functions/<name>/index.ts` entry points and a package-lock.json, for the
 * constructs to point their NodejsFunctions at. The entry files are inputs for the bundler, which these tests skip
 * (or, where a test bundles, run through esbuild): no test invokes them.
 */
export function scratchProject(functions: readonly string[], files: Record<string, string> = {}): string {
  const root = mkdtempSync(path.join(tmpdir(), 'stepline-infra-'));
  writeFileSync(path.join(root, 'package-lock.json'), '{"lockfileVersion":3,"packages":{}}\n');
  // The project's esbuild (and the packages an entry imports) resolve through the checkout's node_modules.
  symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  for (const name of functions) {
    mkdirSync(path.join(root, 'functions', name), { recursive: true });
    writeFileSync(
      path.join(root, 'functions', name, 'index.ts'),
      'export const handler = async (event: unknown) => ({ received: typeof event });\n',
    );
  }
  for (const [relative, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, relative)), { recursive: true });
    writeFileSync(path.join(root, relative), text);
  }
  return root;
}

type Template = { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'Test',
};

/**
 * Evaluates CloudFormation intrinsics to strings, the same way for every occurrence: a `Ref` to a resource becomes
 * `ref:<LogicalId>`, a `Fn::GetAtt` `getatt:<LogicalId>.<Attribute>`, pseudo parameters their test values. Two
 * places that refer to the same resource evaluate to the same string, which is what the permission tests compare.
 */
export function evaluate(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(evaluate);
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    if (keys.length === 1) {
      const [key] = keys as [string];
      const arg = record[key];
      if (key === 'Ref') return PSEUDO[arg as string] ?? `ref:${arg as string}`;
      if (key === 'Fn::GetAtt') {
        const [id, attribute] = arg as [string, string];
        return `getatt:${id}.${attribute}`;
      }
      if (key === 'Fn::Join') {
        const [delimiter, parts] = arg as [string, unknown[]];
        return parts.map((part) => String(evaluate(part))).join(delimiter);
      }
      if (key === 'Fn::Select') {
        const [index, list] = arg as [number, unknown];
        return (evaluate(list) as unknown[])[index];
      }
      if (key === 'Fn::Split') {
        const [delimiter, source] = arg as [string, unknown];
        return String(evaluate(source)).split(delimiter);
      }
    }
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, evaluate(v)]));
  }
  return value;
}

export function resourcesOfType(template: Template, type: string): [string, Record<string, unknown>][] {
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([id, resource]) => [id, resource.Properties ?? {}]);
}

/** One cdk-nag finding: the rule id as synth prints it and the construct it is on. */
export interface NagFinding {
  readonly id: string;
  readonly path: string;
}

/** The findings of the AwsSolutions and Serverless packs on a synthesized app, acknowledged ones left out. */
export function nagFindings(app: IConstruct): NagFinding[] {
  (app as App).synth();
  const packs = [new AwsSolutionsChecks(), new ServerlessChecks()];
  return packs.flatMap((pack) =>
    pack.validateScope(app).violations.flatMap((violation) =>
      violation.violatingResources.map((resource) => ({
        id: violation.ruleName,
        path: resource.constructPath ?? '',
      })),
    ),
  );
}

/** The logical id of a construct's CloudFormation resource (its default child, or itself when it is one). */
export function logicalIdOf(construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return Stack.of(construct).resolve(element.logicalId) as string;
}
