import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../core/config';
import { DemoError, demoOptions } from '../../../local/demo';
import { GITOPS_APPLICATION, GITOPS_REPOSITORY, gitopsConfig } from '../../../local/demo/gitops';

/** `stepline demo --gitops` (ADR 0103): the flag and the configuration it makes. */

const SAMPLE_CONFIG = join(__dirname, '../../../local/demo/sample/stepline.config.json');

describe('the demo with --gitops', () => {
  it('takes --gitops, and refuses it with --canary', () => {
    expect(demoOptions([], { gitops: true }, {})).toEqual({ gitops: true });
    expect(() => demoOptions([], { gitops: true, canary: true }, {})).toThrow(
      new DemoError('--gitops and --canary each change staging: use one'),
    );
  });

  it('hands staging, the only environment, to the local configuration repository and its Application', () => {
    const config = validateConfig(JSON.parse(gitopsConfig(readFileSync(SAMPLE_CONFIG, 'utf8'))), 'inline');
    const repository = config.repositories[0]!;
    expect(repository.branches.map((b) => b.environments)).toEqual([['staging']]);
    expect(Object.keys(repository.environments)).toEqual(['staging']);
    expect(repository.environments['staging']?.delivery).toEqual({
      type: 'gitops',
      repository: { provider: 'local', name: GITOPS_REPOSITORY },
      branch: 'main',
      path: 'apps/staging',
      format: { type: 'kustomize', image: 'hello-service' },
      mode: 'commit',
      controller: { kind: 'Application', name: GITOPS_APPLICATION },
    });
  });
});
