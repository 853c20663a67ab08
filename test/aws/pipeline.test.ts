import { randomUUID } from 'node:crypto';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SampleRepository } from '../../local/demo/repository';
import { type Delivery, githubPush, githubSignature } from '../../local/demo/webhook';
import { motoClientConfig } from '../support/moto/clients';
import { githubExample } from '../unit/intake/support';
import { deployedImage, heldLocks, imageDigest, refusals, status, statuses } from './support/checks';
import { commitComment, forkPullRequest } from './support/deliveries';
import { type Page, Person } from './support/person';
import { writeReport } from './support/report';
import { AWS_BUILDSPEC, change, serviceRepository } from './support/repository';
import { AwsWorld } from './support/world';

/**
 * The platform as synthesized, run end to end (support/world.ts): a signed GitHub delivery to the HTTP API → the
 * webhook bundle → StartExecution → the substituted definition → builds on the local CodeBuild under the projects'
 * roles → the deploy bundles → EKS (the simulated API server, with the access entries' scope) → commit statuses on
 * the Git host stand-in. Each scenario has a repository of its own in test/aws/fixtures/stepline.config.json, so
 * the scenarios run at once without sharing a lock or a namespace.
 */

let world: AwsWorld;
/** Refusals a scenario expects (a fork's build trying to reach what it may not), by role. */
const expectedDenials = new Set<string>();

beforeAll(async () => {
  world = await AwsWorld.start({
    clusters: [{ name: 'stepline-e2e', authenticationMode: 'API_AND_CONFIG_MAP' }],
    namespaces: [
      'happy',
      'happy-path',
      'parked',
      'superseded',
      'commented',
      'broken-build',
      'broken-suite',
      'rollout',
      'slow-deploy',
      'rejected',
      'lost',
      'canary',
    ].flatMap((name) => [`${name}-staging`, `${name}-production`]),
  });
}, 600_000);

afterAll(async () => {
  if (world) console.log(['AWS calls and unused permissions by role:', ...writeReport(world)].join('\n'));
  await world?.stop();
});

async function push(repository: Awaited<ReturnType<typeof serviceRepository>>) {
  const answer = await world.deliver('github', githubPush(repository, world.webhookSecret));
  expect(answer.status, JSON.stringify(answer.body)).toBe(202);
  const arn = String(answer.body['executionArn']);
  return { arn, record: await world.ended(arn) };
}

/** Every scenario runs at once, on a 2-core machine shared with the builds: minutes, not seconds. */
const SCENARIO_MS = 420_000;

