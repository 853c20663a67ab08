import { createHash } from 'node:crypto';
import type * as http from 'node:http';
import * as https from 'node:https';
import {
  ApiException,
  createConfiguration,
  type KubeConfig,
  KubernetesObjectApi,
  type KubernetesObject as LibraryObject,
  PatchStrategy,
  ServerConfiguration,
} from '@kubernetes/client-node';
import type { ChangeKind } from '../../core/deploy/contracts';
import { ClusterLookupFailed, KubernetesRejected } from '../../core/deploy/errors';
import type { ApplyOptions, ApplyOutcome, ClusterClient } from '../../core/deploy/ports';
import type { KubernetesObject, ObjectRef } from '../../core/deploy/types';
import { errorCode, toKubernetesError } from './errors';

/**
 * The deployer's cluster client on @kubernetes/client-node's `KubernetesObjectApi`: server-side apply, reads
 * and kind discovery, every request bounded by a timeout, every failure turned into the deployer's errors.
 *
 * Two things about the library that this class works around:
 * - `KubernetesObjectApi.patch` serializes the object through the library's typed models, which silently
 *   drops every field the models do not know (a field newer than the library, a typo that the API server
 *   should have refused). A middleware puts the exact JSON of the object back into the body of the apply.
 * - The API's discovery cache lives in the instance: one instance is kept per cluster connection so that
 *   discovery (one GET per group version) happens once, not before every apply.
 * - The library makes a new `https.Agent` for every request (`KubeConfig.applySecurityAuthentication`), so every
 *   request opens a new connection and makes a new TLS handshake: about 10 ms each against a local API server, a
 *   dozen per deploy. The same middleware swaps it for a keep-alive agent with the same TLS options (CA, client
 *   certificate, server name, verification), made once per set of options (docs/adr/0086).
 */
export interface ClusterClientOptions {
  /** Milliseconds a request may take. Default 30,000. */
  readonly timeoutMs?: number;
  /** Who Stepline is to the cluster, for the hints in 401/403 messages. */
  readonly identity?: string;
  /** After a CRD is applied, how long its custom resources may wait for the kind to be served. Default 10,000. */
  readonly crdWaitMs?: number;
}

class ObjectApi extends KubernetesObjectApi {
  /** The discovery entry of a kind; null when the group version or the kind is not served. */
  public async describe(apiVersion: string, kind: string): Promise<{ namespaced: boolean; plural: string } | null> {
    try {
      const resource = await this.resource(apiVersion, kind);
      return resource ? { namespaced: resource.namespaced, plural: resource.name } : null;
    } catch (error) {
      if (error instanceof ApiException && Number(error.code) === 404) return null;
      throw error;
    }
  }

  /** Forgets discovery of one group version (after a CRD adds a kind to it). */
  public forget(apiVersion: string): void {
    delete this.apiVersionResourceCache[apiVersion];
  }
}

export class KubernetesClusterClient implements ClusterClient {
  private readonly api: ObjectApi;
  private readonly server: string;
  private readonly identity: string | undefined;
  private readonly crdWaitMs: number;
  /** Bodies to send as they are, by request URL (see the class comment). */
  private readonly exactBodies = new Map<string, string>();
  private crdsApplied = false;
  private readonly agents = new KeepAliveAgents();

