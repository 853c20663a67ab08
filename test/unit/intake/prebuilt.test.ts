import { describe, expect, it } from 'vitest';
import { environmentToRerun, prebuiltOf } from '../../../core/intake/prebuilt';

/** What a re-run from the failed environment reads of the failed run (ADR 0106): pure, table-driven. */

const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:stepline-pipeline:run-1';
const IMAGE = {
  repository: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/shop',
  digest: `sha256:${'ab'.repeat(32)}`,
};

const exited = (name: string, assigned: Record<string, unknown>) => ({
  type: 'TaskStateExited',
  stateExitedEventDetails: {
    name,
    assignedVariables: Object.fromEntries(Object.entries(assigned).map(([k, v]) => [k, JSON.stringify(v)])),
  },
});

describe('prebuiltOf', () => {
  it('takes the last assignment of the image, manifests, build and tests from the state exits', () => {
    // Prepare
    const history = [
      { type: 'ExecutionStarted' },
      exited('ReportPending', { image: null, manifestsLocation: null, build: null, tests: [] }),
      exited('Build', { image: IMAGE, manifestsLocation: 's3://a/run-1', build: { id: 'b:1', logUrl: 'https://log' } }),
      {
        type: 'MapStateExited',
        stateExitedEventDetails: { name: 'Test', assignedVariables: { tests: '[{"suite":"unit","state":"success"}]' } },
      },
      exited('Deploy', { deployed: { revision: 1 } }),
    ];

    // Act
    const prebuilt = prebuiltOf(ARN, history);

    // Assess
    expect(prebuilt).toEqual({
      image: IMAGE,
      manifestsLocation: 's3://a/run-1',
      build: { id: 'b:1', logUrl: 'https://log' },
      tests: [{ suite: 'unit', state: 'success', logUrl: null }],
      from: ARN,
    });
  });

  it.each([
    ['no image was built', [exited('ReportPending', { image: null })]],
    [
      'a suite failed',
      [exited('Build', { image: IMAGE }), exited('Test', { tests: [{ suite: 'unit', state: 'failure' }] })],
    ],
    ['the image has no digest', [exited('Build', { image: { repository: 'r', digest: null } })]],
  ])('answers null when %s', (_, history) => {
    // Act, Assess
    expect(prebuiltOf(ARN, history)).toBeNull();
  });

  it('keeps the run that built the image when a re-run is re-run', () => {
    // Act, Assess
    expect(prebuiltOf(`${ARN}-r1`, [exited('ImageGiven', { image: IMAGE })], ARN)?.from).toBe(ARN);
  });
});

describe('environmentToRerun', () => {
  const cause = JSON.stringify({ step: 'deploy', environment: 'production', reason: 'x' });

  it.each([
    ['the failed environment’s deploy check', 'stepline/deploy/production', 'FAILED', cause, 'production'],
    ['another environment’s deploy check', 'stepline/deploy/staging', 'FAILED', cause, null],
    ['the build check', 'stepline/build', 'FAILED', cause, null],
    ['a run that succeeded', 'stepline/deploy/production', 'SUCCEEDED', null, null],
    ['a cause that is not JSON', 'stepline/deploy/production', 'FAILED', 'States.Timeout', null],
  ])('%s → %s', (_, check, status, why, expected) => {
    // Act, Assess
    expect(environmentToRerun(check, status, why)).toBe(expected);
  });
});
