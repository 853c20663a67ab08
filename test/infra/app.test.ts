import { existsSync } from 'node:fs';
import * as path from 'node:path';
import aslValidator from 'asl-validator';
import type { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { APPROVAL_KEEPER, heartbeatSecondsFor } from '../../core/approval/contracts';
import { createApp } from '../../infra/bin/create-app';
import { MissingFilesError } from '../../infra/errors';
import { acknowledgementsOf, RECORD_ONLY_CONTEXT } from '../../infra/nag/acknowledge';
import type { SteplineStack } from '../../infra/stacks/stepline-stack';
import { FIXTURE_ASL, type NagFinding, nagFindings, REPO_ROOT, SKIP_BUNDLING, scratchProject } from './helpers';
import {
  deployedDefinition,
  documentedGrants,
  roleGrants,
  SERVICE_GRANTS,
  stateMachineRoleId,
} from './workflow-permissions';

/**
 * The whole app, as `npm run synth` builds it from this checkout (bundling skipped: the template is what is checked),
 * under the AwsSolutions and Serverless packs.
 */

const REAL_DEFINITION = path.join(REPO_ROOT, 'statemachines/pipeline.asl.json');

function build(
  options: { definitionFile?: string; context?: Record<string, unknown>; projectRoot?: string; nag?: boolean } = {},
) {
  return createApp({
    projectRoot: options.projectRoot ?? REPO_ROOT,
    nag: options.nag ?? false,
    ...(options.definitionFile ? { definitionFile: options.definitionFile } : {}),
    appProps: { context: { ...SKIP_BUNDLING, ...options.context } },
  });
}

/** Whether a finding is on the acknowledged construct or below it. */
const covers = (ackPath: string, finding: NagFinding) =>
  finding.path === ackPath || finding.path.startsWith(`${ackPath}/`);

describe('the Stepline app', () => {
  // The app as `npm run synth` builds it, with the fixture workflow and the packs registered (synthesized once).
  const fixtureApp = build({ definitionFile: FIXTURE_ASL, nag: true });

  it('synthesizes under the AwsSolutions and Serverless packs with no finding left unacknowledged', () => {
    // Prepare
    const { app } = fixtureApp;

    // Act
    const assembly = app.synth();

    // Assess
    expect(assembly.getStackByName('Stepline').template.Resources).toBeDefined();
    expect(nagFindings(app)).toEqual([]);
  });

  it('acknowledges only findings the packs raise, each by its exact id, with a reason', () => {
    // Prepare
    const { app } = build({ definitionFile: FIXTURE_ASL, context: { [RECORD_ONLY_CONTEXT]: true } });

    // Act
    const findings = nagFindings(app);
    const acknowledgements = acknowledgementsOf(app);

    // Assess
    const stale = acknowledgements.filter((ack) => !findings.some((f) => f.id === ack.id && covers(ack.path, f)));
    expect(stale).toEqual([]);
    const unacknowledged = findings.filter(
      (f) => !acknowledgements.some((ack) => ack.id === f.id && covers(ack.path, f)),
    );
    expect(unacknowledged).toEqual([]);
    expect(acknowledgements.length).toBeGreaterThan(10);
    for (const ack of acknowledgements)
      expect(ack.reason.length, `${ack.id} on ${ack.path}`).toBeGreaterThanOrEqual(40);
  });

  it('fails synth when a finding has no acknowledgement', () => {
    // Prepare: record-only makes every finding unacknowledged; with the packs registered, synth must refuse.
    const { app } = createApp({
      projectRoot: REPO_ROOT,
      definitionFile: FIXTURE_ASL,
      appProps: { context: { ...SKIP_BUNDLING, [RECORD_ONLY_CONTEXT]: true } },
    });

    // Act + Assess
    expect(() => app.synth()).toThrow(/contains wildcard permissions/);
  });

  const definitions = [
    { name: 'the test fixture', file: FIXTURE_ASL },
    ...(existsSync(REAL_DEFINITION) ? [{ name: 'statemachines/pipeline.asl.json', file: REAL_DEFINITION }] : []),
  ];
  describe.each(definitions)('with $name as the workflow', ({ file }) => {
    const { stack } = file === FIXTURE_ASL ? fixtureApp : build({ definitionFile: file });
    const json = Template.fromStack(stack).toJSON() as never;
    const deployed = deployedDefinition(json);

    it('substitutes every placeholder of the definition', () => {
      const placeholders = new Set([...deployed.raw.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]));
      expect(Object.keys(deployed.substitutions).sort()).toEqual([...placeholders].sort());
      expect(deployed.text).not.toMatch(/\$\{[A-Za-z0-9_]+\}/);
    });

    it('passes asl-validator once substituted', () => {
      const result = aslValidator(JSON.parse(deployed.text));
      expect(result.errorsText('\n')).toBe('');
      expect(result.isValid).toBe(true);
    });

    it('allows the state machine role every Task of the definition and nothing more', () => {
      // Act
      const needed = documentedGrants(deployed.text);
      const granted = roleGrants(json, stateMachineRoleId(json));

      // Assess
      for (const [state, grants] of needed) {
        for (const grant of grants) expect(granted, `state ${state} needs ${grant}`).toContain(grant);
      }
      const neededSet = new Set([...needed.values()].flat());
      expect(granted.filter((grant) => !neededSet.has(grant) && !SERVICE_GRANTS.includes(grant))).toEqual([]);
    });
  });

  it.runIf(existsSync(REAL_DEFINITION))(
    "gives the workflow's approval task the heartbeat that the keeper's schedule keeps alive",
    () => {
      // Prepare
      const { stack } = build({ definitionFile: REAL_DEFINITION }) as { app: App; stack: SteplineStack };

      // Act
      const { substitutions } = deployedDefinition(Template.fromStack(stack).toJSON() as never);

      // Assess
      expect(stack.approvals.heartbeatSeconds).toBe(heartbeatSecondsFor(APPROVAL_KEEPER.awsIntervalSeconds));
      expect(substitutions.ApprovalHeartbeatSeconds).toBe(String(stack.approvals.heartbeatSeconds));
    },
  );

  it('fails synth naming every entry point and the definition that do not exist, and what needs each', () => {
    // Prepare
    const root = scratchProject(['webhook', 'replay', 'status', 'approval', 'coordination'], {
      'stepline.config.json': JSON.stringify({
        version: 1,
        repositories: [{ provider: 'github', name: 'acme/shop', build: { imageRepository: 'acme/shop' } }],
      }),
    });

    // Act
    const thrown = (() => {
      try {
        build({ projectRoot: root });
      } catch (error) {
        return error;
      }
      return undefined;
    })();

    // Assess
    expect(thrown).toBeInstanceOf(MissingFilesError);
    expect((thrown as MissingFilesError).missing).toEqual([
      { file: 'functions/build-events/index.ts', neededBy: 'StatusReporter' },
      { file: 'functions/execution-events/index.ts', neededBy: 'StatusReporter' },
      { file: 'functions/status/run-link/index.ts', neededBy: 'StatusReporter' },
      { file: 'functions/deploy/index.ts', neededBy: 'EksDeployer' },
      { file: 'functions/rollout/index.ts', neededBy: 'EksDeployer' },
      { file: 'functions/rollback/index.ts', neededBy: 'EksDeployer' },
      { file: 'functions/analysis/index.ts', neededBy: 'EksDeployer' },
      { file: 'statemachines/pipeline.asl.json', neededBy: 'PipelineWorkflow' },
    ]);
    expect((thrown as Error).message).toBe(
      "Stepline's AWS app cannot be synthesized: functions/build-events/index.ts (StatusReporter), " +
        'functions/execution-events/index.ts (StatusReporter), functions/status/run-link/index.ts (StatusReporter), ' +
        'functions/deploy/index.ts (EksDeployer), ' +
        'functions/rollout/index.ts (EksDeployer), functions/rollback/index.ts (EksDeployer), ' +
        'functions/analysis/index.ts (EksDeployer), ' +
        `statemachines/pipeline.asl.json (PipelineWorkflow) do not exist under ${root}. Every function's entry ` +
        'point and the workflow definition are part of the app.',
    );
  });

  it("reads the clusters' authentication modes and the aws-auth opt-out from the context", () => {
    // Act
    const { stack } = build({
      definitionFile: FIXTURE_ASL,
      context: { eksAuthenticationMode: 'acme-production=API', eksAwsAuthClusters: 'acme-staging' },
    });

    // Assess
    const template = Template.fromStack(stack);
    template.resourceCountIs('Custom::EksAuthenticationMode', 0);
    template.resourcePropertiesCountIs('AWS::EKS::AccessEntry', { ClusterName: 'acme-production' }, 1);
    template.resourcePropertiesCountIs('AWS::EKS::AccessEntry', { ClusterName: 'acme-staging' }, 0);
    const outputs = Object.keys((template.toJSON() as { Outputs: Record<string, unknown> }).Outputs);
    expect(outputs.filter((id) => id.includes('AwsAuth'))).toEqual([
      expect.stringMatching(/^EksDeployerAwsAuthMapRoleshereacmestaging/),
      expect.stringMatching(/^EksDeployerAwsAuthEksctlhereacmestaging/),
      expect.stringMatching(/^EksDeployerAwsAuthRoleBindingshereacmestaging/),
    ]);
  });

  it('names the configuration file it cannot find and how to pass another', () => {
    expect(() => build({ context: { config: 'nowhere/stepline.config.json' } })).toThrow(
      /nowhere\/stepline\.config\.json not found: .*nowhere\/stepline\.config\.json \(pass -c config=<path>/,
    );
  });
});
