import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { SteplineError } from '../../../core/errors';
import { Authorizer, type DenyRule, type UserInfo } from './auth';
import { type ControllerOptions, WorkloadControllers } from './controllers';
import { isObject, type Json, type JsonObject } from './fields';
import { groupDocument, ResourceRegistry, type ResourceType } from './resources';
import { badRequest, StatusError, success } from './status';
import { ObjectStore, type StoreSnapshot } from './store';
import { toTable, wantsTable } from './table';
import { generateCertificates, type ServerCertificates } from './tls';

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
export interface SimulatedKubernetesOptions extends ControllerOptions {
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
}

const MAX_BODY = 8 * 1024 * 1024;
const MAX_RECORDS = 2000;

export class SimulatedKubernetes {
  public readonly registry = new ResourceRegistry();
  public readonly store = new ObjectStore(this.registry);
  public readonly authorizer = new Authorizer();
  public readonly controllers: WorkloadControllers;
  /** A token of user `admin` (group system:masters), always accepted. */
  public readonly adminToken = randomBytes(24).toString('base64url');
  /** The requests served, oldest first (at most 2000). */
  public readonly requests: RequestRecord[] = [];
  private readonly certificates: ServerCertificates;
  private server: Server | null = null;
  private listeningPort = 0;
  private saveTimer: NodeJS.Timeout | null = null;
  private dirty = false;
  private writing: Promise<void> = Promise.resolve();
  /** Objects of the state file whose types are not served any more (a CRD's resource without the CRD). */
  public readonly forgotten: readonly string[] = [];