describe.concurrent('the platform as synthesized, end to end', { timeout: SCENARIO_MS }, () => {
  it('BuildFailsTest: a build that fails ends the run FAILED at the build, reported, nothing deployed', async ({
    expect,
  }) => {
    // Prepare
    const created = await serviceRepository('broken-build', ['staging']);
    const repository = await change(
      created,
      {
        'buildspec.yml': AWS_BUILDSPEC.replace(
          '      - echo "image',
          '      - test -f no-such-file\n      - echo "image',
        ),
      },
      'Break the build',
    );

    // Act
    const { record } = await push(repository);

    // Assess
    expect(record.status).toBe('FAILED');
    expect(statuses(world, repository.name, repository.head)).toMatchObject({
      stepline: 'failure',
      'stepline/build': 'failure',
    });
    expect(deployedImage(world, 'broken-build-staging')).toBeUndefined();
  });

  it('SuiteFailsTest: a failing suite ends the run FAILED at the tests; the other suite passes; nothing deployed', async ({
    expect,
  }) => {
    // Prepare
    const created = await serviceRepository('broken-suite', ['staging']);
    const repository = await change(
      created,
      {
        'test/unit/broken.test.js':
          "const { it } = require('node:test');\nit('fails on purpose', () => { throw new Error('broken on purpose'); });\n",
      },
      'Break a unit test',
    );

    // Act
    const { record } = await push(repository);

    // Assess
    expect(record.status).toBe('FAILED');
    expect(statuses(world, repository.name, repository.head)).toMatchObject({
      stepline: 'failure',
      'stepline/build': 'success',
      'stepline/test/unit': 'failure',
      'stepline/test/http': 'success',
    });
    expect(deployedImage(world, 'broken-suite-staging')).toBeUndefined();
  });

  it('RolloutFailsRollsBackTest: a rollout that never gets ready is rolled back to the last good image', async ({
    expect,
  }) => {
    // Prepare: a first good deploy.
    const first = await serviceRepository('rollout', ['staging']);
    expect((await push(first)).record.status).toBe('SUCCEEDED');
    const good = imageDigest(first);
    const second = await change(
      first,
      { 'src/greeting.txt': 'never ready\n' },
      'A change whose image never gets ready',
    );
    const bad = imageDigest(second);
    world.kubernetes.setImageReadiness((image) => !image.endsWith(bad));

    // Act
    const { record } = await push(second);

    // Assess
    expect(record.status).toBe('FAILED');
    expect(deployedImage(world, 'rollout-staging'), `${record.error}: ${record.cause}`).toMatch(
      new RegExp(`@${good}$`),
    );
    expect(statuses(world, second.name, second.head)).toMatchObject({
      stepline: 'failure',
      'stepline/deploy/staging': 'failure',
    });
    expect(world.fnNamed('EksDeployerRollbackFunction').invocations).toBeGreaterThan(0);
  });

  it('DeployTimeoutRollsBackTest: a deploy function that runs out of time is rolled back, then the lock released', async ({
    expect,
  }) => {
    // Prepare: a first good deploy, then a deploy that times out once it has applied the new Deployment.
    const first = await serviceRepository('slow-deploy', ['staging']);
    expect((await push(first)).record.status).toBe('SUCCEEDED');
    const good = imageDigest(first);
    const second = await change(first, { 'src/greeting.txt': 'slow\n' }, 'A change whose deploy runs out of time');
    const deploy = world.fnNamed('EksDeployerDeployFunction');
    const stop = world.kubernetes.onRequest((request) => {
      // Only once an invocation of this run is timed out: a patch answered after its invocation ended times out none.
      if (request.verb === 'patch' && request.path.includes('/namespaces/slow-deploy-staging/deployments/')) {
        if (deploy.timeOutNow((event) => isFor(event, second.name)) > 0) stop();
      }
    });

    // Act
    const { arn, record } = await push(second);

    // Assess
    expect(record.status).toBe('FAILED');
    const timedOut = world
      .history(arn)
      .find((e) => e.type === 'TaskFailed' && JSON.stringify(e).includes('Sandbox.Timedout'));
    expect(timedOut, `the deploy Task failed with Sandbox.Timedout (${record.error}: ${record.cause})`).toBeDefined();
    const rolledBack = world
      .history(arn)
      .some((e) => e.type === 'TaskStateEntered' && JSON.stringify(e).includes('"Rollback"'));
    expect(rolledBack, 'the run entered Rollback').toBe(true);
    expect(deployedImage(world, 'slow-deploy-staging'), `${record.error}: ${record.cause}`).toMatch(
      new RegExp(`@${good}$`),
    );
  });

  it('ForkPullRequestTest: a fork’s pull request builds and tests in the projects without secrets, and reaches nothing', async ({
    expect,
  }) => {
    // Prepare: the fork's buildspec tries to read the bucket and a secret.
    const repository = await serviceRepository('happy', ['staging', 'production']);
    const probe = AWS_BUILDSPEC.replace(
      '  post_build:',
      [
        '      - aws --endpoint-url "$AWS_ENDPOINT_URL" s3 ls "s3://$STEPLINE_ARTIFACTS_BUCKET/" || echo "no bucket for forks"',
        '      - aws --endpoint-url "$AWS_ENDPOINT_URL" secretsmanager list-secrets || echo "no secrets for forks"',
        '  post_build:',
      ].join('\n'),
    );
    const pr = forkPullRequest(repository, world.webhookSecret, 7, { 'buildspec.yml': probe });
    const untrustedRoles = world.values
      .resourcesOf('AWS::IAM::Role')
      .filter((id) => id.startsWith('BuildProjectsUntrusted'));
    for (const role of untrustedRoles) expectedDenials.add(role);

    // Act
    const answer = await world.deliver('github', pr.delivery);
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    const record = await world.ended(String(answer.body['executionArn']));

    // Assess
    expect(record.status).toBe('SUCCEEDED');
    expect(statuses(world, repository.name, pr.sha)).toMatchObject({
      'stepline/build': 'success',
      stepline: 'success',
    });
    // The build's own calls (the services' work with the role, its logs and reports, is allowed to it).
    const forkCalls = world.iam.calls.filter(
      (c) => untrustedRoles.includes(c.principal) && /^(s3|secretsmanager):/.test(c.operation),
    );
    expect(forkCalls.length).toBeGreaterThan(0);
    expect(forkCalls.filter((c) => c.allowed)).toEqual([]);
    expect(deployedImage(world, 'happy-staging')).toBeUndefined();
  });

  it('ParkedDeliveryTest: a delivery Step Functions throttles is parked in SQS, then replayed and run, nothing lost', async ({
    expect,
  }) => {
    // Prepare: Step Functions refuses the webhook's StartExecution (the SDK's three attempts).
    const repository = await serviceRepository('parked', ['staging']);
    const throttled = {
      operation: 'states:StartExecution',
      role: 'WebhookIntakeWebhookRole',
      times: Number.POSITIVE_INFINITY,
      answer: {
        status: 400,
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': 'ThrottlingException' },
        body: JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }),
      },
    };
    world.endpoint.inject(throttled);

    // Act
    const answer = await world.deliver('github', githubPush(repository, world.webhookSecret));
    throttled.times = 0;
    await world.eventSources.drain('WebhookIntakeReplay');

    // Assess
    expect(answer, 'the delivery was kept for a replay').toMatchObject({ status: 202, body: { status: 'queued' } });
    const started = world.states
      .listExecutions({ stateMachineArn: world.stateMachineArn, maxResults: 1000 })
      .items.find(
        (e) =>
          (JSON.parse(e.input) as { request?: { commit?: { sha?: string } } }).request?.commit?.sha === repository.head,
      );
    expect(started, 'the replay started the run').toBeDefined();
    expect((await world.ended(started!.arn)).status).toBe('SUCCEEDED');
    expect(deployedImage(world, 'parked-staging')).toMatch(new RegExp(`@${imageDigest(repository)}$`));
  });

  it('SupersededTest: a newer push to the branch stops the older run while it builds; the newer one deploys', async ({
    expect,
  }) => {
    // Prepare: while the older run's build is in progress, the newer push arrives.
    const older = await serviceRepository('superseded', ['staging']);
    const newer = await change(older, { 'src/greeting.txt': 'newer\n' }, 'A newer change');
    let newerArn = '';
    const off = world.onTask('BuildProjectsBuild', async ({ executionArn }) => {
      if (newerArn || !world.history(executionArn).some((e) => JSON.stringify(e).includes(older.head))) return;
      const answer = await world.deliver('github', githubPush(newer, world.webhookSecret));
      newerArn = String(answer.body['executionArn']);
      await world.entered(newerArn, 'Build');
    });

    // Act
    const first = await world.deliver('github', githubPush(older, world.webhookSecret));
    const olderRecord = await world.ended(String(first.body['executionArn']));
    off();
    const newerRecord = await world.ended(newerArn);

    // Assess
    expect(olderRecord).toMatchObject({ status: 'ABORTED', error: 'Stepline.Superseded' });
    expect(newerRecord.status, `${newerRecord.error}: ${newerRecord.cause}`).toBe('SUCCEEDED');
    expect(deployedImage(world, 'superseded-staging')).toMatch(new RegExp(`@${imageDigest(newer)}$`));
    const stopped = world.iam.calls.filter((c) => c.authorization.action === 'states:StopExecution');
    expect(stopped.length).toBeGreaterThan(0);
    expect(stopped.every((c) => c.allowed)).toBe(true);
  });

  it('HappyPathTest: built, two suites, staging, then production after an approval given through the deployed route', async ({
    expect,
  }) => {
    // Prepare: while the gate waits, GitHub redelivers the push, the keeper's schedule runs once, then the approver
    // follows the link in the commit status, signs in with GitHub and approves.
    const repository = await serviceRepository('happy-path', ['staging', 'production']);
    const delivery = githubPush(repository, world.webhookSecret);
    const pages: Page[] = [];
    let redelivered: Awaited<ReturnType<AwsWorld['deliver']>> | undefined;
    const keeperRule = world.values.resourcesOf('AWS::Events::Rule').find((id) => id.startsWith('ApprovalsKeeper'));
    const off = world.onTask('ApprovalsTask', async ({ payload, running }) => {
      if (!isFor(payload, repository.name)) return;
      await running;
      redelivered = await world.deliver('github', delivery);
      world.events.runSchedule(keeperRule!);
      await world.events.settled();
      pages.push(...(await decide(repository.name, repository.head, 'production', { decision: 'approve' })));
    });

    // Act
    const answer = await world.deliver('github', delivery);
    const record = await world.ended(String(answer.body['executionArn']));
    off();

    // Assess
    expect(record.status, JSON.stringify([record.error, record.cause, pages.map((p) => [p.status, p.url])])).toBe(
      'SUCCEEDED',
    );
    expect(pages.at(-1)?.status).toBe(200);
    expect(redelivered, 'the redelivery while the run is open').toMatchObject({
      status: 200,
      body: { status: 'duplicate', executionArn: answer.body['executionArn'] },
    });
    expect(statuses(world, repository.name, repository.head)).toMatchObject({
      stepline: 'success',
      'stepline/build': 'success',
      'stepline/test/unit': 'success',
      'stepline/test/http': 'success',
      'stepline/deploy/staging': 'success',
      'stepline/deploy/production': 'success',
    });
    const digest = imageDigest(repository);
    expect(deployedImage(world, 'happy-path-staging')).toMatch(new RegExp(`@${digest}$`));
    expect(deployedImage(world, 'happy-path-production')).toMatch(new RegExp(`@${digest}$`));
    const listed = world.iam.calls.find(
      (c) => c.principal.startsWith('EksDeployerRole') && c.authorization.action === 's3:ListBucket',
    );
    expect(listed, 'the deploy function listed the manifests folder').toMatchObject({ allowed: true });
    const heartbeat = world.iam.calls.find((c) => c.operation === 'states:SendTaskHeartbeat');
    expect(heartbeat, 'the keeper heartbeat the waiting gate').toMatchObject({ allowed: true });
    expect(world.events.deliveries.filter((d) => d.rule === keeperRule && !d.ok)).toEqual([]);
  });

  it('ApprovalRejectedTest: a rejection given through the deployed route ends the run at the gate, with its reason', async ({
    expect,
  }) => {
    // Prepare
    const repository = await serviceRepository('rejected', ['production']);
    const off = world.onTask('ApprovalsTask', async ({ payload, running }) => {
      if (!isFor(payload, repository.name)) return;
      await running;
      await decide(repository.name, repository.head, 'production', {
        decision: 'reject',
        reason: 'not during the sale',
      });
    });

    // Act
    const { record } = await push(repository);
    off();

    // Assess
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('Stepline.ApprovalRejected');
    expect(record.cause).toContain('not during the sale');
    expect(statuses(world, repository.name, repository.head)).toMatchObject({
      'stepline/deploy/production': 'failure',
    });
    expect(deployedImage(world, 'rejected-production')).toBeUndefined();
  });

  it('CommentApprovalTest: “/approve production” on the commit, by an approver, approves the gate and is answered', async ({
    expect,
  }) => {
    // Prepare: while the gate waits, the approver comments on the commit; the webhook queues the command and the
    // commands function takes it from SQS.
    const repository = await serviceRepository('commented', ['production']);
    const off = world.onTask('ApprovalsTask', async ({ payload, running }) => {
      if (!isFor(payload, repository.name)) return;
      await running;
      const comment = commitComment(repository, world.webhookSecret, {
        sha: repository.head,
        login: 'release-manager',
        body: '/approve production',
      });
      const answer = await world.deliver('github', comment);
      if (answer.status >= 300) throw new Error(`the comment delivery answered ${answer.status}`);
      await world.eventSources.drain('ApprovalsCommands');
    });

    // Act
    const { record } = await push(repository);
    off();

    // Assess
    expect(record.status, `${record.error}: ${record.cause}`).toBe('SUCCEEDED');
    expect(deployedImage(world, 'commented-production')).toMatch(new RegExp(`@${imageDigest(repository)}$`));
    const replies = world.oauth.comments().filter((c) => c.path.includes(repository.head));
    expect(JSON.stringify(replies)).toMatch(/approved/i);
  });

  it('CheckRunRerunTest: “Re-run” on a check run starts the finished run again through the deployed webhook, once', async ({
    expect,
  }) => {
    // Prepare: a run that ends in two transitions (a push outside the repository's path filter): what is at stake
    // here is the webhook's role, environment and bundle (DescribeExecution, then StartExecution), not the builds.
    const created = await serviceRepository('rerun', []);
    const repository = await change(created, { 'docs/notes.md': 'Notes only\n' }, 'Notes, outside the path filter');
    const pushed = await world.deliver('github', githubPush(repository, world.webhookSecret));
    expect(pushed.body, JSON.stringify(pushed.body)).toMatchObject({ status: 'skipped' });
    const original = String(pushed.body['executionArn']);
    expect((await world.ended(original)).status).toBe('SUCCEEDED');
    const press = checkRunRerequested(repository, world.webhookSecret, original);

    // Act: the press, and GitHub's redelivery of it once the re-run has ended.
    const first = await world.deliver('github', press);
    const rerun = await world.ended(String(first.body['executionArn']));
    const again = await world.deliver('github', press);

    // Assess
    expect(first, JSON.stringify(first.body)).toMatchObject({ status: 202, body: { status: 'started' } });
    expect(rerun.status, `${rerun.error}: ${rerun.cause}`).toBe('SUCCEEDED');
    expect(again).toMatchObject({ status: 200, body: { status: 'duplicate', name: first.body['name'] } });
    const runs = world.states
      .listExecutions({ stateMachineArn: world.stateMachineArn, maxResults: 1000 })
      .items.filter((e) => e.input.includes(repository.head));
    expect(runs.map((e) => e.arn).sort()).toEqual([original, String(first.body['executionArn'])].sort());
    expect(new Set(runs.map((e) => e.input)).size, 'the re-run ran the same input').toBe(1);
    const described = world.iam.calls.filter(
      (c) =>
        c.principal.startsWith('WebhookIntakeWebhookRole') && c.authorization.action === 'states:DescribeExecution',
    );
    expect(described.length).toBeGreaterThan(0);
    expect(described.every((c) => c.allowed)).toBe(true);
  });

  it('CanaryAbortedByCloudWatchTest: a canary whose CloudWatch metric (moto GetMetricData) fails is aborted, the stable image kept', async ({
    expect,
  }) => {
    // Prepare: a first deploy (direct: there is nothing to compare a canary with), then errors on the canary's
    // CloudWatch metric, put in moto as an application would.
    const first = await serviceRepository('canary', ['staging']);
    expect((await push(first)).record.status).toBe('SUCCEEDED');
    const good = imageDigest(first);
    const cloudwatch = new CloudWatchClient(motoClientConfig(world.moto.endpoint));
    await cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: 'Stepline/E2E',
        MetricData: [
          { MetricName: 'Errors', Dimensions: [{ Name: 'track', Value: 'canary' }], Value: 9, Timestamp: new Date() },
        ],
      }),
    );
    const second = await change(first, { 'src/greeting.txt': 'canary\n' }, 'A change that errs on its canary');

    // Act
    const { arn, record } = await push(second);

    // Assess: aborted at its first measurement, the stable Deployment back on the good image
    expect(record.status).toBe('FAILED');
    expect(record.cause).toContain('the canary 50% analysis failed: metric errors failed');
    expect(deployedImage(world, 'canary-staging'), `${record.error}: ${record.cause}`).toMatch(new RegExp(`@${good}$`));
    const measured = world
      .history(arn)
      .filter((e) => e.type === 'TaskSucceeded' && JSON.stringify(e).includes('MetricDataResults'));
    expect(measured.length).toBeGreaterThan(0);
    // The workflow's own GetMetricData, signed with the state machine role and allowed by exactly its statement.
    const calls = world.iam.calls.filter((c) => c.authorization.action === 'cloudwatch:GetMetricData');
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((c) => c.allowed && c.principal.startsWith('PipelineWorkflowRole'))).toBe(true);
  });

  it('ApprovalLostTest: a gate whose request no keeper heartbeats ends “approval lost”, reported, nothing deployed', async ({
    expect,
  }) => {
    // Prepare
    const repository = await serviceRepository('lost', ['production']);

    // Act
    const { record } = await push(repository);

    // Assess
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('Stepline.ApprovalLost');
    expect(statuses(world, repository.name, repository.head)).toMatchObject({
      stepline: 'failure',
      'stepline/deploy/production': 'failure',
    });
    expect(deployedImage(world, 'lost-production')).toBeUndefined();
  });
});

