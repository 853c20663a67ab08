import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Router } from '../server';
import { type Db, GroupCommit } from '../store';
import type { Cleanups } from './shutdown';

/**
 * The HTTP server, listening before anything else starts: its port is part of every URL the functions are given.
 * Until the router is set (the end of start-up), it answers 503 "starting". Whatever an answer acknowledges is
 * committed to the state file before the answer leaves.
 */

export interface Listening {
  readonly server: Server;
  readonly port: number;
  /** The URL the runtime reaches itself at (loopback when it listens on every address). */
  readonly internalUrl: string;
  /** The URL others reach it at: `publicUrl`, else the internal one. */
  readonly url: string;
  /** Starts answering with `router`. */
  route(router: Router): void;
}

/** What an answer acknowledges is committed before the answer leaves (its headers, then its end). */
function commitBeforeAnswering(res: ServerResponse, db: Db): void {
  const writeHead = res.writeHead;
  const end = res.end;
  res.writeHead = function committedWriteHead(this: ServerResponse, ...args: unknown[]) {
    GroupCommit.flush(db);
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as typeof res.writeHead;
  res.end = function committedEnd(this: ServerResponse, ...args: unknown[]) {
    GroupCommit.flush(db);
    return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as typeof res.end;
}

export async function listenFirst(options: {
  readonly db: Db;
  readonly host: string;
  readonly port: number;
  readonly publicUrl: string | undefined;
  readonly cleanups: Cleanups;
}): Promise<Listening> {
  const { db, host, port, cleanups } = options;
  let router: Router | null = null;
  const server: Server = createServer((req, res) => {
    commitBeforeAnswering(res, db);
    if (!router) {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end(JSON.stringify({ error: 'starting', message: 'the runtime is starting' }));
      return;
    }
    void router.handle(req, res);
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
  cleanups.add(
    () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  );
  const actualPort = (server.address() as AddressInfo).port;
  const internalUrl = `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${actualPort}`;
  const url = (options.publicUrl ?? internalUrl).replace(/\/+$/, '');
  return {
    server,
    port: actualPort,
    internalUrl,
    url,
    route: (next) => {
      router = next;
    },
  };
}