  public constructor(private readonly options: SimulatedKubernetesOptions = {}) {
    this.certificates = options.certificates ?? generateCertificates();
    this.controllers = new WorkloadControllers(this.store, this.registry, options);
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
      this.writing = this.writing.then(() => writeAtomically(file, text)).catch(() => {});
    }, this.options.saveDelayMs ?? 250);
    this.saveTimer.unref();
  }

  /** Writes the state file now, when anything changed since the last write. */
  public save(file = this.options.stateFile): void {
    if (!file || !this.dirty) return;
    this.dirty = false;
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, this.store.serialize());
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
      void this.handle(req, res);
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
    const send = (status: number, body: Json | string, contentType = 'application/json'): void => {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
      const entry: RequestRecord = { method, path: url.pathname, verb, user, status };
      const contentTypeHeader = req.headers['content-type'];
      this.record({
        ...entry,
        ...(fieldManager ? { fieldManager } : {}),
        ...(contentTypeHeader ? { contentType: contentTypeHeader } : {}),
      });
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
      fieldManager = url.searchParams.get('fieldManager') ?? userAgentManager(req.headers['user-agent']);
      const result = this.serve(method, target, url.searchParams, req.headers, body, fieldManager);
      send(result.status, result.body);
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
    if (segments[0] === 'openapi') return null;
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

  private resolve(segments: string[]): { type: ResourceType; namespace?: string; name?: string; subresource?: string } {
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
    if (subresource !== undefined && !type.subresources.includes(subresource as 'status')) throw notServed;
    if (type.namespaced && namespace === undefined && name !== undefined) throw notServed;
    if (!type.namespaced && namespace !== undefined) throw notServed;
    return {
      type,
      ...(namespace !== undefined ? { namespace } : {}),
      ...(name !== undefined ? { name } : {}),
      ...(subresource !== undefined ? { subresource } : {}),
    };
  }

  private serve(
    method: string,
    target: { type: ResourceType; namespace?: string; name?: string; subresource?: string },
    query: URLSearchParams,
    headers: IncomingMessage['headers'],
    body: string,
    fieldManager: string,
  ): { status: number; body: Json } {
    const { type, namespace, name, subresource } = target;
    const dryRun = query.get('dryRun') === 'All';
    const table = wantsTable(headers.accept);
    if (method === 'GET') {
      if (query.get('watch') === 'true' || query.get('watch') === '1') {
        throw new StatusError(405, 'MethodNotAllowed', 'watch is not supported by the simulated API server');
      }
      if (name !== undefined) {
        const object = this.store.get(type, namespace, name);
        return { status: 200, body: table ? toTable(type, [object], this.store.currentResourceVersion()) : object };
      }
      const items = this.store.list(
        type,
        namespace,
        query.get('labelSelector') ?? undefined,
        query.get('fieldSelector') ?? undefined,
      );
      if (table) return { status: 200, body: toTable(type, items, this.store.currentResourceVersion()) };
      return {
        status: 200,
        body: {
          kind: `${type.kind}List`,
          apiVersion: type.group ? `${type.group}/${type.version}` : type.version,
          metadata: { resourceVersion: this.store.currentResourceVersion() },
          items,
        },
      };
    }
    if (method === 'POST' && name === undefined) {
      return { status: 201, body: this.store.create(type, namespace, parseJson(body), { fieldManager, dryRun }) };
    }
    if (name === undefined)
      throw new StatusError(405, 'MethodNotAllowed', `${method} is not supported on a collection`);
    if (method === 'DELETE') {
      const deleted = this.store.delete(type, namespace, name);
      return {
        status: 200,
        body: success({
          name,
          group: type.group,
          kind: type.plural,
          uid: (deleted['metadata'] as JsonObject)['uid'] ?? null,
        }) as Json,
      };
    }
    if (subresource === 'status') {
      const current = this.store.get(type, namespace, name);
      let status: Json | undefined;
      if (method === 'PUT') status = parseJson(body)['status'];
      else if (method === 'PATCH') status = (mergePatch(current, parseJson(body)) as JsonObject)['status'];
      else throw new StatusError(405, 'MethodNotAllowed', `${method} is not supported on status`);
      return {
        status: 200,
        body: this.store.writeStatus(type, namespace, name, isObject(status) ? status : {}, fieldManager),
      };
    }
    if (method === 'PUT')
      return { status: 200, body: this.store.update(type, namespace, name, parseJson(body), { fieldManager, dryRun }) };
    if (method === 'PATCH') {
      const contentType = String(headers['content-type'] ?? '')
        .split(';')[0]!
        .trim();
      if (contentType === 'application/apply-patch+yaml') {
        if (!query.get('fieldManager'))
          throw badRequest('PATCH requests for server-side apply must have a fieldManager');
        let applied: unknown;
        try {
          applied = parseYaml(body);
        } catch (error) {
          throw badRequest(`error decoding YAML: ${error instanceof Error ? error.message : String(error)}`);
        }
        if (!isObject(applied)) throw badRequest('the applied configuration must be an object');
        const force = query.get('force') === 'true';
        const result = this.store.apply(type, namespace, name, applied, { fieldManager, force, dryRun });
        return { status: result.created ? 201 : 200, body: result.object };
      }
      const current = this.store.get(type, namespace, name);
      let next: Json;
      if (contentType === 'application/merge-patch+json' || contentType === 'application/strategic-merge-patch+json') {
        next = mergePatch(current, parseJson(body));
      } else if (contentType === 'application/json-patch+json') {
        next = jsonPatch(current, parseJsonValue(body));
      } else {
        throw new StatusError(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
        );
      }
      const patched = next as JsonObject;
      if (isObject(patched['metadata'])) delete patched['metadata']['resourceVersion'];
      return { status: 200, body: this.store.update(type, namespace, name, patched, { fieldManager, dryRun }) };
    }
    throw new StatusError(405, 'MethodNotAllowed', `${method} is not supported`);
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

function parseJsonValue(body: string): Json {
  try {
    return JSON.parse(body) as Json;
  } catch (error) {
    throw badRequest(`error decoding the request body: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function parseJson(body: string): JsonObject {
  const value = parseJsonValue(body);
  if (!isObject(value)) throw badRequest('the request body must be a JSON object');
  return value;
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const result: JsonObject = isObject(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key] ?? null, value);
  }
  return result;
}

/** RFC 6902 JSON patch: add, replace, remove, test. */
function jsonPatch(target: JsonObject, operations: Json): Json {
  if (!Array.isArray(operations)) throw badRequest('a JSON patch must be a list of operations');
  const document = structuredClone(target) as Json;
  for (const op of operations) {
    if (!isObject(op) || typeof op['path'] !== 'string') throw badRequest('invalid JSON patch operation');
    const steps = op['path']
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = steps.pop();
    let parent: Json = document;
    for (const step of steps) {
      parent = Array.isArray(parent)
        ? (parent[Number(step)] ?? null)
        : isObject(parent)
          ? (parent[step] ?? null)
          : null;
    }
    if (last === undefined || parent === null || typeof parent !== 'object')
      throw badRequest(`JSON patch path ${op['path']} does not exist`);
    const container = parent as JsonObject | Json[];
    if (op['op'] === 'test') {
      const actual = Array.isArray(container) ? container[Number(last)] : container[last];
      if (JSON.stringify(actual) !== JSON.stringify(op['value']))
        throw new StatusError(422, 'Invalid', `JSON patch test failed at ${op['path']}`);
    } else if (op['op'] === 'remove') {
      if (Array.isArray(container)) container.splice(Number(last), 1);
      else delete container[last];
    } else if (op['op'] === 'add' || op['op'] === 'replace') {
      const value = structuredClone(op['value'] ?? null);
      if (Array.isArray(container)) {
        if (op['op'] === 'add') container.splice(last === '-' ? container.length : Number(last), 0, value);
        else container[Number(last)] = value;
      } else {
        container[last] = value;
      }
    } else {
      throw badRequest(`unsupported JSON patch operation ${String(op['op'])}`);
    }
  }
  return document;
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

async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.async.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, file);
}