/**
 * GitHub's `check_run` `rerequested` ("Re-run", @octokit/webhooks-examples) on the check run a GitHub App made for
 * the execution `executionArn` (its `external_id`), at the repository's head, signed.
 */
function checkRunRerequested(repository: SampleRepository, secret: string, executionArn: string): Delivery {
  const payload = githubExample('check_run', (p) => p.action === 'rerequested');
  payload.check_run.external_id = executionArn;
  payload.check_run.head_sha = repository.head;
  payload.repository.full_name = repository.name;
  const body = JSON.stringify(payload);
  const id = randomUUID();
  return {
    id,
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/stepline-e2e',
      'x-github-event': 'check_run',
      'x-github-delivery': id,
      'x-github-hook-id': '1',
      'x-hub-signature-256': githubSignature(body, secret),
    },
  };
}

/** Whether an approval task's payload is for a run of this repository. */
function isFor(payload: unknown, repository: string): boolean {
  return (
    (payload as { request?: { repository?: { fullName?: string } } })?.request?.repository?.fullName === repository
  );
}

/**
 * The approver at work: opens the link the gate put in the environment's commit status, signs in with GitHub on the
 * way, and submits the decision. Answers every page seen.
 */
async function decide(
  repository: string,
  sha: string,
  environment: string,
  form: Record<string, string>,
): Promise<Page[]> {
  const link = status(world, repository, sha, `stepline/deploy/${environment}`)?.targetUrl;
  if (!link) throw new Error(`no approval link on ${repository}@${sha} for ${environment}`);
  const person = new Person();
  const page = await person.open(link);
  if (page.status !== 200) throw new Error(`the approval page answered ${page.status}: ${page.body.slice(0, 300)}`);
  const decided = await person.submit(page, form);
  if (decided.status !== 200) throw new Error(`the decision answered ${decided.status}: ${decided.body.slice(0, 300)}`);
  return person.visited;
}

