import { describe, expect, it } from 'vitest';
import { Intake } from '../../../core/intake/intake';
import { CONFIG, githubDelivery, githubPush } from './support';

describe('the envelope checks', () => {
  it.each([
    ['an unknown provider', 'gitea', /unknown provider "gitea"; expected one of github, gitlab, bitbucket/],
    ['no provider', undefined, /unknown provider \(none\)/],
  ])('refuses %s with 404', (_name, provider, message) => {
    // Prepare
    const delivery = { ...githubDelivery('push', githubPush()), provider };

    // Act
    const verdict = new Intake(CONFIG).admit(delivery);

    // Assess
    expect(verdict).toMatchObject({ continue: false, status: 404, code: 'unknown_provider', message });
  });

  it('refuses a body over the limit with 413 before reading anything else', () => {
    // Prepare
    const delivery = githubDelivery('push', githubPush(), { headers: { 'X-GitHub-Event': undefined } });

    // Act
    const verdict = new Intake(CONFIG, { maxBodyBytes: 100 }).admit(delivery);

    // Assess
    expect(verdict).toMatchObject({
      continue: false,
      status: 413,
      code: 'body_too_large',
      message: 'the body is larger than the limit of 100 bytes',
    });
  });

  it('refuses by the declared length of a body that was not decoded', () => {
    // Prepare
    const delivery = { ...githubDelivery('push', githubPush()), body: new Uint8Array(0), byteLength: 5_000_000 };

    // Act
    const verdict = new Intake(CONFIG).admit(delivery);

    // Assess
    expect(verdict).toMatchObject({ status: 413 });
  });

  it('accepts a body of exactly the limit', () => {
    // Prepare
    const delivery = githubDelivery('push', githubPush());

    // Act
    const verdict = new Intake(CONFIG, { maxBodyBytes: delivery.body.byteLength }).admit(delivery);

    // Assess
    expect(verdict.continue).toBe(true);
  });

  it('refuses a delivery without Content-Type with 415, naming what it expects', () => {
    // Prepare
    const delivery = githubDelivery('push', githubPush(), { headers: { 'Content-Type': undefined } });

    // Act
    const verdict = new Intake(CONFIG).admit(delivery);

    // Assess
    expect(verdict).toMatchObject({
      status: 415,
      message: 'missing Content-Type; expected application/json or application/x-www-form-urlencoded',
    });
  });
});
