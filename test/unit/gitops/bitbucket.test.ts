import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hostedConfigRepositories } from '../../../adapters/githost/gitops';
import { BitbucketConfigRepository } from '../../../adapters/githost/gitops-bitbucket';
import { HttpHostTransport } from '../../../adapters/githost/http';
import { gitHostSettings } from '../../../adapters/githost/settings';
import { StaticTokenSource } from '../../../adapters/githost/tokens';
import { LocalGitRepository } from '../../../adapters/local/gitops-git';
import type { GitOpsDelivery } from '../../../core/config/delivery';
import type { WatchedObject } from '../../../core/deploy/contracts';
import { deliver, type GitOpsPorts, revertDelivery } from '../../../core/gitops/service';
import { DIGEST_V1, DIGEST_V2, deployEvent, environment, REPOSITORY } from '../../local/kubernetes/support';
import { BitbucketStandIn } from './bitbucket-host';
import { checkWith, gitopsPorts, syncedArgo } from './support';

const TOKEN = 'bbat_standin_token_0123456789';
const PATH = 'apps/shop/kustomization.yaml';
// Longer than the 500 characters the shared transport keeps of a body that is not JSON; CRLF, comments, non-ASCII,
// and the characters form encoding gives a meaning to (+ & = %).
const NOTES = Array.from({ length: 12 }, (_, i) => `# note ${i}: the shop's API — déploiement a+b=c&d %41\r\n`);
const KUSTOMIZATION = `${NOTES.join('')}resources:\r\n  - deployment.yaml\r\nimages:\r\n  - name: shop/api # the API\r\n    newTag: v1\r\n`;
const DELIVERED = (digest: string) =>
  KUSTOMIZATION.replace('    newTag: v1\r\n', `    newName: ${REPOSITORY}\r\n    digest: ${digest}\r\n`);

const delivery: GitOpsDelivery = {
  type: 'gitops',
  repository: { provider: 'bitbucket', name: 'acme/deploy' },
  branch: 'main',
  path: 'apps/shop',
  format: { type: 'kustomize', image: 'shop/api' },
  mode: 'commit',
  controller: { kind: 'Application', name: 'shop-production' },
};
const env = environment({ delivery });
const prEnv = environment({ delivery: { ...delivery, mode: 'pullRequest' } });

let dir: string;
let host: BitbucketStandIn;
let local: LocalGitRepository;
let ports: GitOpsPorts;
let logged: { message: string; attributes: Record<string, unknown> }[];

function bitbucket(token = TOKEN): BitbucketConfigRepository {
  const transport = new HttpHostTransport({
    provider: 'bitbucket',
    baseUrl: host.url,
    credential: { scheme: 'bearer', token },
    retries: 1,
    sleep: async () => {},
    log: { warn: (message, attributes) => logged.push({ message, attributes }) },
  });
  return new BitbucketConfigRepository(transport, 'acme/deploy');
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stepline-gitops-bitbucket-'));
  const gitDir = join(dir, 'deploy.git');
  local = await LocalGitRepository.create(gitDir, 'main', {
    [PATH]: KUSTOMIZATION,
    'apps/shop/deployment.yaml': 'kind: Deployment\n',
    'apps/shop/overlays/a.yaml': 'a: 1\n',
    'apps/shop/overlays/b.yaml': 'b: 1\n',
    'apps/shop/overlays/deep/c.yaml': 'c: 1\n',
  });
  host = new BitbucketStandIn(gitDir, 'acme/deploy', TOKEN);
  await host.start();
  logged = [];
  ports = gitopsPorts(bitbucket());
});
afterEach(async () => {
  await host.stop();
  await rm(dir, { recursive: true, force: true });
});

const argo = syncedArgo(() => local);

const check = (watch: readonly WatchedObject[]) =>
  checkWith({ executionName: 'x', environment: prEnv }, argo, ports.repository, watch);

const posts = () => host.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/src'));