describe('after every scenario', () => {
  it('StackCreationTest: a cluster still on the aws-auth ConfigMap fails the deploy, naming the command that fixes it', async () => {
    // Prepare: the same stack, deployed again where the cluster was created with CONFIG_MAP (EKS's default).
    const clusters = world.eks.clusterList;
    world.eks.setCluster({ name: 'stepline-e2e', authenticationMode: 'CONFIG_MAP' });

    // Act
    const created = world.createStack().then(
      () => null,
      (error: Error) => error,
    );

    // Assess
    const error = await created;
    for (const cluster of clusters) world.eks.setCluster(cluster);
    expect(error?.message).toMatch(/CREATE_FAILED EksDeployerAuthenticationModeCheck/);
    expect(error?.message).toContain('stepline-e2e');
    expect(error?.message).toContain('aws eks update-cluster-config');
    expect(error?.message).toContain('authenticationMode=API_AND_CONFIG_MAP');
  });

  it('leaves no deploy lock held', async () => {
    await world.settled();
    expect(await heldLocks(world)).toEqual([]);
  });

  it('makes no AWS call that the caller’s role does not allow, but those of the fork’s builds', () => {
    const unexpected = refusals(world).filter((line) => ![...expectedDenials].some((role) => line.includes(role)));
    expect(unexpected).toEqual([]);
  });
});