  public constructor(kubeConfig: KubeConfig, options: ClusterClientOptions = {}) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new ClusterLookupFailed('The kubeconfig has no current cluster');
    this.server = cluster.server;
    this.identity = options.identity;
    this.crdWaitMs = options.crdWaitMs ?? 10_000;
    const timeoutMs = options.timeoutMs ?? 30_000;
    const exactBodies = this.exactBodies;
    const agents = this.agents;
    const configuration = createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: kubeConfig },
      promiseMiddleware: [
        {
          pre: async (context) => {
            context.setSignal(AbortSignal.timeout(timeoutMs));
            const agent = agents.reuse(context.getAgent());
            if (agent) context.setAgent(agent);
            const exact = exactBodies.get(withoutQuery(context.getUrl()));
            if (exact !== undefined && context.getHttpMethod() === 'PATCH') context.setBody(exact);
            return context;
          },
          post: async (response) => response,
        },
      ],
    });
    this.api = new ObjectApi(configuration);
  }

  private context(action: string, object?: ObjectRef) {
    return {
      action,
      server: this.server,
      ...(object ? { object } : {}),
      ...(this.identity ? { identity: this.identity } : {}),
    };
  }

  public async scopeOf(apiVersion: string, kind: string): Promise<boolean | null> {
    try {
      return (await onceMore(this.agents, () => this.api.describe(apiVersion, kind)))?.namespaced ?? null;
    } catch (error) {
      throw toKubernetesError(error, this.context(`discover ${kind} in ${apiVersion}`));
    }
  }

  public async get(ref: ObjectRef): Promise<KubernetesObject | null> {
    try {
      const header = {
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
      };
      return toPlain(await onceMore(this.agents, () => this.api.read(header)));
    } catch (error) {
      if (error instanceof ApiException && Number(error.code) === 404) return null;
      throw toKubernetesError(error, this.context('read', ref));
    }
  }

  public async apply(object: KubernetesObject, options: ApplyOptions): Promise<ApplyOutcome> {
    const ref: ObjectRef = {
      apiVersion: object.apiVersion,
      kind: object.kind,
      name: object.metadata.name,
      ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
    };
    if (this.crdsApplied) await this.awaitKind(ref);
    const before = await this.get(ref);
    const url = await this.urlOf(object, ref);
    const body = JSON.stringify(object);
    this.exactBodies.set(url, body);
    let applied: LibraryObject;
    try {
      // A server-side apply of the same object is idempotent: it may go again on a fresh connection.
      applied = await onceMore(this.agents, () =>
        this.api.patch(
          structuredClone(object) as LibraryObject,
          undefined,
          undefined,
          options.fieldManager,
          options.force,
          PatchStrategy.ServerSideApply,
        ),
      );
    } catch (error) {
      throw toKubernetesError(error, this.context('apply', ref));
    } finally {
      this.exactBodies.delete(url);
    }
    const result = toPlain(applied);
    if (object.kind === 'CustomResourceDefinition') this.crdsApplied = true;
    let change: ChangeKind = 'configured';
    if (!before) change = 'created';
    else if (before.metadata.resourceVersion === result.metadata.resourceVersion) change = 'unchanged';
    return { object: result, change };
  }

  /** The URL (without query) the library will PATCH for this object: the same path it builds. */
  private async urlOf(object: KubernetesObject, ref: ObjectRef): Promise<string> {
    let resource: { namespaced: boolean; plural: string } | null;
    try {
      resource = await onceMore(this.agents, () => this.api.describe(object.apiVersion, object.kind));
    } catch (error) {
      throw toKubernetesError(error, this.context('apply', ref));
    }
    if (!resource) {
      throw new KubernetesRejected(
        `The cluster does not serve ${ref.kind} in ${ref.apiVersion}: is its CustomResourceDefinition installed?`,
        {
          object: ref,
          status: 404,
        },
      );
    }
    const root = object.apiVersion.includes('/') ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`;
    const namespace = resource.namespaced && ref.namespace ? ['namespaces', encodeURIComponent(ref.namespace)] : [];
    const path = [root, ...namespace, resource.plural, encodeURIComponent(ref.name)].join('/').toLowerCase();
    return withoutQuery(`${this.server.replace(/\/$/, '')}${path}`);
  }

  /** After CRDs were applied: waits until the cluster serves the kind of a custom resource. */
  private async awaitKind(ref: ObjectRef): Promise<void> {
    const deadline = Date.now() + this.crdWaitMs;
    for (;;) {
      if ((await this.scopeOf(ref.apiVersion, ref.kind)) !== null) return;
      if (Date.now() >= deadline) return;
      this.api.forget(ref.apiVersion);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** Creates an object (a revision record); returns it. */
  public async create(object: KubernetesObject, fieldManager: string): Promise<KubernetesObject> {
    try {
      return toPlain(
        await this.api.create(structuredClone(object) as LibraryObject, undefined, undefined, fieldManager),
      );
    } catch (error) {
      throw toKubernetesError(error, this.context('create', refOfObject(object)));
    }
  }

  /** A JSON merge patch (labels of a revision record). */
  public async mergePatch(ref: ObjectRef, patch: Record<string, unknown>, fieldManager: string): Promise<void> {
    const metadata = {
      ...(patch['metadata'] as Record<string, unknown> | undefined),
      name: ref.name,
      ...(ref.namespace ? { namespace: ref.namespace } : {}),
    };
    const header = { ...patch, apiVersion: ref.apiVersion, kind: ref.kind, metadata };
    try {
      // A merge patch of labels is idempotent.
      await onceMore(this.agents, () =>
        this.api.patch(
          header as LibraryObject,
          undefined,
          undefined,
          fieldManager,
          undefined,
          PatchStrategy.MergePatch,
        ),
      );
    } catch (error) {
      throw toKubernetesError(error, this.context('patch', ref));
    }
  }

  public async list(
    apiVersion: string,
    kind: string,
    namespace: string,
    labelSelector: string,
  ): Promise<KubernetesObject[]> {
    try {
      const list = await onceMore(this.agents, () =>
        this.api.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector),
      );
      return list.items.map(toPlain);
    } catch (error) {
      if (error instanceof ApiException && Number(error.code) === 404) return [];
      throw toKubernetesError(error, this.context(`list ${kind} in ${namespace}`));
    }
  }

  public async delete(ref: ObjectRef): Promise<void> {
    try {
      const header = {
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
      };
      // A delete that reached the server before the connection closed answers 404 the second time: done.
      await onceMore(this.agents, () => this.api.delete(header));
    } catch (error) {
      if (error instanceof ApiException && Number(error.code) === 404) return;
      throw toKubernetesError(error, this.context('delete', ref));
    }
  }
}

type RequestAgent = http.Agent | https.Agent | undefined;

/**
 * A kept connection the server has closed while idle fails the next request on it with ECONNRESET or EPIPE (the
 * server's keep-alive timeout racing the request, or a Lambda environment thawed after its sockets went stale). The
 * agent then drops that socket: an idempotent request (a read, a list, a discovery, a server-side apply, a label merge patch,
 * a delete) goes once more, on a new connection, as the AWS SDK does for its own calls.
 */
const STALE_CONNECTION = new Set(['ECONNRESET', 'EPIPE']);

async function onceMore<T>(agents: KeepAliveAgents, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!STALE_CONNECTION.has(errorCode(error) ?? '')) throw error;
    // Its idle siblings waited as long as the socket that failed: the second try goes on a new connection.
    agents.dropIdle();
    return call();
  }
}

/** The TLS options of an agent that make a connection what it is: whom it trusts and who it says it is. */
const TLS_OPTIONS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'servername', 'rejectUnauthorized'] as const;

/**
 * Keep-alive agents in place of the library's one-request agents. A plain `https.Agent` (not a proxy's) is replaced
 * by a kept one with the same TLS options; new options (a client certificate renewed by an exec plugin, say) make
 * a new kept agent. Idle connections close before the server's keep-alive timeout
 * (node reads its `Keep-Alive: timeout` hint) and never hold the process open.
 */
class KeepAliveAgents {
  private kept: { readonly key: string; readonly agent: https.Agent } | null = null;

  public reuse(agent: RequestAgent): RequestAgent {
    if (!(agent instanceof https.Agent) || agent.constructor !== https.Agent) return agent;
    const options = (agent as https.Agent & { options: https.AgentOptions }).options;
    const hash = createHash('sha256');
    for (const name of TLS_OPTIONS) {
      const values = ([] as unknown[]).concat(options[name] ?? []);
      hash.update(`${name}:${values.length}\n`);
      for (const value of values) {
        if (Buffer.isBuffer(value) || typeof value === 'string') hash.update(value);
        else hash.update(JSON.stringify(value) ?? '');
        hash.update('\n');
      }
    }
    const key = hash.digest('hex');
    if (this.kept?.key !== key) {
      // The previous agent may still carry a request: its idle connections close on their own.
      const tls: https.AgentOptions = {};
      for (const name of TLS_OPTIONS) if (options[name] !== undefined) Object.assign(tls, { [name]: options[name] });
      this.kept = { key, agent: new https.Agent({ ...tls, keepAlive: true }) };
    }
    return this.kept.agent;
  }

  /** Closes the kept agent's idle connections (those carrying a request finish it). */
  public dropIdle(): void {
    const free = this.kept?.agent.freeSockets ?? {};
    for (const sockets of Object.values(free)) for (const socket of sockets ?? []) socket.destroy();
  }
}

function withoutQuery(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

function refOfObject(object: KubernetesObject): ObjectRef {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    name: object.metadata.name,
    ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
  };
}

/** The library returns typed instances with Date objects; the deployer works with plain JSON. */
function toPlain(object: LibraryObject): KubernetesObject {
  return JSON.parse(JSON.stringify(object)) as KubernetesObject;
}
