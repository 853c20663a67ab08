const assert = require('node:assert/strict');
const { after, before, describe, it } = require('node:test');
const { start } = require('../../src/server');

describe('the HTTP server', () => {
  let server;
  let base;

  before(async () => {
    server = await start({ port: 0, host: '127.0.0.1', env: { GREETING: 'Howdy', ENVIRONMENT: 'test' } });
    base = `http://127.0.0.1:${server.address().port}`;
  });

  after(() => new Promise((resolve) => server.close(resolve)));

  it('serves a greeting as JSON', async () => {
    const response = await fetch(`${base}/hello/world`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /^application\/json/);
    assert.deepEqual(await response.json(), { message: 'Howdy, world!' });
  });

  it('answers its readiness probe', async () => {
    const response = await fetch(`${base}/readyz`);
    assert.equal(response.status, 200);
  });

  it('sends the headers but no body for HEAD', async () => {
    const response = await fetch(`${base}/`, { method: 'HEAD' });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), '');
    assert.ok(Number(response.headers.get('content-length')) > 0);
  });

  it('answers 405 for a POST', async () => {
    const response = await fetch(`${base}/hello/world`, { method: 'POST', body: 'x' });
    assert.equal(response.status, 405);
  });
});
