import { describe, expect, it } from 'vitest';
import { statusContexts } from '../../../core/contracts/status';
import { Router } from '../../../core/intake/route';
import { declaredContexts } from '../../../core/status/plan';
import { CONFIG } from './support';

describe('the contexts a skipped run reports', () => {
  it('are the contexts status reporting declares for the same route', () => {
    // Prepare
    const decision = new Router(CONFIG).route({
      provider: 'github',
      deliveryId: 'd',
      event: 'push',
      repository: { fullName: 'Codertocat/Hello-World', cloneUrl: '', defaultBranch: 'master', htmlUrl: null },
      ref: { name: 'master', fullName: 'refs/heads/master', kind: 'branch' },
      commit: { sha: '6113728f27ae82c7b1a177c8d03f9e96e0adf246', before: null, message: null, url: null },
      pullRequest: null,
      changedFiles: { paths: [], complete: false },
      sender: { login: 'octocat' },
    });
    if (!decision.continue) throw new Error('expected a route');

    // Act
    const ours = statusContexts(decision.value);
    const theirs = declaredContexts(decision.value, 'stepline');

    // Assess
    expect(ours).toEqual(theirs);
  });
});
