import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../core/config';
import { DemoError, demoOptions } from '../../../local/demo';
import { CANARY_DEPLOYMENT, CANARY_NAMESPACE, canaryConfig } from '../../../local/demo/canary';

/** `stepline demo --canary` and `--canary --break metrics` (ADR 0067): the flags and the configuration they make. */

const SAMPLE_CONFIG = join(__dirname, '../../../local/demo/sample/stepline.config.json');

describe('the demo with --canary', () => {
  it('takes --canary and --canary --break metrics', () => {
    expect(demoOptions([], { canary: true }, {})).toEqual({ canary: true });
    expect(demoOptions([], { canary: true, break: 'metrics' }, {})).toEqual({ canary: true, breakStep: 'metrics' });
  });

  it('refuses --break metrics without --canary, saying why', () => {
    expect(() => demoOptions([], { break: 'metrics' }, {})).toThrow(
      new DemoError("--break metrics breaks a canary's analysis: use it with --canary"),
    );
  });

  it("rolls staging out as a canary measured on the sample's canary track, and deploys nowhere else", () => {
    // Act
    const config = validateConfig(JSON.parse(canaryConfig(readFileSync(SAMPLE_CONFIG, 'utf8'))), 'inline');

    // Assess
    const repository = config.repositories[0]!;
    expect(repository.branches.map((b) => b.environments)).toEqual([['staging']]);
    expect(repository.environments['staging']?.strategy).toMatchObject({
      type: 'canary',
      steps: [{ weight: 25 }, { weight: 50 }],
      analysis: {
        metrics: [
          {
            provider: {
              prometheus: {
                address: 'http://prometheus.stepline.local',
                query: `stepline_demo_http_error_ratio{namespace="${CANARY_NAMESPACE}",deployment="${CANARY_DEPLOYMENT}",track="canary"}`,
              },
            },
          },
        ],
      },
    });
  });
});
