const assert = require('node:assert/strict');
const { describe, it } = require('node:test');
const { respond, settingsFrom, MAX_NAME_LENGTH } = require('../../src/app');

const settings = { greeting: 'Hello', environment: 'test', version: '1.2.3' };

describe('respond', () => {
  it('greets the person named in the path', () => {
    const answer = respond('GET', '/hello/Ada', settings);
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { message: 'Hello, Ada!' });
  });

  it('decodes a percent-encoded name', () => {
    assert.deepEqual(respond('GET', '/hello/Jos%C3%A9', settings).body, { message: 'Hello, José!' });
  });

  it('refuses a name longer than the limit with 400', () => {
    const answer = respond('GET', `/hello/${'a'.repeat(MAX_NAME_LENGTH + 1)}`, settings);
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error, 'name_too_long');
  });

  it('refuses malformed percent-encoding with 400', () => {
    assert.equal(respond('GET', '/hello/%E0%A4%A', settings).body.error, 'malformed_name');
  });

  it('describes itself at the root', () => {
    assert.deepEqual(respond('GET', '/', settings).body, {
      service: 'hello-service',
      version: '1.2.3',
      environment: 'test',
    });
  });

  it('answers the health checks', () => {
    assert.equal(respond('GET', '/healthz', settings).status, 200);
    assert.equal(respond('GET', '/readyz', settings).status, 200);
  });

  it('answers 404 for an unknown path', () => {
    assert.equal(respond('GET', '/nope', settings).status, 404);
  });

  it('answers 405 with Allow for a method other than GET and HEAD', () => {
    const answer = respond('POST', '/hello/Ada', settings);
    assert.equal(answer.status, 405);
    assert.equal(answer.headers.allow, 'GET, HEAD');
  });
});

describe('settingsFrom', () => {
  it('reads the greeting, environment and version the Deployment sets', () => {
    assert.deepEqual(settingsFrom({ GREETING: 'Hi', ENVIRONMENT: 'staging', APP_VERSION: 'abc' }), {
      greeting: 'Hi',
      environment: 'staging',
      version: 'abc',
    });
  });

  it('falls back to defaults outside a cluster', () => {
    assert.deepEqual(settingsFrom({}), { greeting: 'Hello', environment: 'local', version: 'dev' });
  });
});
