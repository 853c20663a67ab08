import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitHostSink, inProcessSinkFetch } from '../../../local/services/githost';
import { type Db, openStateDb } from '../../../local/store/db';
import { StatusStore } from '../../../local/store/statuses';

/**
 * The local sink's routes for GitLab projects in subgroups (issue 21, item 6): the status code sends the project as
 * its URL-encoded path (`acme%2Fplatform%2Fbilling`, GitLab's "namespaced path encoding"); the local server's route
 * and the in-process fetch hand the sink that path decoded once.
 */

const SHA = 'a'.repeat(40);
let db: Db;
let sink: GitHostSink;

beforeEach(() => {
  db = openStateDb(':memory:');
  sink = new GitHostSink(new StatusStore(db));
});
afterEach(() => db.close());

describe('GitLab projects in subgroups', () => {
  it('takes a status for acme%2Fplatform%2Fbilling posted through the in-process fetch', async () => {
    // Prepare
    const fetch = inProcessSinkFetch(sink, 'http://127.0.0.1:8080/githost');

    // Act
    const response = await fetch(
      `http://127.0.0.1:8080/githost/gitlab/api/v4/projects/acme%2Fplatform%2Fbilling/statuses/${SHA}`,
      {
        method: 'POST',
        body: JSON.stringify({ state: 'running', name: 'stepline/build', ref: 'main' }),
      },
    );
    const list = await fetch(
      `http://127.0.0.1:8080/githost/gitlab/api/v4/projects/acme%2Fplatform%2Fbilling/repository/commits/${SHA}/statuses`,
    );

    // Assess
    expect(response.status).toBe(201);
    expect(await list.json()).toMatchObject([{ name: 'stepline/build', status: 'running', ref: 'main' }]);
  });

  it.each([
    ['decoded once, as the HTTP route hands it over', 'acme/platform/billing'],
    ['still encoded', 'acme%2Fplatform%2Fbilling'],
    ['a two-part path', 'acme/billing'],
  ])('routes a project path %s', (_, project) => {
    // Act
    const answer = sink.handle({
      method: 'POST',
      path: `/gitlab/api/v4/projects/${project}/statuses/${SHA}`,
      body: { state: 'pending', name: 'stepline' },
    });

    // Assess
    expect(answer.status).toBe(201);
    expect(
      sink.handle({
        method: 'GET',
        path: `/gitlab/api/v4/projects/${project}/repository/commits/${SHA}/statuses`,
        body: null,
      }),
    ).toMatchObject({ status: 200, body: [{ name: 'stepline', status: 'pending' }] });
  });
});
