import { createHmac, randomUUID } from 'node:crypto';
import type { SampleRepository } from './repository';

/**
 * A GitHub `push` delivery of a repository's tip commit, signed as GitHub signs it (`X-Hub-Signature-256`, an
 * HMAC-SHA256 of the exact body with the webhook secret), and its sending to a runtime's webhook route.
 */

export interface Delivery {
  readonly id: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface WebhookAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

const ZERO_SHA = '0'.repeat(40);

/** The host the demo pretends the repository lives on: reserved, never resolved. */
const HOST = 'https://github.invalid';

/** Signs `body` as GitHub does. */
export function githubSignature(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function githubPush(
  repository: SampleRepository,
  secret: string,
  options: { readonly deliveryId?: string; readonly pusher?: string } = {},
): Delivery {
  const [owner, name] = repository.name.split('/') as [string, string];
  const pusher = options.pusher ?? 'stepline-demo';
  const now = new Date().toISOString();
  const commit = {
    id: repository.head,
    tree_id: repository.head,
    distinct: true,
    message: repository.message,
    timestamp: now,
    url: `${HOST}/${repository.name}/commit/${repository.head}`,
    author: { name: 'Stepline Demo', email: 'demo@stepline.invalid', username: pusher },
    committer: { name: 'Stepline Demo', email: 'demo@stepline.invalid', username: pusher },
    added: repository.changes.added,
    removed: repository.changes.removed,
    modified: repository.changes.modified,
  };
  const payload = {
    ref: `refs/heads/${repository.branch}`,
    before: repository.before ?? ZERO_SHA,
    after: repository.head,
    created: repository.before === null,
    deleted: false,
    forced: false,
    base_ref: null,
    compare: `${HOST}/${repository.name}/compare/${(repository.before ?? ZERO_SHA).slice(0, 12)}...${repository.head.slice(0, 12)}`,
    commits: [commit],
    head_commit: commit,
    repository: {
      id: 1,
      name,
      full_name: repository.name,
      owner: { login: owner, name: owner },
      private: false,
      html_url: `${HOST}/${repository.name}`,
      clone_url: repository.dir,
      default_branch: repository.branch,
      master_branch: repository.branch,
    },
    pusher: { name: pusher, email: 'demo@stepline.invalid' },
    sender: { login: pusher, id: 2, type: 'User' },
  };
  return signedDelivery('push', JSON.stringify(payload), secret, options.deliveryId ?? randomUUID());
}

/** A delivery as GitHub sends it: its event, id and hook in headers, the body signed with the secret. */
function signedDelivery(event: string, body: string, secret: string, id: string): Delivery {
  return {
    id,
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/stepline-demo',
      'x-github-event': event,
      'x-github-delivery': id,
      'x-github-hook-id': '1',
      'x-hub-signature-256': githubSignature(body, secret),
    },
  };
}

/** The `ping` GitHub sends when a webhook is added to a repository, signed. */
export function githubPing(repository: SampleRepository, secret: string, url: string): Delivery {
  const [owner, name] = repository.name.split('/') as [string, string];
  const body = JSON.stringify({
    zen: 'Keep it logically awesome.',
    hook_id: 1,
    hook: {
      type: 'Repository',
      id: 1,
      name: 'web',
      active: true,
      events: ['push'],
      config: { content_type: 'json', url },
    },
    repository: { id: 1, name, full_name: repository.name, owner: { login: owner }, private: false },
    sender: { login: 'stepline-demo', id: 2, type: 'User' },
  });
  return signedDelivery('ping', body, secret, randomUUID());
}

/** POSTs a delivery to `<url>/webhooks/github` and answers the status and JSON body. */
export async function deliver(url: string, delivery: Delivery, signal?: AbortSignal): Promise<WebhookAnswer> {
  const response = await fetch(`${url}/webhooks/github`, {
    method: 'POST',
    headers: delivery.headers,
    body: delivery.body,
    ...(signal ? { signal } : {}),
  });
  const text = await response.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { message: text.slice(0, 200) };
  }
  return { status: response.status, body };
}
