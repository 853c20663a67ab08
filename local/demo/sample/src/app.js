/**
 * What the service answers, free of I/O: `respond(method, url, settings)` returns the status, headers and JSON
 * body of one request, so that the unit tests call it directly and src/server.js only does HTTP.
 */

const MAX_NAME_LENGTH = 64;

function json(status, body, headers = {}) {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body };
}

function greet(name, settings) {
  if (name.length === 0) return json(400, { error: 'missing_name', message: 'name someone to greet: /hello/{name}' });
  if (name.length > MAX_NAME_LENGTH) {
    return json(400, { error: 'name_too_long', message: `a name has at most ${MAX_NAME_LENGTH} characters` });
  }
  return json(200, { message: `${settings.greeting}, ${name}!` });
}

function respond(method, url, settings) {
  const { pathname } = new URL(url, 'http://service.invalid');
  if (method !== 'GET' && method !== 'HEAD') {
    return json(
      405,
      { error: 'method_not_allowed', message: `${method} is not allowed here: use GET` },
      { allow: 'GET, HEAD' },
    );
  }
  if (pathname === '/healthz' || pathname === '/readyz') return json(200, { status: 'ok' });
  if (pathname === '/') {
    return json(200, { service: 'hello-service', version: settings.version, environment: settings.environment });
  }
  if (pathname.startsWith('/hello/')) {
    let name;
    try {
      name = decodeURIComponent(pathname.slice('/hello/'.length));
    } catch {
      return json(400, { error: 'malformed_name', message: 'the name is not valid percent-encoding' });
    }
    return greet(name, settings);
  }
  return json(404, { error: 'not_found', message: `nothing at ${pathname}` });
}

/** The settings from the environment the Deployment gives the container (see deploy/base/deployment.yaml). */
function settingsFrom(env) {
  return {
    greeting: env.GREETING || 'Hello',
    environment: env.ENVIRONMENT || 'local',
    version: env.APP_VERSION || 'dev',
  };
}

module.exports = { respond, settingsFrom, MAX_NAME_LENGTH };
