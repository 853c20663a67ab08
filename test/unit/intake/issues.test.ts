import { describe, expect, it } from 'vitest';
import type { Incident } from '../../../core/insight/contracts';
import { Intake } from '../../../core/intake/intake';
import type { IncidentSink, ParkingQueue, WorkflowStarter } from '../../../core/intake/ports';
import { receive } from '../../../core/intake/receive';
import {
  bitbucketDelivery,
  CONFIG,
  githubDelivery,
  githubExample,
  gitlabDelivery,
  type Loose,
  SECRETS,
} from './support';

/**
 * Issue events through the intake (ADR 0099): verified like any delivery, an issue labelled `incident` becomes an
 * incident write (open while the issue is, resolved once it is closed); any other issue writes nothing and says why.
 */

function world(failing = false) {
  const written: Incident[] = [];
  const started: string[] = [];
  const incidents: IncidentSink = {
    putIncident: async (incident) => {
      if (failing) throw new Error('ProvisionedThroughputExceededException');
      written.push(incident);
    },
  };
  const workflow: WorkflowStarter = {
    start: async ({ name }) => {
      started.push(name);
      return { outcome: 'started', executionArn: `arn:x:${name}` };
    },
  };
  const parking: ParkingQueue = { park: async () => {} };
  return { written, started, ports: { secrets: { get: async () => SECRETS }, workflow, parking, incidents } };
}

const intake = () => new Intake(CONFIG);

/** GitHub's own example of an `issues` event (opened), as `action`, in the configured repository, labelled as given. */
function githubIssue(action: string, labels: string[], closedAt: string | null = null): Loose {
  const payload = githubExample('issues', (p) => p.action === 'opened');
  payload.action = action;
  payload.issue.labels = labels.map((name) => ({ name }));
  payload.issue.title = 'Checkout answers 500';
  payload.issue.body = 'environment: production\nroot cause: 1a2b3c4d';
  payload.issue.created_at = '2030-01-02T10:00:00Z';
  payload.issue.closed_at = closedAt;
  payload.repository.full_name = 'Codertocat/Hello-World';
  return payload;
}

/** GitLab's Issue Hook as its webhook documentation shows it (labels at the top level, dates as GitLab writes them). */
function gitlabIssue(labels: string[], closedAt: string | null, action = 'open'): Loose {
  return {
    object_kind: 'issue',
    event_type: 'issue',
    user: { id: 1, name: 'Administrator', username: 'root' },
    project: { id: 1, name: 'storefront', path_with_namespace: 'acme/platform/storefront' },
    object_attributes: {
      id: 301,
      iid: 23,
      title: 'Payments down',
      description: 'deploy: storefront-abcdef1-d1\nenvironment: production',
      created_at: '2030-01-02 10:00:00 UTC',
      updated_at: '2030-01-02 11:00:00 UTC',
      closed_at: closedAt,
      state: closedAt ? 'closed' : 'opened',
      action,
    },
    labels: labels.map((title, id) => ({ id, title, color: '#d9534f', project_id: 1, type: 'ProjectLabel' })),
  };
}

