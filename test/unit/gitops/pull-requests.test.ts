import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hostedConfigRepositories } from '../../../adapters/githost/gitops';
import { GitHubConfigRepository } from '../../../adapters/githost/gitops-github';
import { GitLabConfigRepository } from '../../../adapters/githost/gitops-gitlab';
import { HttpHostTransport } from '../../../adapters/githost/http';
import { gitHostSettings } from '../../../adapters/githost/settings';
import { StaticTokenSource } from '../../../adapters/githost/tokens';
import { LocalGitRepository } from '../../../adapters/local/gitops-git';
import type { GitOpsDelivery } from '../../../core/config/delivery';
import type { WatchedObject } from '../../../core/deploy/contracts';
import { deliver, type GitOpsPorts, revertDelivery } from '../../../core/gitops/service';
import { DIGEST_V1, DIGEST_V2, deployEvent, environment, REPOSITORY } from '../../local/kubernetes/support';
import { GitOpsHostStandIn } from '../../support/githost/gitops-host';
import { checkWith, gitopsPorts, syncedArgo } from './support';

const KUSTOMIZATION = 'resources:\n  - deployment.yaml\nimages:\n  - name: shop/api # the API\n    newTag: v1\n';
const TOKEN = 'ghp_standin_token_0123456789';

const delivery: GitOpsDelivery = {
  type: 'gitops',
  repository: { provider: 'github', name: 'acme/deploy' },
  branch: 'main',
  path: 'apps/shop',
  format: { type: 'kustomize', image: 'shop/api' },
  mode: 'pullRequest',
  controller: { kind: 'Application', name: 'shop-production' },
};
const env = environment({ delivery });

let dir: string;
let host: GitOpsHostStandIn;
let local: LocalGitRepository;
let ports: GitOpsPorts;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stepline-gitops-pr-'));
  const gitDir = join(dir, 'deploy.git');
  local = await LocalGitRepository.create(gitDir, 'main', { 'apps/shop/kustomization.yaml': KUSTOMIZATION });
  host = new GitOpsHostStandIn(gitDir, 'acme/deploy', TOKEN);
  await host.start();
  const transport = new HttpHostTransport({
    provider: 'github',
    baseUrl: host.url,
    credential: { scheme: 'bearer', token: TOKEN },
    retries: 0,
  });
  ports = gitopsPorts(new GitHubConfigRepository(transport, 'acme/deploy'));
});
afterEach(async () => {
  await host.stop();
  await rm(dir, { recursive: true, force: true });
});

const argo = syncedArgo(() => local);

const check = (watch: readonly WatchedObject[]) =>
  checkWith({ executionName: 'x', environment: env }, argo, ports.repository, watch);

