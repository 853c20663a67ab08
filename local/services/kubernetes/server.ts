import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { dirname } from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { SteplineError } from '../../../core/errors';
import { Authorizer, type DenyRule, type UserInfo } from './auth';
import { type ControllerOptions, WorkloadControllers } from './controllers';
import { isObject, type Json, type JsonObject } from './fields';
import { GarbageCollector } from './garbage';
import { ResourceApi, type Target } from './handlers';
import { OpenApiDocuments } from './openapi';
import { groupDocument, ResourceRegistry } from './resources';
import { StatusError } from './status';
import { ObjectStore, type StoreSnapshot } from './store';
import { wantsTable } from './table';
import { generateCertificates, type ServerCertificates } from './tls';
import { WatchHub, type WatchOptions } from './watch';

/**
 * A simulated Kubernetes API server for tests and the local runtime: HTTPS on 127.0.0.1 with a CA of its own,
 * bearer tokens, deny rules worded like RBAC's, discovery, CRUD, server-side apply with managedFields and
 * conflicts, and controllers that roll Deployments, StatefulSets and DaemonSets out step by step.
 * `@kubernetes/client-node` and kubectl talk to it unchanged.
 *
 * ```ts
 * const cluster = new SimulatedKubernetes({ tickMs: 20, timeScale: 0.01 });
 * await cluster.start();
 * await cluster.writeKubeconfig('/tmp/kubeconfig');   // then KUBECONFIG=/tmp/kubeconfig kubectl get deploy -A
 * await cluster.stop();
 * ```
 */
export interface SimulatedKubernetesOptions extends ControllerOptions, WatchOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  readonly port?: number;
  /** Tokens accepted besides `adminToken`, with the user each authenticates. */
  readonly tokens?: Readonly<Record<string, UserInfo>>;
  /** Reuse certificates (generating a CA takes about a second). Default: new ones. */
  readonly certificates?: ServerCertificates;
  /** Namespaces that exist from the start, besides default, kube-system and kube-public. */
  readonly namespaces?: readonly string[];
  /**
   * A JSON file that keeps the objects across restarts: read at construction when it exists, written (whole,
   * through a temporary file and a rename, off the event loop) `saveDelayMs` after a change, and at `stop()`;
   * only the objects that changed are serialized again.
   * Default: none, the objects live in memory only.
   */
  readonly stateFile?: string;
  /** Default 250. */
  readonly saveDelayMs?: number;
}

/** Why the state file of the simulated API server cannot be read. */
export class ClusterStateError extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ClusterStateError';
  }
}

/** One request, as the server records it (never a body or a header). */
export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly verb: string;
  readonly user: string;
  readonly status: number;
  readonly fieldManager?: string;
  readonly contentType?: string;
  /** The warnings answered (`unknown field "spec.x"`: a field the server dropped), never a value. */
  readonly warnings?: readonly string[];
}

const MAX_BODY = 8 * 1024 * 1024;
const MAX_RECORDS = 2000;

export class SimulatedKubernetes {
  public readonly registry = new ResourceRegistry();
  public readonly store = new ObjectStore(this.registry);
  public readonly authorizer = new Authorizer();
  public readonly controllers: WorkloadControllers;
  /** The open watches, and the window of changes they replay from. */
  public readonly watches: WatchHub;
  private readonly api: ResourceApi;
  private readonly openapi = new OpenApiDocuments(this.registry, this.store);
  /** A token of user `admin` (group system:masters), always accepted. */
  public readonly adminToken = randomBytes(24).toString('base64url');
  /** The requests served, oldest first (at most 2000). */
  public readonly requests: RequestRecord[] = [];
  private readonly certificates: ServerCertificates;
  private server: Server | null = null;
  private listeningPort = 0;
  private readonly sockets = new Set<Socket>();
  private saveTimer: NodeJS.Timeout | null = null;
  private dirty = false;
  private writing: Promise<void> = Promise.resolve();
  /** Bumped by every write; a background write renames its file only if no write began after it. */
  private generation = 0;
  /** Background writes begun and not ended. */
  private pending = 0;
  /** Objects of the state file whose types are not served any more (a CRD's resource without the CRD). */
  public readonly forgotten: readonly string[] = [];

