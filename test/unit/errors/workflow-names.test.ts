import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CoordinationContention } from '../../../adapters/aws/coordination';
import { APPROVAL_REJECTED_ERROR } from '../../../core/approval/contracts';
import { COORDINATION_ERRORS } from '../../../core/coordination/contracts';
import { CoordinationRequestInvalid, EnvironmentBusy, RunCancelled } from '../../../core/coordination/errors';
import { DEPLOY_ERROR_NAMES } from '../../../core/deploy/contracts';
import {
  ClusterLookupFailed,
  DeployEventInvalid,
  KubernetesConflict,
  type KubernetesError,
  KubernetesForbidden,
  KubernetesRejected,
  KubernetesTimeout,
  KubernetesUnauthorized,
  KubernetesUnreachable,
  ManifestInvalid,
  ManifestsNotFound,
  NoPreviousRevision,
  RevisionUnreadable,
  RolloutFailed,
  RolloutInProgress,
  StepReady,
} from '../../../core/deploy/errors';
import { SteplineError } from '../../../core/errors';

/**
 * The workflow Catches and Retries on error names (`ErrorEquals` in statemachines/pipeline.asl.json): a name that
 * changes in the code silently turns a handled outcome into a failed run. These tests build every error the
 * functions throw into the workflow and hold the names the definition matches against what they produce.
 */

const DEFINITION = resolve(__dirname, '..', '..', '..', 'statemachines', 'pipeline.asl.json');

/** Every name in an `ErrorEquals` of the definition, at any depth (Parallel branches, Map item processors). */
function caughtNames(): Set<string> {
  const names = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node !== null && typeof node === 'object') {
      const errorEquals = (node as { ErrorEquals?: unknown }).ErrorEquals;
      if (Array.isArray(errorEquals)) for (const name of errorEquals) names.add(String(name));
      Object.values(node).forEach(walk);
    }
  };
  walk(JSON.parse(readFileSync(DEFINITION, 'utf8')));
  return names;
}

/**
 * Names that AWS produces, not Stepline: Step Functions' own (`States.*`), the service integrations' (`Lambda.*`,
 * `CodeBuild.*`), and the Lambda runtime's for a crashed or timed-out function (`Runtime.ExitError`,
 * `Sandbox.Timedout`).
 */
function isAwsName(name: string): boolean {
  return /^(States|Lambda|CodeBuild)\./.test(name) || name === 'Runtime.ExitError' || name === 'Sandbox.Timedout';
}

const kubernetesErrors: KubernetesError[] = [
  new KubernetesUnauthorized('token not accepted'),
  new KubernetesForbidden('deployments.apps is forbidden'),
  new KubernetesConflict('conflict with "kubectl"', { managers: ['kubectl'] }),
  new KubernetesRejected('spec.replicas: Invalid value'),
  new KubernetesUnreachable('connect ECONNREFUSED'),
  new KubernetesTimeout('timed out after 30000 ms'),
];

/** One instance of every error the functions that the workflow calls throw, as the code builds them. */
const thrown: SteplineError[] = [
  new ManifestInvalid([]),
  new ManifestsNotFound('nothing at manifests/production'),
  new ClusterLookupFailed('no such cluster'),
  ...kubernetesErrors,
  // The deployer adds what it applied before the failure: the name the workflow matches stays.
  ...kubernetesErrors.map((error) => error.withApplied([])),
  new RolloutFailed('exceeded its progress deadline'),
  new RolloutInProgress('1 of 3 updated replicas are available'),
  new StepReady('canary 10%: 2 object(s) rolled out'),
  new NoPreviousRevision('no revision completed its rollout'),
  new RevisionUnreadable('revision 3 is not JSON'),
  new DeployEventInvalid('lacks image.digest'),
  new EnvironmentBusy('acme/shop#production', 'shop-main-1', 0),
  new RunCancelled('superseded', 'shop-main-2', 'acme/shop#production'),
  new RunCancelled('overtaken', 'shop-main-2', 'acme/shop#production'),
  new CoordinationRequestInvalid('not a coordination request'),
  new CoordinationContention('too many writers'),
];

/** Names that reach the workflow without an exception: the approval function's SendTaskFailure on a rejection. */
const SENT_AS_TASK_FAILURE = [APPROVAL_REJECTED_ERROR];

describe('the error names the workflow catches', () => {
  it('are each produced by one of Stepline’s errors, or are AWS’s own', () => {
    // Prepare
    const produced = new Set([...thrown.map((error) => error.name), ...SENT_AS_TASK_FAILURE]);

    // Act
    const orphaned = [...caughtNames()].filter((name) => !isAwsName(name) && !produced.has(name));

    // Assess
    expect(orphaned).toEqual([]);
  });

  it('include the ones the workflow is built around: the deploy, rollout, coordination and approval outcomes', () => {
    // Act
    const caught = caughtNames();

    // Assess
    for (const name of [
      'Stepline.RolloutInProgress',
      'KubernetesForbidden',
      'Stepline.EnvironmentBusy',
      'Stepline.Superseded',
      'Stepline.Overtaken',
      'CoordinationContention',
      'Stepline.ApprovalRejected',
    ]) {
      expect(caught).toContain(name);
    }
  });

  it('match the contracts: every name of DEPLOY_ERROR_NAMES and COORDINATION_ERRORS is an error’s name', () => {
    // Prepare
    const produced = new Set(thrown.map((error) => error.name));

    // Act
    const contracted = [...Object.values(DEPLOY_ERROR_NAMES), ...Object.values(COORDINATION_ERRORS)];

    // Assess
    expect(contracted.filter((name) => !produced.has(name))).toEqual([]);
    expect(thrown.every((error) => error instanceof SteplineError)).toBe(true);
  });

  it('keep the cause they are given', () => {
    // Prepare
    const cause = new Error('socket hang up');

    // Act
    const errors = [
      new KubernetesUnreachable('connect ECONNREFUSED', {}, { cause }).withApplied([]),
      new EnvironmentBusy('acme/shop#production', 'shop-main-1', 0, { cause }),
      new RunCancelled('superseded', 'shop-main-2', 'acme/shop#production', { cause }),
      new CoordinationContention('too many writers', { cause }),
    ];

    // Assess
    expect(errors.map((error) => error.cause)).toEqual([cause, cause, cause, cause]);
  });
});
