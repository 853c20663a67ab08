import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../../../core/errors';

const SAVED = { ...process.env };

afterEach(() => {
  process.env = { ...SAVED };
  vi.resetModules();
});

describe('the webhook entry point at cold start', () => {
  it('fails the init with a ConfigError naming the field when the configuration is invalid', async () => {
    // Prepare
    process.env['STEPLINE_CONFIG'] = JSON.stringify({
      version: 1,
      repositories: [{ provider: 'github', name: 'a/b' }],
    });
    process.env['STATE_MACHINE_ARN'] = 'arn:aws:states:eu-west-1:123456789012:stateMachine:p';
    process.env['WEBHOOK_SECRET'] = 's';
    process.env['PARKING_QUEUE_URL'] = 'https://sqs.eu-west-1.amazonaws.com/123456789012/q';

    // Act
    const load = import('../../../../functions/webhook/index');

    // Assess
    await expect(load).rejects.toThrow(ConfigError);
    await expect(import('../../../../functions/webhook/index')).rejects.toThrow(/repositories\[0\]\.build/);
  });

  it('builds the AWS handler when the settings are complete', async () => {
    // Prepare
    process.env['STEPLINE_CONFIG'] = 'stepline.config.json';
    process.env['STATE_MACHINE_ARN'] = 'arn:aws:states:eu-west-1:123456789012:stateMachine:p';
    process.env['WEBHOOK_SECRET_ARN'] = 'stepline/webhook';
    process.env['PARKING_QUEUE_URL'] = 'https://sqs.eu-west-1.amazonaws.com/123456789012/q';
    process.env['AWS_REGION'] = 'eu-west-1';

    // Act
    const entry = await import('../../../../functions/webhook/index');

    // Assess
    expect(typeof entry.handler).toBe('function');
    expect(typeof entry.handler.use).toBe('function');
  });
});
