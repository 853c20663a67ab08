import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { main, positionalIds } from '../../../local/cli';

/**
 * `stepline approve|reject` against a stand-in of the runtime's API: what the CLI sends (the id as given, a name
 * only when `--as` names one) and what it says (each thing once).
 */

interface Received {
  readonly path: string;
  readonly body: Record<string, unknown>;
}

let server: Server;
let url: string;
let received: Received[];
let answer: { status: number; body: unknown };

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString() || '{}') });
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  received = [];
  answer = {
    status: 200,
    body: {
      outcome: 'approved',
      approval: { id: '-AbCdEfGhIjKlMnOpQrStU', environment: 'production', decidedBy: 'alice' },
    },
  };
});

async function cli(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main([...args, '--url', url]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('stepline approve and reject', () => {
  it('takes an approval id that starts with "-" as the id, not as options', async () => {
    // Act
    const done = await cli('approve', '-AbCdEfGhIjKlMnOpQrStU');

    // Assess
    expect(done).toEqual({ code: 0, stdout: 'approved: production (as alice)\n', stderr: '' });
    expect(received).toEqual([
      { path: '/api/approvals/-AbCdEfGhIjKlMnOpQrStU/decision', body: { decision: 'approve' } },
    ]);
  });

  it('sends a name only when --as gives one; without it the runtime decides as its local identity', async () => {
    // Act
    await cli('reject', '--as', 'bob', '-AbCdEfGhIjKlMnOpQrStU', '--reason', 'not today');
    await cli('reject', 'AbCdEfGhIjKlMnOpQrStUv');

    // Assess
    expect(received.map((r) => r.body)).toEqual([
      { decision: 'reject', by: 'bob', reason: 'not today' },
      { decision: 'reject' },
    ]);
  });

  it("says a refusal once, in the runtime's words", async () => {
    // Prepare
    answer = {
      status: 403,
      body: { outcome: 'forbidden', message: 'mallory is not among the approvers of production (alice)' },
    };

    // Act
    const refused = await cli('approve', 'AbCdEfGhIjKlMnOpQrStUv', '--as', 'mallory');

    // Assess
    expect(refused).toEqual({
      code: 1,
      stdout: '',
      stderr: 'stepline: not approved: mallory is not among the approvers of production (alice)\n',
    });
  });

  it('leaves option values and everything after -- where they are', () => {
    expect(positionalIds(['approve', '--as', '-AbCdEfGhIjKlMnOpQrStU'])).toEqual([
      'approve',
      '--as',
      '-AbCdEfGhIjKlMnOpQrStU',
    ]);
    expect(positionalIds(['approve', '-AbCdEfGhIjKlMnOpQrStU', '--json'])).toEqual([
      'approve',
      '--json',
      '--',
      '-AbCdEfGhIjKlMnOpQrStU',
    ]);
    expect(positionalIds(['approve', '--', '-x'])).toEqual(['approve', '--', '-x']);
    expect(positionalIds(['executions', 'list', '--json'])).toEqual(['executions', 'list', '--json']);
  });
});