describe('a configuration repository on a Bitbucket Cloud stand-in on 127.0.0.1', () => {
  it('reads a file longer than 500 characters whole, where the JSON transport keeps 500, and a folder page by page', async () => {
    // Prepare
    host.pageSize = 2;
    const main = await local.head('main');
    const plain = new HttpHostTransport({
      provider: 'bitbucket',
      baseUrl: host.url,
      credential: { scheme: 'bearer', token: TOKEN },
    });

    // Act
    const read = await ports.repository.readFile(main, PATH);
    const cut = await plain.send({ method: 'GET', path: `/repositories/acme/deploy/src/${main}/${PATH}` });
    const files = await ports.repository.listFiles(main, 'apps/shop/overlays');

    // Assess
    expect(KUSTOMIZATION.length).toBeGreaterThan(500);
    expect(read).toBe(KUSTOMIZATION);
    expect(cut).toEqual({ status: 200, body: KUSTOMIZATION.slice(0, 500) });
    expect(await ports.repository.readFile('main', PATH)).toBe(KUSTOMIZATION);
    expect(await ports.repository.readFile(main, 'apps/shop/missing.yaml')).toBeNull();
    expect(await ports.repository.readFile(main, 'apps/shop/overlays')).toBeNull();
    expect(files).toEqual(['apps/shop/overlays/a.yaml', 'apps/shop/overlays/b.yaml', 'apps/shop/overlays/deep/c.yaml']);
  });

  it('never passes a branch name to src/{commit}: a branch named like a commit id is read at its own tip', async () => {
    // Prepare: a branch whose name abbreviates main's commit (Bitbucket would take it for that commit), with other content.
    const main = await local.head('main');
    const named = main.slice(0, 10);
    const tip = await local.commit({
      branch: named,
      parent: main,
      files: [
        { path: PATH, content: 'images: []\n' },
        { path: 'apps/shop/overlays/e.yaml', content: 'e: 1\n' },
      ],
      message: 'a branch named like a commit',
      createBranch: true,
    });

    // Act
    const read = await ports.repository.readFile(named, PATH);
    const files = await ports.repository.listFiles(named, 'apps/shop/overlays');

    // Assess: the branch's content, read at its tip; the commit id it looks like is never in a src path.
    expect(read).toBe('images: []\n');
    expect(files).toContain('apps/shop/overlays/e.yaml');
    const srcPaths = host.requests.filter((r) => r.path.includes('/src/')).map((r) => r.path.split('/')[6]);
    expect(srcPaths.length).toBeGreaterThan(0);
    expect(new Set(srcPaths)).toEqual(new Set([tip]));
    expect(await ports.repository.readFile(main.slice(0, 9), PATH)).toBe(KUSTOMIZATION);
  });

  it('commits the write byte for byte in one form-encoded POST /src with parents, and finds it again on a retried invocation', async () => {
    const before = await local.head('main');

    // Act: the invocation, then the same invocation again (a Lambda retry).
    const result = await deliver(deployEvent({ executionName: 'shop-main-1111111', environment: env }), ports);
    const again = await deliver(deployEvent({ executionName: 'shop-main-1111111', environment: env }), ports);

    // Assess: one commit on main, its parent the head read, the file spliced and nothing else changed.
    const commit = result.watch[0]?.gitops?.commit ?? '';
    expect(await local.head('main')).toBe(commit);
    expect(await local.firstParent(commit)).toBe(before);
    expect(await local.readFile(commit, PATH)).toBe(DELIVERED(DIGEST_V1));
    expect(await local.readFile(commit, 'apps/shop/deployment.yaml')).toBe('kind: Deployment\n');
    expect(again.watch[0]?.gitops?.commit).toBe(commit);
    expect(posts()).toHaveLength(1);
    expect(posts()[0]?.contentType).toBe('application/x-www-form-urlencoded');
    expect(host.requests.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
    const message = await local.findCommit('main', { 'Stepline-Execution': 'shop-main-1111111' });
    expect(message?.sha).toBe(commit);
  });

  it('finds the new commit on the branch when Bitbucket answers no Location', async () => {
    host.location = false;
    const result = await deliver(deployEvent({ environment: env }), ports);
    expect(result.watch[0]?.gitops?.commit).toBe(await local.head('main'));
  });

  it('a branch moved between the read and the write: Bitbucket answers 409, the delivery reads again and writes on top', async () => {
    // Prepare: someone pushes to main after Stepline read it, before its POST /src arrives.
    let theirs = '';
    host.beforeNextCommit = async () => {
      theirs = await local.commit({
        branch: 'main',
        parent: await local.head('main'),
        files: [{ path: PATH, content: `${KUSTOMIZATION}# edited by hand\r\n` }],
        message: 'edit by hand',
      });
    };

    // Act
    const result = await deliver(deployEvent({ environment: env }), ports);

    // Assess: two writes, the first refused; the second on top of the other push, keeping its change.
    const commit = result.watch[0]?.gitops?.commit ?? '';
    expect(posts()).toHaveLength(2);
    expect(await local.firstParent(commit)).toBe(theirs);
    expect(await local.readFile(commit, PATH)).toBe(`${DELIVERED(DIGEST_V1)}# edited by hand\r\n`);
    await expect(
      ports.repository.commit({
        branch: 'main',
        parent: theirs,
        files: [{ path: PATH, content: 'x\n' }],
        message: 'm',
      }),
    ).rejects.toThrow('bitbucket:acme/deploy: main moved while Stepline wrote to it');
  });

  it('reverts its commit: the file back byte for byte, in a revert commit that names the one it reverts', async () => {
    const result = await deliver(deployEvent({ executionName: 'shop-main-1111111', environment: env }), ports);
    const written = result.watch[0]?.gitops?.commit ?? '';

    // Act
    const reverted = await revertDelivery(
      { executionName: 'shop-main-1111111', environment: env, failedRevision: 0, reason: 'RolloutFailed: Degraded' },
      ports,
    );

    // Assess
    const head = await local.head('main');
    expect(reverted.commit).toBe(head);
    expect(await local.firstParent(head)).toBe(written);
    expect(await local.readFile(head, PATH)).toBe(KUSTOMIZATION);
    const found = await local.findCommit('main', { 'Stepline-Action': 'revert' });
    expect(found?.sha).toBe(head);
    expect(reverted.watch[0]?.gitops?.commit).toBe(head);
  });

  it('deletes on revert a file its write created, with a files=/path field and no field of that name', async () => {
    // Prepare: Argo CD's parameter override file does not exist yet; the write creates it.
    const argoEnv = environment({ delivery: { ...delivery, format: { type: 'argocdSource', image: 'shop/api' } } });
    const created = 'apps/shop/.argocd-source-shop-production.yaml';
    const result = await deliver(deployEvent({ executionName: 'shop-main-1111111', environment: argoEnv }), ports);
    expect(await local.readFile(result.watch[0]?.gitops?.commit ?? '', created)).toContain(`@${DIGEST_V1}`);

    // Act
    await revertDelivery(
      { executionName: 'shop-main-1111111', environment: argoEnv, failedRevision: 0, reason: 'RolloutFailed' },
      ports,
    );

    // Assess
    expect(await local.readFile('main', created)).toBeNull();
    expect(await local.readFile('main', PATH)).toBe(KUSTOMIZATION);
    expect(posts()).toHaveLength(2);
  });

  it('opens a pull request per change, converges on its merge commit read whole, reverts it with another, declines an open one', async () => {
    const main = await local.head('main');

    // Act: run 1 opens #1.
    const first = await deliver(deployEvent({ executionName: 'shop-main-1111111', environment: prEnv }), ports);

    // Assess: main untouched, the change on its own branch, an open pull request is waiting.
    expect(await local.head('main')).toBe(main);
    expect(host.pulls.map((p) => [p.id, p.source, p.destination, p.state])).toEqual([
      [1, 'stepline/production/shop-main-1111111', 'main', 'OPEN'],
    ]);
    expect(await local.readFile('refs/heads/stepline/production/shop-main-1111111', PATH)).toBe(DELIVERED(DIGEST_V1));
    expect(host.pulls[0]?.description).toContain('Run: https://stepline.example.test/runs/shop-main-1111111');
    expect(first.watch[0]?.gitops?.pullRequest).toEqual({
      number: 1,
      url: 'https://bitbucket.example.test/acme/deploy/pull-requests/1',
      head: 'stepline/production/shop-main-1111111',
    });
    expect((await check(first.watch)).reason).toBe(
      'pull request #1 (https://bitbucket.example.test/acme/deploy/pull-requests/1) waits to be merged',
    );

    // Act: a reviewer merges #1 (the pull request names its merge commit in 12 digits).
    const merge = await host.merge(1);
    const done = await check(first.watch);

    // Assess: the check waits for the Application at the whole merge commit, which it is at.
    expect(done.state).toBe('done');
    expect(done.objects[0]?.reason).toBe(
      `Application "shop-production" is Synced and Healthy at ${merge.slice(0, 12)}`,
    );

    // Act: run 2 opens #2; then run 1 fails (a revert pull request #3) and run 2 fails (#2 declined).
    await deliver(
      deployEvent({
        executionName: 'shop-main-2222222',
        environment: prEnv,
        image: { repository: REPOSITORY, digest: DIGEST_V2 },
      }),
      ports,
    );
    const reverted = await revertDelivery(
      { executionName: 'shop-main-1111111', environment: prEnv, failedRevision: 0, reason: 'RolloutFailed: Degraded' },
      ports,
    );
    const declined = await revertDelivery(
      { executionName: 'shop-main-2222222', environment: prEnv, failedRevision: 0, reason: 'RolloutFailed: timeout' },
      ports,
    );

    // Assess
    expect(host.pulls.map((p) => [p.id, p.source, p.state])).toEqual([
      [1, 'stepline/production/shop-main-1111111', 'MERGED'],
      [2, 'stepline/production/shop-main-2222222', 'DECLINED'],
      [3, 'stepline/production/shop-main-1111111-revert', 'OPEN'],
    ]);
    expect(await local.readFile('refs/heads/stepline/production/shop-main-1111111-revert', PATH)).toBe(KUSTOMIZATION);
    expect(host.pulls[2]?.description).toContain(`This reverts commit ${merge}: RolloutFailed: Degraded`);
    expect(host.pulls[1]?.comments).toEqual([
      'Stepline closed this pull request: RolloutFailed: timeout. https://stepline.example.test/runs/shop-main-2222222',
    ]);
    expect(reverted.watch[0]?.gitops?.pullRequest?.number).toBe(3);
    expect(declined.watch).toEqual([]);
  });

  it('names the request and status when Bitbucket refuses, and logs a retry without the token or the file', async () => {
    const refused = await deliver(deployEvent({ environment: env }), {
      ...ports,
      repository: bitbucket('wrong-token-value'),
    }).catch((e: Error) => e);
    expect((refused as Error).name).toBe('GitOpsRepositoryFailed');
    expect((refused as Error).message).toBe('bitbucket:acme/deploy: GET /commits answered 401');
    expect((refused as Error).message).not.toContain('wrong-token-value');

    // Act: Bitbucket answers 503 once to the write; the transport tries again.
    host.failNextCommit = 503;
    const result = await deliver(deployEvent({ environment: env }), ports);

    // Assess
    expect(await local.readFile(result.watch[0]?.gitops?.commit ?? '', PATH)).toBe(DELIVERED(DIGEST_V1));
    expect(logged.map((l) => [l.message, l.attributes['path'], l.attributes['reason']])).toEqual([
      ['git host request will be retried', '/repositories/acme/deploy/src', 'HTTP 503'],
    ]);
    const text = JSON.stringify(logged);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain('newTag');
  });

  it('is opened with the status settings and tokens, at the configured base URL', async () => {
    const settings = gitHostSettings({ baseUrls: { bitbucket: host.url } });
    const open = hostedConfigRepositories(settings, new StaticTokenSource({ bitbucket: TOKEN }));
    expect(open('bitbucket', 'acme/deploy')?.label).toBe('bitbucket:acme/deploy');
    expect(await open('bitbucket', 'acme/deploy')?.head('main')).toBe(await local.head('main'));
    const none = hostedConfigRepositories(settings, new StaticTokenSource({}));
    await expect(none('bitbucket', 'acme/deploy')?.head('main')).rejects.toThrow(
      'No bitbucket credential: acme/deploy cannot be written',
    );
  });
});
