import type { IncomingMessage, ServerResponse } from 'node:http';
import { isObject, type JsonObject } from './fields';
import type { Target } from './handlers';
import { groupVersion, type ResourceType } from './resources';
import { matchesFields, matchesLabels, parseLabelSelector } from './selectors';
import { StatusError } from './status';
import type { ObjectStore, StoreEvent } from './store';
import { toTable } from './table';

/**
 * Watches (`?watch=1`), as the API server streams them: one JSON event per line (ADDED, MODIFIED, DELETED,
 * BOOKMARK, ERROR). Without a resourceVersion (or with "0") the watch starts with an ADDED event per existing
 * object; from a resourceVersion it replays the changes after it, kept in a window of the last `capacity`
 * changes: an older version answers the ERROR event with the 410 `Expired` Status that makes informers list
 * again. `allowWatchBookmarks=true` gets BOOKMARK events (every `bookmarkMs`, on `bookmark()`, and before a
 * `timeoutSeconds` ends the watch), `sendInitialEvents=true` ends its initial events with the bookmark annotated
 * `k8s.io/initial-events-end`. A Table watch (`kubectl get -w`) gets each object as a one-row Table.
 * See docs/reference/using-api/api-concepts/#efficient-detection-of-changes.
 */

export interface WatchOptions {
  /** Changes kept for watches from a resourceVersion. Default 2000. */
  readonly watchWindow?: number;
  /** Milliseconds between bookmarks. Default 60000 (the API server sends them about once a minute). */
  readonly bookmarkMs?: number;
}

interface Logged {
  readonly rv: number;
  readonly event: StoreEvent;
}

interface Watcher {
  readonly type: ResourceType;
  readonly namespace: string | undefined;
  readonly labels: ReturnType<typeof parseLabelSelector>;
  readonly fields: string | undefined;
  readonly table: boolean;
  readonly bookmarks: boolean;
  readonly res: ServerResponse;
  lastRv: number;
  timers: NodeJS.Timeout[];
}

function meta(object: JsonObject): JsonObject {
  return isObject(object['metadata']) ? object['metadata'] : {};
}