describe('pullRequest mode against a GitHub stand-in on 127.0.0.1', () => {
  it('opens one pull request per change on its own branch, waits for the merge, then converges on the merge commit', async () => {
    const main = await local.head('main');

    // Act: two runs deliver to the same environment.
    const first = await deliver(deployEvent({ executionName: 'shop-main-1111111', environment: env }), ports);
    const second = await deliver(
      deployEvent({
        executionName: 'shop-main-2222222',
        environment: env,
        image: { repository: REPOSITORY, digest: DIGEST_V2 },
      }),
      ports,
    );

    // Assess: main untouched; two pull requests from two branches, never one branch for both.
    expect(await local.head('main')).toBe(main);
    expect(host.pulls.map((p) => [p.number, p.head, p.base, p.state])).toEqual([
      [1, 'stepline/production/shop-main-1111111', 'main', 'open'],
      [2, 'stepline/production/shop-main-2222222', 'main', 'open'],
    ]);
    expect(
      await local.readFile('refs/heads/stepline/production/shop-main-1111111', 'apps/shop/kustomization.yaml'),
    ).toBe(KUSTOMIZATION.replace('    newTag: v1\n', `    newName: ${REPOSITORY}\n    digest: ${DIGEST_V1}\n`));
    expect(host.pulls[0]?.title).toBe(`deploy(production): api shop/api:v1 → sha256:aaaaaaaaaaaa…`);
    expect(host.pulls[0]?.body).toContain('Run: https://stepline.example.test/runs/shop-main-1111111');
    expect(first.watch[0]?.gitops).toMatchObject({
      commit: null,
      pullRequest: { number: 1, head: 'stepline/production/shop-main-1111111' },
    });
    expect(host.requests.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);

    // An open pull request is waiting, whatever the cluster says.
    const waiting = await check(first.watch);
    expect(waiting.state).toBe('waiting');
    expect(waiting.reason).toBe('pull request #1 (https://github.example.test/acme/deploy/pull/1) waits to be merged');

    // Act: a reviewer merges #1.
    const merge = await host.merge(1);

    // Assess: the check now waits for the Application at the merge commit, which it is at.
    const done = await check(first.watch);
    expect(done.state).toBe('done');
    expect(done.reason).toBe('1 object(s) rolled out');
    expect(done.objects[0]?.reason).toBe(
      `Application "shop-production" is Synced and Healthy at ${merge.slice(0, 12)}`,
    );
    expect(second.watch[0]?.gitops?.pullRequest?.number).toBe(2);
  });

  it('reverts a merged change with a revert pull request, and closes an open one with a comment', async () => {
    await deliver(deployEvent({ executionName: 'shop-main-1111111', environment: env }), ports);
    await host.merge(1);
    await deliver(
      deployEvent({
        executionName: 'shop-main-2222222',
        environment: env,
        image: { repository: REPOSITORY, digest: DIGEST_V2 },
      }),
      ports,
    );
    const main = await local.head('main');

    // Act
    const reverted = await revertDelivery(
      { executionName: 'shop-main-1111111', environment: env, failedRevision: 0, reason: 'RolloutFailed: Degraded' },
      ports,
    );
    const closed = await revertDelivery(
      { executionName: 'shop-main-2222222', environment: env, failedRevision: 0, reason: 'RolloutFailed: timeout' },
      ports,
    );

    // Assess: #3 reverts #1 on its own branch, with the file back byte for byte; #2 is closed, not reverted.
    expect(await local.head('main')).toBe(main);
    expect(host.pulls.map((p) => [p.number, p.head, p.state])).toEqual([
      [1, 'stepline/production/shop-main-1111111', 'closed'],
      [2, 'stepline/production/shop-main-2222222', 'closed'],
      [3, 'stepline/production/shop-main-1111111-revert', 'open'],
    ]);
    expect(
      await local.readFile('refs/heads/stepline/production/shop-main-1111111-revert', 'apps/shop/kustomization.yaml'),
    ).toBe(KUSTOMIZATION);
    expect(host.pulls[2]?.title).toBe('Revert pull request #1');
    expect(host.pulls[2]?.body).toContain(
      `This reverts commit ${host.pulls[0]?.merge_commit_sha}: RolloutFailed: Degraded`,
    );
    expect(host.pulls[1]?.comments).toEqual([
      'Stepline closed this pull request: RolloutFailed: timeout. https://stepline.example.test/runs/shop-main-2222222',
    ]);
    expect(reverted.watch[0]?.gitops?.pullRequest?.number).toBe(3);
    expect(closed.watch).toEqual([]);
  });

  it('names the request and status when the host refuses, never the token', async () => {
    const transport = new HttpHostTransport({
      provider: 'github',
      baseUrl: host.url,
      credential: { scheme: 'bearer', token: 'wrong-token-value' },
      retries: 0,
    });
    const repository = new GitHubConfigRepository(transport, 'acme/deploy');
    const error = await deliver(deployEvent({ environment: env }), { ...ports, repository }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('GitOpsRepositoryFailed');
    expect((error as Error).message).toBe('github:acme/deploy: GET /pulls answered 401');
    expect((error as Error).message).not.toContain('wrong-token-value');
  });
});

describe('merge-request mode against a GitLab stand-in on 127.0.0.1', () => {
  it('opens a merge request per change with one commit of actions, converges on the merge, reverts with another', async () => {
    const transport = new HttpHostTransport({
      provider: 'gitlab',
      baseUrl: `${host.url}/api/v4`,
      credential: { scheme: 'private-token', token: TOKEN },
      retries: 0,
    });
    const gitlab: GitOpsPorts = { ...ports, repository: new GitLabConfigRepository(transport, 'acme/deploy') };
    const gitlabEnv = environment({
      delivery: { ...delivery, repository: { provider: 'gitlab', name: 'acme/deploy' } },
    });
    const main = await local.head('main');

    // Act
    const result = await deliver(deployEvent({ executionName: 'shop-main-1111111', environment: gitlabEnv }), gitlab);

    // Assess: main untouched, one merge request from its own branch, the file spliced there.
    expect(await local.head('main')).toBe(main);
    expect(host.pulls.map((p) => [p.number, p.head, p.base, p.state])).toEqual([
      [1, 'stepline/production/shop-main-1111111', 'main', 'open'],
    ]);
    expect(
      await local.readFile('refs/heads/stepline/production/shop-main-1111111', 'apps/shop/kustomization.yaml'),
    ).toBe(KUSTOMIZATION.replace('    newTag: v1\n', `    newName: ${REPOSITORY}\n    digest: ${DIGEST_V1}\n`));
    expect(result.watch[0]?.gitops?.pullRequest?.url).toBe(
      'https://gitlab.example.test/acme/deploy/-/merge_requests/1',
    );
    const merge = await host.merge(1);
    const check = await checkWith(
      { executionName: 'x', environment: gitlabEnv },
      argo,
      gitlab.repository,
      result.watch,
    );
    expect(check.objects[0]?.reason).toBe(
      `Application "shop-production" is Synced and Healthy at ${merge.slice(0, 12)}`,
    );

    const reverted = await revertDelivery(
      {
        executionName: 'shop-main-1111111',
        environment: gitlabEnv,
        failedRevision: 0,
        reason: 'RolloutFailed: Degraded',
      },
      gitlab,
    );
    expect(reverted.watch[0]?.gitops?.pullRequest?.number).toBe(2);
    expect(
      await local.readFile('refs/heads/stepline/production/shop-main-1111111-revert', 'apps/shop/kustomization.yaml'),
    ).toBe(KUSTOMIZATION);
  });

  it('commit mode: a file changed since it was read is a conflict that GitLab refuses, and the delivery reads again', async () => {
    const transport = new HttpHostTransport({
      provider: 'gitlab',
      baseUrl: `${host.url}/api/v4`,
      credential: { scheme: 'private-token', token: TOKEN },
      retries: 0,
    });
    const repository = new GitLabConfigRepository(transport, 'acme/deploy');
    const parent = await local.head('main');
    // Someone else changes the file after Stepline read main at `parent`.
    await local.commit({
      branch: 'main',
      parent,
      files: [{ path: 'apps/shop/kustomization.yaml', content: `${KUSTOMIZATION}# edited\n` }],
      message: 'edit',
    });
    await expect(
      repository.commit({
        branch: 'main',
        parent,
        files: [{ path: 'apps/shop/kustomization.yaml', content: 'x: 1\n' }],
        message: 'stale',
      }),
    ).rejects.toThrow(/gitlab:acme\/deploy: main changed while Stepline wrote to it/);

    const gitlabEnv = environment({
      delivery: { ...delivery, mode: 'commit', repository: { provider: 'gitlab', name: 'acme/deploy' } },
    });
    const result = await deliver(deployEvent({ environment: gitlabEnv }), { ...ports, repository });
    const commit = result.watch[0]?.gitops?.commit ?? '';
    expect(await local.head('main')).toBe(commit);
    expect(await local.readFile(commit, 'apps/shop/kustomization.yaml')).toBe(
      `${KUSTOMIZATION.replace('    newTag: v1\n', `    newName: ${REPOSITORY}\n    digest: ${DIGEST_V1}\n`)}# edited\n`,
    );
  });
});

describe('configuration repositories on the Git hosts, with the status settings and tokens', () => {
  it('opens GitHub and GitLab repositories at the configured base URLs, none for another provider, and says when a token is missing', async () => {
    const settings = gitHostSettings({ baseUrls: { github: host.url, gitlab: `${host.url}/api/v4` } });
    const open = hostedConfigRepositories(settings, new StaticTokenSource({ github: TOKEN, gitlab: TOKEN }));
    expect(await open('github', 'acme/deploy')?.head('main')).toBe(await local.head('main'));
    expect(await open('gitlab', 'acme/deploy')?.head('main')).toBe(await local.head('main'));
    expect(open('gitea', 'acme/deploy')).toBeNull();
    const none = hostedConfigRepositories(settings, new StaticTokenSource({}));
    await expect(none('github', 'acme/deploy')?.head('main')).rejects.toThrow(
      'No github credential: acme/deploy cannot be written',
    );
  });
});
