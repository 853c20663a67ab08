import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SampleRepository } from '../../../local/demo/repository';
import { type Delivery, githubSignature } from '../../../local/demo/webhook';
import { githubExample } from '../../unit/intake/support';

/**
 * GitHub deliveries the suite sends besides pushes (local/demo/webhook.ts): a pull request opened from a fork. Its
 * head commit is made in the repository on no branch, reachable only through `refs/pull/<n>/head`, as GitHub keeps
 * a fork's commits in the base repository.
 */

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd: dir,
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: dir,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: 'Fork Author',
      GIT_AUTHOR_EMAIL: 'fork@example.invalid',
      GIT_COMMITTER_NAME: 'Fork Author',
      GIT_COMMITTER_EMAIL: 'fork@example.invalid',
    },
    encoding: 'utf8',
  }).trim();
}

/** A signed GitHub delivery of `event` with this payload, as GitHub sends it. */
function signed(event: string, payload: unknown, secret: string): Delivery {
  const body = JSON.stringify(payload);
  const id = randomUUID();
  return {
    id,
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/stepline-e2e',
      'x-github-event': event,
      'x-github-delivery': id,
      'x-github-hook-id': '1',
      'x-hub-signature-256': githubSignature(body, secret),
    },
  };
}

/** GitHub's `commit_comment` (GitHub's own example, @octokit/webhooks-examples) on a commit of the repository. */
export function commitComment(
  repository: SampleRepository,
  secret: string,
  options: { readonly sha: string; readonly login: string; readonly body: string },
): Delivery {
  const payload = githubExample('commit_comment') as Record<string, Record<string, unknown>>;
  const [owner, name] = repository.name.split('/') as [string, string];
  Object.assign(payload['comment']!, {
    body: options.body,
    commit_id: options.sha,
    user: { ...(payload['comment']!['user'] as object), login: options.login },
  });
  Object.assign(payload['repository']!, {
    name,
    full_name: repository.name,
    owner: { ...(payload['repository']!['owner'] as object), login: owner },
    clone_url: repository.dir,
  });
  payload['sender'] = { ...(payload['sender'] as object), login: options.login };
  return signed('commit_comment', payload, secret);
}

export interface ForkPullRequest {
  readonly number: number;
  readonly sha: string;
  readonly delivery: Delivery;
}

/** Commits `files` as a fork's pull request `number` against `main`, and the signed `opened` delivery for it. */
export function forkPullRequest(
  repository: SampleRepository,
  secret: string,
  number: number,
  files: Readonly<Record<string, string>>,
): ForkPullRequest {
  const dir = repository.dir;
  const base = git(dir, 'rev-parse', 'HEAD');
  git(dir, 'checkout', '--quiet', '--detach');
  for (const [path, text] of Object.entries(files)) writeFileSync(join(dir, path), text);
  git(dir, 'add', '--all');
  git(dir, 'commit', '--quiet', '--no-gpg-sign', '-m', 'A change from a fork');
  const sha = git(dir, 'rev-parse', 'HEAD');
  git(dir, 'update-ref', `refs/pull/${number}/head`, sha);
  git(dir, 'checkout', '--quiet', repository.branch);
  const [owner, name] = repository.name.split('/') as [string, string];
  const forkName = `someone-else/${name}`;
  const payload = {
    action: 'opened',
    number,
    pull_request: {
      number,
      title: 'A change from a fork',
      html_url: `https://github.invalid/${repository.name}/pull/${number}`,
      state: 'open',
      user: { login: 'someone-else' },
      head: { ref: 'patch-1', sha, repo: { full_name: forkName, clone_url: `https://github.invalid/${forkName}.git` } },
      base: { ref: repository.branch, sha: base, repo: { full_name: repository.name } },
    },
    repository: {
      id: 1,
      name,
      full_name: repository.name,
      owner: { login: owner },
      private: false,
      html_url: `https://github.invalid/${repository.name}`,
      clone_url: repository.dir,
      default_branch: repository.branch,
    },
    sender: { login: 'someone-else', id: 3, type: 'User' },
  };
  return { number, sha, delivery: signed('pull_request', payload, secret) };
}
