import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BitbucketConfigRepository } from '../../../adapters/githost/gitops-bitbucket';
import { HttpHostTransport } from '../../../adapters/githost/http';
import { LocalGitRepository } from '../../../adapters/local/gitops-git';
import type { GitOpsDelivery } from '../../../core/config/delivery';
import type { WatchedObject } from '../../../core/deploy/contracts';
import { deliver, type GitOpsPorts, revertDelivery } from '../../../core/gitops/service';
import { DIGEST_V1, deployEvent, environment, REPOSITORY } from '../../local/kubernetes/support';
import { BitbucketStandIn } from './bitbucket-host';
import { checkWith, gitopsPorts, syncedArgo } from './support';

const TOKEN = 'bbat_standin_token_0123456789';
const PATH = 'apps/shop/kustomization.yaml';
const KUSTOMIZATION = 'resources:\n  - deployment.yaml\nimages:\n  - name: shop/api\n    newTag: v1\n';
const DELIVERED = KUSTOMIZATION.replace('    newTag: v1\n', `    newName: ${REPOSITORY}\n    digest: ${DIGEST_V1}\n`);
const RUN = 'shop-main-1111111';
const BRANCH = `stepline/production/${RUN}`;

const delivery: GitOpsDelivery = {
  type: 'gitops',
  repository: { provider: 'bitbucket', name: 'acme/deploy' },
  branch: 'main',
  path: 'apps/shop',
  format: { type: 'kustomize', image: 'shop/api' },
  mode: 'pullRequest',
  controller: { kind: 'Application', name: 'shop-production' },
};
const env = environment({ delivery });

let dir: string;
let host: BitbucketStandIn;
let local: LocalGitRepository;
let ports: GitOpsPorts;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stepline-gitops-redrive-'));
  const gitDir = join(dir, 'deploy.git');
  local = await LocalGitRepository.create(gitDir, 'main', { [PATH]: KUSTOMIZATION });
  host = new BitbucketStandIn(gitDir, 'acme/deploy', TOKEN);
  await host.start();
  const transport = new HttpHostTransport({
    provider: 'bitbucket',
    baseUrl: host.url,
    credential: { scheme: 'bearer', token: TOKEN },
    retries: 0,
  });
  ports = gitopsPorts(new BitbucketConfigRepository(transport, 'acme/deploy'));
});
afterEach(async () => {
  await host.stop();
  await rm(dir, { recursive: true, force: true });
});

const argo = syncedArgo(() => local);

const check = (watch: readonly WatchedObject[]) =>
  checkWith({ executionName: RUN, environment: env }, argo, ports.repository, watch);
const run = () => deliver(deployEvent({ executionName: RUN, environment: env }), ports);
const fail = (reason: string) =>
  revertDelivery({ executionName: RUN, environment: env, failedRevision: 0, reason }, ports);

describe('pullRequest mode: a run redriven after its pull request ended', () => {
  it('opens a new pull request on a new branch after a decline, never reopening or adding to the closed one', async () => {
    // Prepare: the run opens #1; a reviewer declines it; the check fails and the rollback has nothing to undo.
    const opened = await run();
    const declinedHead = await local.head(BRANCH);
    Object.assign(host.pulls[0] ?? {}, { state: 'DECLINED' });
    expect((await check(opened.watch)).reason).toBe(
      'pull request #1 (https://bitbucket.example.test/acme/deploy/pull-requests/1) was closed without merging',
    );
    expect((await fail('RolloutFailed: closed')).watch).toEqual([]);

    // Act: the run is redriven (Deploy runs again with the same execution name), then that invocation is retried.
    const redriven = await run();
    const retried = await run();

    // Assess: #2 from its own branch with the change; #1 and its branch as they were; the retry opened nothing.
    expect(host.pulls.map((p) => [p.id, p.source, p.state])).toEqual([
      [1, BRANCH, 'DECLINED'],
      [2, `${BRANCH}-attempt-2`, 'OPEN'],
    ]);
    expect(await local.head(BRANCH)).toBe(declinedHead);
    expect(await local.readFile(`refs/heads/${BRANCH}-attempt-2`, PATH)).toBe(DELIVERED);
    expect(host.pulls[1]?.description).toContain(
      "This run's pull request #1 (https://bitbucket.example.test/acme/deploy/pull-requests/1) ended unmerged.",
    );
    expect(redriven.watch[0]?.gitops?.pullRequest).toMatchObject({ number: 2, head: `${BRANCH}-attempt-2` });
    expect(retried.watch[0]?.gitops?.pullRequest?.number).toBe(2);
    expect((await check(redriven.watch)).state).toBe('waiting');
    await host.merge(2);
    expect((await check(redriven.watch)).state).toBe('done');
  });

  it('after a merged change was reverted by a merged revert, a redrive delivers again in a third pull request', async () => {
    // Prepare: #1 merged, the rollout fails, the revert #2 is merged.
    await run();
    await host.merge(1);
    const reverted = await fail('RolloutFailed: Degraded');
    expect(reverted.watch[0]?.gitops?.pullRequest).toMatchObject({ number: 2, head: `${BRANCH}-revert` });
    await host.merge(2);
    expect(await local.readFile('main', PATH)).toBe(KUSTOMIZATION);

    // Act
    const redriven = await run();

    // Assess: a new attempt carries the change again; its own failure would revert on its own branch.
    expect(host.pulls.map((p) => [p.id, p.source, p.state])).toEqual([
      [1, BRANCH, 'MERGED'],
      [2, `${BRANCH}-revert`, 'MERGED'],
      [3, `${BRANCH}-attempt-2`, 'OPEN'],
    ]);
    expect(redriven.watch[0]?.gitops?.pullRequest?.number).toBe(3);
    await host.merge(3);
    const again = await fail('RolloutFailed: Degraded');
    expect(again.watch[0]?.gitops?.pullRequest).toMatchObject({ number: 4, head: `${BRANCH}-attempt-2-revert` });
  });
});