export class WatchHub {
  private readonly log: Logged[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly capacity: number;
  private readonly bookmarkMs: number;

  public constructor(
    private readonly store: ObjectStore,
    options: WatchOptions = {},
  ) {
    this.capacity = options.watchWindow ?? 2000;
    this.bookmarkMs = options.bookmarkMs ?? 60_000;
    store.onChange((event) => this.record(event));
  }

  /** The number of open watches. */
  public get open(): number {
    return this.watchers.size;
  }

  private record(event: StoreEvent): void {
    const rv = Number(meta(event.object)['resourceVersion']);
    this.log.push({ rv, event });
    if (this.log.length > this.capacity) this.log.splice(0, this.log.length - this.capacity);
    for (const watcher of this.watchers) this.deliver(watcher, event.type, event.object, event.resource, rv);
  }

  private matches(watcher: Watcher, resource: ResourceType, object: JsonObject): boolean {
    if (resource.group !== watcher.type.group || resource.plural !== watcher.type.plural) return false;
    const metadata = meta(object);
    if (watcher.type.namespaced && watcher.namespace && metadata['namespace'] !== watcher.namespace) return false;
    if (!matchesLabels(metadata['labels'] as Record<string, string> | undefined, watcher.labels)) return false;
    return !watcher.fields || matchesFields(object, watcher.fields);
  }

  private deliver(watcher: Watcher, type: string, object: JsonObject, resource: ResourceType, rv: number): void {
    if (!this.matches(watcher, resource, object)) return;
    const rendered = { ...object, apiVersion: groupVersion(watcher.type) };
    const body = watcher.table ? toTable(watcher.type, [rendered], String(rv)) : rendered;
    this.write(watcher, { type, object: body });
    watcher.lastRv = Math.max(watcher.lastRv, rv);
  }

  private write(watcher: Watcher, event: JsonObject): void {
    if (!watcher.res.writableEnded) watcher.res.write(`${JSON.stringify(event)}\n`);
  }

  private bookmarkOf(watcher: Watcher, annotations?: Record<string, string>): JsonObject {
    const metadata: JsonObject = {
      resourceVersion: String(Math.max(watcher.lastRv, Number(this.store.currentResourceVersion()))),
    };
    if (annotations) metadata['annotations'] = annotations;
    return { type: 'BOOKMARK', object: { kind: watcher.type.kind, apiVersion: groupVersion(watcher.type), metadata } };
  }

  /** Sends a BOOKMARK now to every watch that allows them. */
  public bookmark(): void {
    for (const watcher of this.watchers) if (watcher.bookmarks) this.write(watcher, this.bookmarkOf(watcher));
  }

  /** Ends every watch (the server stops). */
  public closeAll(): void {
    for (const watcher of [...this.watchers]) this.end(watcher);
  }

  private end(watcher: Watcher): void {
    for (const timer of watcher.timers) clearTimeout(timer);
    this.watchers.delete(watcher);
    if (!watcher.res.writableEnded) watcher.res.end();
  }

  /** Serves a watch request on `res`; the response stays open until the client or `timeoutSeconds` ends it. */
  public serve(
    req: IncomingMessage,
    res: ServerResponse,
    target: Target,
    query: URLSearchParams,
    table: boolean,
  ): void {
    const fieldSelector = [query.get('fieldSelector'), target.name ? `metadata.name=${target.name}` : null]
      .filter(Boolean)
      .join(',');
    const watcher: Watcher = {
      type: target.type,
      namespace: target.namespace,
      labels: parseLabelSelector(query.get('labelSelector') ?? ''),
      fields: fieldSelector || undefined,
      table,
      bookmarks: query.get('allowWatchBookmarks') === 'true',
      res,
      lastRv: 0,
      timers: [],
    };
    const since = query.get('resourceVersion') ?? '';
    const initial = query.get('sendInitialEvents') === 'true';
    let replay: Logged[] = [];
    if (since !== '' && since !== '0' && !initial) {
      const from = Number(since);
      if (!Number.isInteger(from)) throw new StatusError(400, 'BadRequest', `invalid resource version: "${since}"`);
      const current = Number(this.store.currentResourceVersion());
      const firstKept = this.log.length > 0 ? this.log[0]!.rv : current + 1;
      if (from + 1 < firstKept && from < current) {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
        const status = new StatusError(410, 'Expired', `too old resource version: ${from} (${firstKept - 1})`);
        res.end(`${JSON.stringify({ type: 'ERROR', object: status.toStatus() })}\n`);
        return;
      }
      replay = this.log.filter((entry) => entry.rv > from);
      watcher.lastRv = from;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    if (since === '' || since === '0' || initial) {
      const current = Number(this.store.currentResourceVersion());
      for (const object of this.store.list(target.type, target.namespace)) {
        this.deliver(watcher, 'ADDED', object, target.type, Number(meta(object)['resourceVersion']));
      }
      watcher.lastRv = current;
      if (initial) this.write(watcher, this.bookmarkOf(watcher, { 'k8s.io/initial-events-end': 'true' }));
    }
    for (const entry of replay)
      this.deliver(watcher, entry.event.type, entry.event.object, entry.event.resource, entry.rv);
    this.watchers.add(watcher);
    if (watcher.bookmarks) {
      const every = (): void => {
        this.write(watcher, this.bookmarkOf(watcher));
        watcher.timers.push(setTimeout(every, this.bookmarkMs).unref());
      };
      watcher.timers.push(setTimeout(every, this.bookmarkMs).unref());
    }
    const timeout = Number(query.get('timeoutSeconds') ?? '');
    if (Number.isFinite(timeout) && timeout > 0) {
      watcher.timers.push(
        setTimeout(() => {
          if (watcher.bookmarks) this.write(watcher, this.bookmarkOf(watcher));
          this.end(watcher);
        }, timeout * 1000).unref(),
      );
    }
    req.on('close', () => this.end(watcher));
  }
}
