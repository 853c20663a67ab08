import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BitbucketConfigRepository } from '../../../adapters/githost/gitops-bitbucket';
import { GitHubConfigRepository } from '../../../adapters/githost/gitops-github';
import { GitLabConfigRepository } from '../../../adapters/githost/gitops-gitlab';
import { HttpHostTransport } from '../../../adapters/githost/http';
import { LocalGitRepository } from '../../../adapters/local/gitops-git';
import type { GitOpsDelivery } from '../../../core/config/delivery';
import type { CommitRequest, ConfigRepository } from '../../../core/gitops/ports';
import { deliver, type GitOpsPorts } from '../../../core/gitops/service';
import { DIGEST_V1, deployEvent, environment, REPOSITORY } from '../../local/kubernetes/support';
import { GitOpsHostStandIn } from '../../support/githost/gitops-host';
import { BitbucketStandIn } from './bitbucket-host';
import { gitopsPorts } from './support';

/**
 * pullRequest mode, ADR 0111: an invocation of Deploy that dies (a Lambda timeout, a crash) after making its pull
 * request's branch but before opening the pull request is run again (the workflow's retry, or a redrive). The next
 * invocation adopts the branch when its tip is this run's write, and refuses a branch of that name that is not.
 * The same for GitHub, GitLab and Bitbucket Cloud, each against its stand-in on 127.0.0.1 over one bare repository.
 */

const TOKEN = 'standin_token_0123456789';
const PATH = 'apps/shop/kustomization.yaml';
const KUSTOMIZATION = 'resources:\n  - deployment.yaml\nimages:\n  - name: shop/api\n    newTag: v1\n';
const DELIVERED = KUSTOMIZATION.replace('    newTag: v1\n', `    newName: ${REPOSITORY}\n    digest: ${DIGEST_V1}\n`);
const RUN = 'shop-main-1111111';
const BRANCH = `stepline/production/${RUN}`;
const TRAILERS = `Stepline-Execution: ${RUN}, Stepline-Environment: production, Stepline-Action: deliver`;

interface Host {
  readonly repository: ConfigRepository;
  /** The pull requests, as [number, source branch, open|merged|closed]. */
  pulls(): [number, string, string][];
  decline(number: number): void;
  stop(): Promise<void>;
}

const transport = (provider: 'github' | 'gitlab' | 'bitbucket', baseUrl: string, scheme: 'bearer' | 'private-token') =>
  new HttpHostTransport({ provider, baseUrl, credential: { scheme, token: TOKEN }, retries: 0 });

const HOSTS: Record<'github' | 'gitlab' | 'bitbucket', (gitDir: string) => Promise<Host>> = {
  github: async (gitDir) => {
    const host = new GitOpsHostStandIn(gitDir, 'acme/deploy', TOKEN);
    await host.start();
    return {
      repository: new GitHubConfigRepository(transport('github', host.url, 'bearer'), 'acme/deploy'),
      pulls: () => host.pulls.map((p) => [p.number, p.head, p.merged_at ? 'merged' : p.state]),
      decline: (n) => Object.assign(host.pulls[n - 1] ?? {}, { state: 'closed' }),
      stop: () => host.stop(),
    };
  },
  gitlab: async (gitDir) => {
    const host = new GitOpsHostStandIn(gitDir, 'acme/deploy', TOKEN);
    await host.start();
    return {
      repository: new GitLabConfigRepository(transport('gitlab', `${host.url}/api/v4`, 'private-token'), 'acme/deploy'),
      pulls: () => host.pulls.map((p) => [p.number, p.head, p.merged_at ? 'merged' : p.state]),
      decline: (n) => Object.assign(host.pulls[n - 1] ?? {}, { state: 'closed' }),
      stop: () => host.stop(),
    };
  },
  bitbucket: async (gitDir) => {
    const host = new BitbucketStandIn(gitDir, 'acme/deploy', TOKEN);
    await host.start();
    const states = { OPEN: 'open', MERGED: 'merged', DECLINED: 'closed' } as const;
    return {
      repository: new BitbucketConfigRepository(transport('bitbucket', host.url, 'bearer'), 'acme/deploy'),
      pulls: () => host.pulls.map((p) => [p.id, p.source, states[p.state]]),
      decline: (n) => Object.assign(host.pulls[n - 1] ?? {}, { state: 'DECLINED' }),
      stop: () => host.stop(),
    };
  },
};

/** The repository as an invocation sees it that dies (times out) when it is about to open the pull request. */
function diesBeforeOpening(repository: ConfigRepository): ConfigRepository {
  return Object.assign(Object.create(repository) as ConfigRepository, {
    openPullRequest: () => Promise.reject(new Error('Task timed out after 30.00 seconds')),
  });
}

