const { createServer } = require('node:http');
const { respond, settingsFrom } = require('./app');

/** Starts the service on `port` (0: a free one); resolves with the server once it listens. */
function start({ port = 8080, host = '0.0.0.0', env = process.env } = {}) {
  const settings = settingsFrom(env);
  const server = createServer((req, res) => {
    const answer = respond(req.method, req.url, settings);
    const text = JSON.stringify(answer.body);
    res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(text) });
    res.end(req.method === 'HEAD' ? undefined : text);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

if (require.main === module) {
  start({ port: Number(process.env.PORT || 8080) }).then((server) => {
    console.log(`hello-service listening on ${JSON.stringify(server.address())}`);
    // Kubernetes sends SIGTERM before it removes a pod: finish the requests in flight, then exit.
    process.on('SIGTERM', () => server.close(() => process.exit(0)));
  });
}

module.exports = { start };