describe('issue events as incidents', () => {
  it('a GitHub issue labelled incident is recorded open, then resolved when it is closed', async () => {
    // Prepare
    const { written, started, ports } = world();

    // Act
    const opened = await receive(
      intake(),
      githubDelivery('issues', githubIssue('labeled', ['bug', 'Incident'])),
      ports,
    );
    const closed = await receive(
      intake(),
      githubDelivery('issues', githubIssue('closed', ['Incident'], '2030-01-02T12:30:00Z')),
      ports,
    );

    // Assess
    expect(opened.status).toBe(202);
    expect(opened.body).toEqual({ status: 'incident recorded', incident: expect.any(String), state: 'open' });
    expect(closed.body).toMatchObject({ status: 'incident recorded', state: 'resolved' });
    expect(written).toHaveLength(2);
    expect(written[0]).toMatchObject({
      source: 'issue',
      provider: 'github',
      repository: 'Codertocat/Hello-World',
      environment: 'production',
      openedAt: '2030-01-02T10:00:00.000Z',
      resolvedAt: null,
      commits: ['1a2b3c4d'],
    });
    expect(written[1]?.id).toBe(written[0]?.id);
    expect(written[1]?.resolvedAt).toBe('2030-01-02T12:30:00.000Z');
    expect(opened.outcomes).toEqual([{ kind: 'incident', id: written[0]?.id, state: 'open' }]);
    expect(started).toEqual([]);
  });

  it.each([
    ['never labelled', 'opened', ['bug']],
    ['that lost another label', 'unlabeled', ['bug']],
  ])('a GitHub issue %s is not an incident', async (_, action, labels) => {
    const { written, ports } = world();
    const payload = githubIssue(action, labels);
    if (action === 'unlabeled') payload.label = { name: 'wontfix' };
    const receipt = await receive(intake(), githubDelivery('issues', payload), ports);
    expect(receipt.status).toBe(202);
    expect(receipt.body).toMatchObject({ status: 'ignored', code: 'not_an_incident' });
    expect(written).toEqual([]);
  });

  it('a GitHub issue whose incident label is removed is written withdrawn, and counts again when relabelled', async () => {
    // Prepare: GitHub's own `unlabeled` example (its `label` is the label removed), the removed label `Incident`
    const { written, ports } = world();
    const unlabeled = githubExample('issues', (p) => p.action === 'unlabeled');
    Object.assign(unlabeled.issue, { ...githubIssue('opened', ['bug']).issue, updated_at: '2030-01-02T11:15:00Z' });
    unlabeled.label = { ...unlabeled.label, name: 'Incident' };
    unlabeled.repository.full_name = 'Codertocat/Hello-World';

    // Act
    const withdrawn = await receive(intake(), githubDelivery('issues', unlabeled), ports);
    const relabelled = await receive(intake(), githubDelivery('issues', githubIssue('labeled', ['incident'])), ports);

    // Assess
    expect(withdrawn.status).toBe(202);
    expect(withdrawn.body).toEqual({
      status: 'incident recorded',
      incident: 'github:Codertocat/Hello-World#1',
      state: 'withdrawn',
    });
    expect(written[0]).toMatchObject({
      id: 'github:Codertocat/Hello-World#1',
      openedAt: '2030-01-02T10:00:00.000Z',
      withdrawnAt: '2030-01-02T11:15:00.000Z',
      commits: ['1a2b3c4d'],
    });
    expect(relabelled.body).toMatchObject({ incident: written[0]?.id, state: 'open' });
    expect(written[1]?.id).toBe(written[0]?.id);
    expect(written[1]).not.toHaveProperty('withdrawnAt');
  });

  it('an action that changes no incident (assigned) is ignored', async () => {
    const { written, ports } = world();
    const payload = githubIssue('opened', ['incident']);
    payload.action = 'assigned';
    const receipt = await receive(intake(), githubDelivery('issues', payload), ports);
    expect(receipt.body).toMatchObject({ status: 'ignored', code: 'event_not_handled' });
    expect(written).toEqual([]);
  });

  it('a wrong signature is refused before anything is read or written', async () => {
    const { written, ports } = world();
    const delivery = githubDelivery('issues', githubIssue('opened', ['incident']), { secret: 'not the secret' });
    const receipt = await receive(intake(), delivery, ports);
    expect(receipt.status).toBe(401);
    expect(written).toEqual([]);
  });

  it('an issue of a repository that is not configured writes nothing', async () => {
    const { written, ports } = world();
    const payload = githubIssue('opened', ['incident']);
    payload.repository.full_name = 'someone/else';
    const receipt = await receive(intake(), githubDelivery('issues', payload), ports);
    expect(receipt.body).toMatchObject({ status: 'ignored', code: 'repository_not_configured' });
    expect(written).toEqual([]);
  });

  it('a GitLab Issue Hook labelled incident is recorded, resolved at its closed_at', async () => {
    const { written, ports } = world();
    const receipt = await receive(
      intake(),
      gitlabDelivery('Issue Hook', gitlabIssue(['incident'], '2030-01-02 12:00:00 UTC', 'close')),
      ports,
    );
    expect(receipt.body).toEqual({
      status: 'incident recorded',
      incident: 'gitlab:acme/platform/storefront#23',
      state: 'resolved',
    });
    expect(written[0]).toMatchObject({
      repository: 'acme/platform/storefront',
      environment: 'production',
      executions: ['storefront-abcdef1-d1'],
      openedAt: '2030-01-02T10:00:00.000Z',
      resolvedAt: '2030-01-02T12:00:00.000Z',
    });
  });

  it('a GitLab Issue Hook whose changes drop the incident label is written withdrawn; one that keeps it is not', async () => {
    // Prepare: `changes.labels` with the lists before and after, as GitLab's Issue events documentation shows them
    const { written, ports } = world();
    const dropped = gitlabIssue(['bug'], null, 'update');
    dropped.changes = {
      updated_at: { previous: '2030-01-02 10:30:00 UTC', current: '2030-01-02 11:00:00 UTC' },
      labels: {
        previous: [
          { id: 1, title: 'Incident' },
          { id: 2, title: 'bug' },
        ],
        current: [{ id: 2, title: 'bug' }],
      },
    };
    const kept = gitlabIssue(['incident', 'sev1'], null, 'update');
    kept.changes = { labels: { previous: [{ id: 1, title: 'incident' }], current: kept.labels } };

    // Act
    const withdrawn = await receive(intake(), gitlabDelivery('Issue Hook', dropped), ports);
    const stillOpen = await receive(intake(), gitlabDelivery('Issue Hook', kept), ports);

    // Assess
    expect(withdrawn.body).toEqual({
      status: 'incident recorded',
      incident: 'gitlab:acme/platform/storefront#23',
      state: 'withdrawn',
    });
    expect(written[0]).toMatchObject({
      withdrawnAt: '2030-01-02T11:00:00.000Z',
      executions: ['storefront-abcdef1-d1'],
    });
    expect(stillOpen.body).toMatchObject({ state: 'open' });
    expect(written[1]).not.toHaveProperty('withdrawnAt');
  });

  it('a GitLab issue without the label is not an incident', async () => {
    const { written, ports } = world();
    const receipt = await receive(intake(), gitlabDelivery('Issue Hook', gitlabIssue(['bug'], null)), ports);
    expect(receipt.body).toMatchObject({ status: 'ignored', code: 'not_an_incident' });
    expect(written).toEqual([]);
  });

  it('Bitbucket issue events are ignored: its issues carry no labels', async () => {
    const { written, ports } = world();
    const payload = { issue: { id: 5, title: 'down', kind: 'bug', priority: 'critical', state: 'new' } };
    const receipt = await receive(intake(), bitbucketDelivery('issue:created', payload), ports);
    expect(receipt.body).toMatchObject({ status: 'ignored', code: 'not_an_incident' });
    expect(written).toEqual([]);
  });

  it('a store that cannot write answers 503, for the host to redeliver', async () => {
    const { ports } = world(true);
    const receipt = await receive(intake(), githubDelivery('issues', githubIssue('opened', ['incident'])), ports);
    expect(receipt.status).toBe(503);
    expect(receipt.outcomes[0]).toMatchObject({ kind: 'failed' });
  });

  it('without a store, an issue event starts nothing as before', async () => {
    const { ports } = world();
    const { incidents: _, ...without } = ports;
    const receipt = await receive(intake(), githubDelivery('issues', githubIssue('opened', ['incident'])), without);
    expect(receipt.body).toMatchObject({ status: 'ignored', code: 'event_not_handled' });
  });
});