describe.each(['github', 'gitlab', 'bitbucket'] as const)(
  'pullRequest mode on %s: a retry after the invocation died',
  (provider) => {
    const delivery: GitOpsDelivery = {
      type: 'gitops',
      repository: { provider, name: 'acme/deploy' },
      branch: 'main',
      path: 'apps/shop',
      format: { type: 'kustomize', image: 'shop/api' },
      mode: 'pullRequest',
      controller: { kind: 'Application', name: 'shop-production' },
    };
    const env = environment({ delivery });
    let dir: string;
    let gitDir: string;
    let local: LocalGitRepository;
    let host: Host;
    let ports: GitOpsPorts;

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'stepline-gitops-retry-'));
      gitDir = join(dir, 'deploy.git');
      local = await LocalGitRepository.create(gitDir, 'main', { [PATH]: KUSTOMIZATION });
      host = await HOSTS[provider](gitDir);
      ports = gitopsPorts(host.repository);
    });
    afterEach(async () => {
      await host.stop();
      await rm(dir, { recursive: true, force: true });
    });

    const run = (repository = host.repository) =>
      deliver(deployEvent({ executionName: RUN, environment: env }), { ...ports, repository });

    it('opens exactly one pull request, from the branch the dead invocation made, and writes nothing again', async () => {
      // Prepare: the first invocation commits its branch and dies before opening the pull request.
      await expect(run(diesBeforeOpening(host.repository))).rejects.toThrow('Task timed out');
      const written = await local.head(BRANCH);
      expect(host.pulls()).toEqual([]);

      // Act: the workflow runs Deploy again; then once more after the pull request is open.
      const retried = await run();
      const again = await run();

      // Assess: one pull request from that branch, the branch as the dead invocation left it.
      expect(host.pulls()).toEqual([[1, BRANCH, 'open']]);
      expect(await local.head(BRANCH)).toBe(written);
      expect(await local.readFile(written, PATH)).toBe(DELIVERED);
      expect(retried.changed).toBe(1);
      expect(retried.watch[0]?.gitops).toMatchObject({ commit: null, files: [PATH], pullRequest: { number: 1 } });
      expect(again.watch[0]?.gitops?.pullRequest?.number).toBe(1);
    });

    it('adopts the branch of a later attempt too: a redrive after a decline that died before opening its pull request', async () => {
      await run();
      host.decline(1);
      await expect(run(diesBeforeOpening(host.repository))).rejects.toThrow('Task timed out');
      const written = await local.head(`${BRANCH}-attempt-2`);

      const retried = await run();

      expect(host.pulls()).toEqual([
        [1, BRANCH, 'closed'],
        [2, `${BRANCH}-attempt-2`, 'open'],
      ]);
      expect(await local.head(`${BRANCH}-attempt-2`)).toBe(written);
      expect(retried.watch[0]?.gitops?.pullRequest?.number).toBe(2);
    });

    it('adopts the branch another invocation of the run made between the look-up and the commit', async () => {
      // Prepare: the timed-out invocation, still running, commits the branch just before this one's commit arrives.
      const racing = Object.assign(Object.create(host.repository) as ConfigRepository, {
        commit: async (request: CommitRequest) => {
          await expect(run(diesBeforeOpening(host.repository))).rejects.toThrow('Task timed out');
          return host.repository.commit(request);
        },
      });

      // Act
      const result = await run(racing);

      // Assess: this invocation's own commit was refused; it opened the pull request from the other's branch.
      expect(host.pulls()).toEqual([[1, BRANCH, 'open']]);
      expect(result.watch[0]?.gitops?.pullRequest?.number).toBe(1);
      expect(await local.firstParent(await local.head(BRANCH))).toBe(await local.head('main'));
    });

    it("refuses a branch of that name that is not this run's write, naming the branch and what is on it", async () => {
      // Prepare: someone else's branch has the name this run would take.
      const theirs = await local.commit({
        branch: BRANCH,
        parent: await local.head('main'),
        files: [{ path: PATH, content: `${KUSTOMIZATION}# theirs\n` }],
        message: "someone else's change\n\nStepline-Execution: another-run",
        createBranch: true,
      });

      // Act
      const error = await run().catch((e: Error) => e);

      // Assess
      expect((error as Error).name).toBe('GitOpsConflict');
      expect((error as Error).message).toBe(
        `${provider}:acme/deploy: ${BRANCH} already exists and its head ${theirs.slice(0, 12)} ("someone else's change") ` +
          `is not this run's write: no ${TRAILERS}; Stepline opens no pull request from it (delete or rename the branch to deliver)`,
      );
      expect(host.pulls()).toEqual([]);
      expect(await local.head(BRANCH)).toBe(theirs);
    });

    it("refuses this run's write moved off the base branch, and its branch with another commit on top", async () => {
      // Prepare: the dead invocation's commit, rewritten on top of a commit main does not have.
      await expect(run(diesBeforeOpening(host.repository))).rejects.toThrow('Task timed out');
      const written = await local.head(BRANCH);
      const git = (...args: string[]) =>
        execFileSync('git', ['--git-dir', gitDir, ...args], { encoding: 'utf8' }).trim();
      const side = git('commit-tree', `${await local.head('main')}^{tree}`, '-p', 'main', '-m', 'not on main');
      const moved = git('commit-tree', `${written}^{tree}`, '-p', side, '-m', git('log', '-1', '--format=%B', written));
      git('update-ref', `refs/heads/${BRANCH}`, moved, written);

      const offBase = await run().catch((e: Error) => e);

      expect((offBase as Error).message).toBe(
        `${provider}:acme/deploy: ${BRANCH} already exists and its head ${moved.slice(0, 12)} is not one commit on top ` +
          'of a commit of main; Stepline opens no pull request from it (delete or rename the branch to deliver)',
      );

      // Prepare: back to the run's write, with someone's commit on top.
      const onTop = git('commit-tree', `${written}^{tree}`, '-p', written, '-m', 'a change on top');
      git('update-ref', `refs/heads/${BRANCH}`, onTop, moved);

      const changed = await run().catch((e: Error) => e);

      expect((changed as Error).name).toBe('GitOpsConflict');
      expect((changed as Error).message).toContain(
        `its head ${onTop.slice(0, 12)} ("a change on top") is not this run's`,
      );
      expect(host.pulls()).toEqual([]);
    });
  },
);