  public constructor(private readonly options: SimulatedKubernetesOptions = {}) {
    this.certificates = options.certificates ?? generateCertificates();
    this.controllers = new WorkloadControllers(this.store, this.registry, options);
    this.watches = new WatchHub(this.store, options);
    this.api = new ResourceApi(
      this.store,
      this.registry,
      this.authorizer,
      new GarbageCollector(this.store, this.registry),
    );
    this.authorizer.addToken(this.adminToken, { name: 'admin', groups: ['system:masters', 'system:authenticated'] });
    for (const [token, user] of Object.entries(options.tokens ?? {})) this.authorizer.addToken(token, user);
    const namespaceType = this.registry.byKind('', 'v1', 'Namespace')!;
    for (const name of ['default', 'kube-system', 'kube-public', ...(options.namespaces ?? [])]) {
      this.store.create(
        namespaceType,
        undefined,
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
        { fieldManager: 'kube-apiserver' },
      );
    }
    const file = options.stateFile;
    if (file) {
      if (existsSync(file)) this.forgotten = this.store.restore(readState(file));
      this.store.onChange(() => this.scheduleSave(file));
    }
  }

  private scheduleSave(file: string): void {
    this.dirty = true;
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      if (!this.dirty) return;
      this.dirty = false;
      // Only the changed objects are serialized again; the file is written off the event loop, one write at a time.
      const text = this.store.serialize();
      const generation = ++this.generation;
      this.pending++;
      this.writing = this.writing
        .then(() => writeAtomically(file, text, () => generation === this.generation))
        .catch(() => {})
        .finally(() => {
          this.pending--;
        });
    }, this.options.saveDelayMs ?? 250);
    this.saveTimer.unref();
  }

  /**
   * Writes the state file now, synchronously, when anything changed since the last write or a background write is
   * still under way: when it returns, every object the server has answered for is on disk (the runtime calls it
   * before a deploy's answer is recorded, docs/adr/0089). A background write begun before it is dropped, never
   * renamed over this one.
   */
  public save(file = this.options.stateFile): void {
    if (!file || (!this.dirty && this.pending === 0)) return;
    this.dirty = false;
    this.generation++;
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, this.store.serialize(), { mode: 0o600 });
    renameSync(temporary, file);
  }

  /** The PEM of the CA that signed the serving certificate. */
  public get caPem(): string {
    return this.certificates.caPem;
  }

  public get port(): number {
    return this.listeningPort;
  }

  /** `https://127.0.0.1:<port>`. */
  public get url(): string {
    return `https://127.0.0.1:${this.listeningPort}`;
  }

  public async start(): Promise<void> {
    if (this.server) return;
    const server = createServer({ key: this.certificates.keyPem, cert: this.certificates.certPem }, (req, res) => {
      const drop = this.dropped.findIndex((matches) => matches(req.method ?? 'GET', req.url ?? '/'));
      if (drop >= 0) {
        this.dropped.splice(drop, 1);
        req.socket.destroy();
        return;
      }
      void this.handle(req, res);
    });
    // Every socket, handshakes included, so that stop() ends a watch a client opened while the server stopped.
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.listeningPort = (server.address() as AddressInfo).port;
    this.controllers.start();
  }

  public async stop(): Promise<void> {
    this.controllers.stop();
    this.watches.closeAll();
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    await this.writing;
    this.save();
    const server = this.server;
    this.server = null;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
      for (const socket of this.sockets) socket.destroy();
    });
  }

  public addToken(token: string, user: UserInfo): void {
    this.authorizer.addToken(token, user);
  }

  /** Denies what the rule matches, with the API server's 403. */
  public deny(rule: DenyRule): void {
    this.authorizer.deny(rule);
  }

  public clearDenials(): void {
    this.authorizer.clearDenials();
  }

  /** Decides which images ever become ready (default: those whose reference does not contain `never-ready`). */
  public setImageReadiness(isReady: (image: string) => boolean): void {
    this.controllers.isReady = isReady;
  }

  /** One controller step now (the timer makes them every `tickMs`). */
  public tick(): void {
    this.controllers.tick();
  }

  /** Reads an object straight from the store; null when absent. */
  public object(apiVersion: string, kind: string, namespace: string | undefined, name: string): JsonObject | null {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    const type = this.registry.byKind(group!, version!, kind);
    return type ? this.store.find(type, namespace, name) : null;
  }

  /** A kubeconfig (YAML) that points at this server, pins its CA and uses `token` (default: the admin token). */
  public kubeconfig(
    options: { token?: string; user?: string; namespace?: string; context?: string; caPem?: string } = {},
  ): string {
    const context = options.context ?? 'stepline-simulated';
    const user = options.user ?? 'admin';
    const contextEntry: Record<string, string> = { cluster: 'stepline-simulated', user };
    if (options.namespace) contextEntry['namespace'] = options.namespace;
    return stringifyYaml({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'stepline-simulated',
          cluster: {
            server: this.url,
            'certificate-authority-data': Buffer.from(options.caPem ?? this.caPem).toString('base64'),
          },
        },
      ],
      users: [{ name: user, user: { token: options.token ?? this.adminToken } }],
      contexts: [{ name: context, context: contextEntry }],
      'current-context': context,
    });
  }

  /** Writes `kubeconfig(options)` to a file (mode 0600), creating its folder; returns the path. */
  public async writeKubeconfig(
    path: string,
    options: Parameters<SimulatedKubernetes['kubeconfig']>[0] = {},
  ): Promise<string> {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, this.kubeconfig(options), { mode: 0o600 });
    return path;
  }

  private readonly requestListeners: ((entry: RequestRecord) => void)[] = [];
  private readonly dropped: ((method: string, url: string) => boolean)[] = [];

  /**
   * The next request that `matches` (method, URL) finds its connection closed, unanswered: what a client sees when
   * a kept-alive connection it reuses was closed by the server (its keep-alive timeout) as the request went out.
   */
  public dropConnectionOnNext(matches: (method: string, url: string) => boolean): void {
    this.dropped.push(matches);
  }

  /** Tells `listener` of every request once it has been served (tests act at an exact point of a deploy). */
  public onRequest(listener: (entry: RequestRecord) => void): () => void {
    this.requestListeners.push(listener);
    return () => this.requestListeners.splice(this.requestListeners.indexOf(listener), 1);
  }

  private record(entry: RequestRecord): void {
    for (const listener of [...this.requestListeners]) listener(entry);
    this.requests.push(entry);
    if (this.requests.length > MAX_RECORDS) this.requests.splice(0, this.requests.length - MAX_RECORDS);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const method = req.method ?? 'GET';
    let user = '';
    let verb = '';
    let fieldManager: string | undefined;
    const recordServed = (status: number, warnings: readonly string[] = []): void => {
      const entry: RequestRecord = { method, path: url.pathname, verb, user, status };
      const contentTypeHeader = req.headers['content-type'];
      this.record({
        ...entry,
        ...(fieldManager ? { fieldManager } : {}),
        ...(contentTypeHeader ? { contentType: contentTypeHeader } : {}),
        ...(warnings.length > 0 ? { warnings } : {}),
      });
    };
    const send = (
      status: number,
      body: Json | string | Buffer,
      contentType = 'application/json',
      warnings: readonly string[] = [],
    ): void => {
      const text = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
      const headers: Record<string, string | string[]> = {
        'Content-Type': contentType,
        'Content-Length': String(Buffer.byteLength(text)),
      };
      // RFC 7234 warnings, as the API server sends them for unknown fields it dropped.
      if (warnings.length > 0) headers['Warning'] = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
      res.writeHead(status, headers);
      res.end(text);
      recordServed(status, warnings);
    };
    try {
      if (['/healthz', '/livez', '/readyz'].includes(url.pathname)) {
        send(200, 'ok', 'text/plain');
        return;
      }
      const identity = await this.authorizer.authenticate(req.headers.authorization);
      user = identity.name;
      const body = await readBody(req);
      const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
      if (segments[0] === 'openapi') {
        verb = 'get';
        const document = this.openapi.serve(segments, req.headers.accept);
        send(200, document.body, document.contentType);
        return;
      }
      const discovery = this.discovery(segments);
      if (discovery !== undefined) {
        verb = 'get';
        if (discovery === null)
          throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
        send(200, discovery);
        return;
      }
      const target = this.resolve(segments);
      verb = verbOf(method, target.name, url.searchParams.get('watch'));
      this.authorizer.authorize({
        user: identity,
        verb,
        group: target.type.group,
        resource: target.subresource ? `${target.type.plural}/${target.subresource}` : target.type.plural,
        ...(target.namespace !== undefined ? { namespace: target.namespace } : {}),
        ...(target.name !== undefined ? { name: target.name } : {}),
      });
      if (verb === 'watch') {
        this.watches.serve(req, res, target, url.searchParams, wantsTable(req.headers.accept));
        recordServed(200);
        return;
      }
      fieldManager = url.searchParams.get('fieldManager') ?? userAgentManager(req.headers['user-agent']);
      const result = this.api.serve({
        method,
        target,
        query: url.searchParams,
        headers: req.headers,
        body,
        fieldManager,
        user: identity,
      });
      send(result.status, result.body, result.contentType, result.warnings);
    } catch (error) {
      if (error instanceof StatusError) {
        send(error.code, error.toStatus() as Json);
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      send(500, new StatusError(500, 'InternalError', `Internal error occurred: ${message}`).toStatus() as Json);
    }
  }

  /** Discovery documents; undefined when the path is not a discovery path, null when it is one not served. */
  private discovery(segments: string[]): Json | null | undefined {
    const path = segments.join('/');
    if (path === 'version') {
      return {
        major: '1',
        minor: '30',
        gitVersion: 'v1.30.0-stepline',
        gitCommit: '0000000000000000000000000000000000000000',
        gitTreeState: 'clean',
        buildDate: '2024-04-17T00:00:00Z',
        goVersion: 'go1.22.2',
        compiler: 'gc',
        platform: 'linux/amd64',
      };
    }
    if (path === 'api') {
      return {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${this.port}` }],
      };
    }
    if (path === 'apis') return this.registry.groupList() as Json;
    if (segments[0] === 'api' && segments.length === 2)
      return this.registry.resourceList('', segments[1]!) as Json | null;
    if (segments[0] === 'apis' && segments.length === 2) {
      const versions = this.registry.groups().get(segments[1]!);
      return versions ? (groupDocument(segments[1]!, versions) as Json) : null;
    }
    if (segments[0] === 'apis' && segments.length === 3)
      return this.registry.resourceList(segments[1]!, segments[2]!) as Json | null;
    if (segments[0] !== 'api' && segments[0] !== 'apis') return null;
    return undefined;
  }

  private resolve(segments: string[]): Target {
    const notServed = new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    let group: string;
    let version: string;
    let rest: string[];
    if (segments[0] === 'api') {
      group = '';
      version = segments[1]!;
      rest = segments.slice(2);
    } else {
      group = segments[1]!;
      version = segments[2]!;
      rest = segments.slice(3);
    }
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3 && this.registry.byPlural(group, version, rest[2]!)?.namespaced) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const type = this.registry.byPlural(group, version, rest[0] ?? '');
    if (!type || rest.length > 3) throw notServed;
    const [, name, subresource] = rest;
    if (subresource !== undefined && !(type.subresources as readonly string[]).includes(subresource)) throw notServed;
    if (type.namespaced && namespace === undefined && name !== undefined) throw notServed;
    if (!type.namespaced && namespace !== undefined) throw notServed;
    return {
      type,
      ...(namespace !== undefined ? { namespace } : {}),
      ...(name !== undefined ? { name } : {}),
      ...(subresource !== undefined ? { subresource } : {}),
    };
  }
}

function verbOf(method: string, name: string | undefined, watch: string | null): string {
  switch (method) {
    case 'GET':
      if (watch === 'true' || watch === '1') return 'watch';
      return name === undefined ? 'list' : 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return name === undefined ? 'deletecollection' : 'delete';
    default:
      return method.toLowerCase();
  }
}

/** The default field manager of an update, as the API server derives it: the user agent's first word. */
function userAgentManager(userAgent: string | undefined): string {
  const first = (userAgent ?? 'unknown').split('/')[0]!.trim();
  return first.slice(0, 128) || 'unknown';
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new StatusError(413, 'RequestEntityTooLarge', 'the request body is too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function readState(file: string): StoreSnapshot {
  let snapshot: unknown;
  try {
    snapshot = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new ClusterStateError(
      `the simulated cluster's state file ${file} cannot be read (${(cause as Error).message}); remove it to start with an empty cluster`,
      { cause },
    );
  }
  if (!isObject(snapshot) || snapshot['format'] !== 1 || !Array.isArray(snapshot['objects'])) {
    throw new ClusterStateError(
      `the simulated cluster's state file ${file} is not a state this version writes (format 1 with objects); remove it to start with an empty cluster`,
    );
  }
  return snapshot as unknown as StoreSnapshot;
}

/** Writes `file` through a temporary file; renames it in place only while `current()` (no later write began). */
async function writeAtomically(file: string, text: string, current: () => boolean): Promise<void> {
  const temporary = `${file}.${process.pid}.async.tmp`;
  await writeFile(temporary, text, { mode: 0o600 });
  // Checked and renamed in one turn of the event loop: a synchronous save cannot come in between.
  if (current()) renameSync(temporary, file);
  else await rm(temporary, { force: true });
}
