import type { EventEmitter } from 'node:events';
import type { SqliteParkingStore } from '../../adapters/local/parking';
import { refusalText } from '../../core/approval/approvers';
import type { DrainSummary } from '../../core/intake/replay';
import type { HistoryEvent } from '../engine';
import type { BuildDocument, CodeBuildService } from '../services/codebuild';
import type { StatesService } from '../services/stepfunctions';
import type { BuildStore } from '../store/builds';
import type { ExecutionRecord, ExecutionStore } from '../store/executions';
import type { StatusStore } from '../store/statuses';
import { HttpError, type RouteContext, type Router, readJson, sendJson, sendText } from './http';
import { type ApprovalsPort, RunRefusedError, type RunsPort, type StartedRun } from './ports';

/**
 * The runtime's JSON API for the console and the CLI (`/api/...`): executions, their history, builds and their
 * logs, commit statuses of the local sink, approvals, parked deliveries, and a stream of what happens
 * (Server-Sent Events). Times are ISO-8601 strings; everything is read from the state file, so it answers the
 * same before and after a restart. See docs/adr/0052 for the list of routes and their shapes.
 */

export interface ApiDependencies {
  readonly states: StatesService;
  readonly executions: ExecutionStore;
  readonly builds: BuildStore;
  readonly codebuild: CodeBuildService;
  readonly statuses: StatusStore;
  readonly approvals: ApprovalsPort;
  readonly parking: SqliteParkingStore;
  /** Replays parked deliveries: one (by execution name) or all. */
  readonly replay: (name?: string) => Promise<DrainSummary>;
  readonly describe: () => unknown;
  /** Emits `event` with `{ type, ... }` for the stream. */
  readonly events: EventEmitter;
  /** Runs started by hand (`stepline run`, the console's Run and Re-run). */
  readonly runs?: RunsPort;
}

const REFUSED_STATUS: Readonly<Record<RunRefusedError['code'], number>> = {
  not_found: 404,
  invalid: 400,
  conflict: 409,
  ignored: 422,
};

/** A run by hand, started or refused, as the HTTP answer says it (a refusal names its reason). */
async function startedRun(
  start: () => Promise<StartedRun>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  try {
    const run = await start();
    return {
      status: run.outcome === 'started' ? 202 : 200,
      body: { status: run.outcome, executionArn: run.executionArn, name: run.name, input: run.input },
    };
  } catch (error) {
    if (error instanceof RunRefusedError) throw new HttpError(REFUSED_STATUS[error.code], error.code, error.message);
    throw error;
  }
}

function strings(value: unknown, name: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(list) || !list.every((v) => typeof v === 'string'))
    throw new HttpError(400, 'invalid_parameter', `${name} must be a list of names`);
  return list.map((v) => v.trim()).filter(Boolean);
}

/**
 * Runs by hand take JSON only: a page of another site cannot send `application/json` to the runtime without asking
 * first (a CORS preflight the runtime does not answer), so a form or a link elsewhere starts no run.
 */
function requireJson(req: { headers: Record<string, string | string[] | undefined> }): void {
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    ?.trim()
    .toLowerCase();
  if (type !== 'application/json')
    throw new HttpError(415, 'unsupported_media_type', 'send the run as JSON (content-type: application/json)');
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

/**
 * Who starts a run by hand: the runtime's one identity, as for a decision (ADR 0087). The run's sender may not
 * approve its gates, so a name the request gives could open a gate to its own author: `by` may only say who the
 * caller believes the identity is, and is refused when it is someone else.
 */
function starter(body: Record<string, unknown>, identity: string): string {
  const by = text(body['by']);
  if (by && by !== identity) {
    throw new HttpError(
      403,
      'forbidden',
      `this runtime starts runs as ${identity}, not ${by}: start it with --as ${by}, or change the identity in the console's header`,
    );
  }
  return identity;
}

function iso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

function parse(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function executionSummary(record: ExecutionRecord): Record<string, unknown> {
  return {
    executionArn: record.arn,
    name: record.name,
    stateMachineArn: record.stateMachineArn,
    status: record.status,
    startDate: iso(record.startDate),
    stopDate: iso(record.stopDate),
    repository: record.repository,
    error: record.error,
    cause: record.cause,
    redriveCount: record.redriveCount,
    redriveDate: iso(record.redriveDate),
    eventCount: record.eventCount,
  };
}

export function eventJson(event: HistoryEvent): Record<string, unknown> {
  return { ...event, timestamp: event.timestamp.toISOString() };
}

export function buildSummary(doc: BuildDocument): Record<string, unknown> {
  const variable = (name: string): string | null =>
    doc.environment.environmentVariables.find((v) => v.name === name)?.value ?? null;
  return {
    id: doc.id,
    arn: doc.arn,
    projectName: doc.projectName,
    buildNumber: doc.buildNumber,
    buildStatus: doc.buildStatus,
    currentPhase: doc.currentPhase,
    startTime: iso(doc.startTime),
    endTime: iso(doc.endTime),
    sourceVersion: doc.sourceVersion ?? null,
    resolvedSourceVersion: doc.resolvedSourceVersion ?? null,
    executionArn: variable('STEPLINE_EXECUTION_ARN'),
    step: variable('STEPLINE_STEP'),
    suite: variable('STEPLINE_SUITE'),
    logUrl: doc.logs.deepLink,
    phases: doc.phases.map((p) => ({
      phaseType: p.phaseType,
      phaseStatus: p.phaseStatus ?? null,
      startTime: iso(p.startTime),
      endTime: iso(p.endTime),
      durationInSeconds: p.durationInSeconds ?? null,
      contexts: p.contexts?.filter((c) => c.message) ?? [],
    })),
    exportedEnvironmentVariables: doc.exportedEnvironmentVariables,
  };
}

function intParam(url: URL, name: string, fallback: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > max)
    throw new HttpError(400, 'invalid_parameter', `${name} must be a whole number from 0 to ${max}`);
  return n;
}

export function registerApi(router: Router, deps: ApiDependencies): void {
  router.add('GET', '/api/runtime', ({ res }) => sendJson(res, 200, deps.describe()));

  executionRoutes(router, deps);
  buildRoutes(router, deps);
  approvalRoutes(router, deps);
  deliveryRoutes(router, deps);
  router.add('GET', '/api/events', (ctx) => stream(ctx, deps.events));
}

/** Executions: the list, one with its builds, approvals and statuses, and its history. */
function executionRoutes(router: Router, deps: ApiDependencies): void {
  router.add('GET', '/api/executions', ({ res, url }) => {
    const page = deps.states.listExecutions({
      ...(url.searchParams.get('stateMachineArn') ? { stateMachineArn: url.searchParams.get('stateMachineArn') } : {}),
      ...(url.searchParams.get('status') ? { statusFilter: url.searchParams.get('status') } : {}),
      maxResults: intParam(url, 'limit', 50, 1000),
      ...(url.searchParams.get('next') ? { nextToken: url.searchParams.get('next') } : {}),
    });
    const repository = url.searchParams.get('repository');
    const items = repository ? page.items.filter((e) => e.repository === repository) : page.items;
    sendJson(res, 200, { executions: items.map(executionSummary), next: page.next });
  });

  router.add('GET', '/api/executions/:arn', async ({ res, params }) => {
    const record = deps.executions.getExecution(params['arn'] ?? '');
    if (!record) throw new HttpError(404, 'not_found', `no execution ${params['arn']}`);
    const input = parse(record.input) as {
      request?: { provider?: string; repository?: { fullName?: string }; commit?: { sha?: string } };
    };
    const request = input?.request;
    const statuses =
      request?.provider && request.repository?.fullName && request.commit?.sha
        ? deps.statuses.latest(request.provider as 'github', request.repository.fullName, request.commit.sha)
        : [];
    const redrive = deps.states.redrivable(record);
    sendJson(res, 200, {
      ...executionSummary(record),
      input,
      output: parse(record.output),
      redriveStatus: redrive.ok ? 'REDRIVABLE' : 'NOT_REDRIVABLE',
      builds: deps.builds
        .list({ executionArn: record.arn })
        .map((b) => buildSummary(b.document as unknown as BuildDocument)),
      approvals: await deps.approvals.list({ executionArn: record.arn }),
      statuses,
    });
  });

  router.add('GET', '/api/executions/:arn/history', ({ res, url, params }) => {
    const record = deps.executions.getExecution(params['arn'] ?? '');
    if (!record) throw new HttpError(404, 'not_found', `no execution ${params['arn']}`);
    const after = intParam(url, 'after', 0, Number.MAX_SAFE_INTEGER);
    const limit = intParam(url, 'limit', 1000, 10_000);
    const events = deps.executions
      .history(record.arn)
      .filter((e) => e.id > after)
      .slice(0, limit);
    sendJson(res, 200, { executionArn: record.arn, status: record.status, events: events.map(eventJson) });
  });
}

/** Builds, their logs, and the commit statuses of the local sink. */
function buildRoutes(router: Router, deps: ApiDependencies): void {
  router.add('GET', '/api/builds', ({ res, url }) => {
    const execution = url.searchParams.get('execution') ?? undefined;
    const list = deps.builds.list({
      ...(execution ? { executionArn: execution } : {}),
      limit: intParam(url, 'limit', 100, 1000),
    });
    sendJson(res, 200, { builds: list.map((b) => buildSummary(b.document as unknown as BuildDocument)) });
  });

  router.add('GET', '/api/builds/:id', ({ res, params }) => {
    const doc = deps.codebuild.get(params['id'] ?? '');
    if (!doc) throw new HttpError(404, 'not_found', `no build ${params['id']}`);
    sendJson(res, 200, { build: buildSummary(doc), reports: deps.codebuild.reports(doc.id) });
  });

  router.add('GET', '/api/builds/:id/log', ({ res, url, params }) => {
    const doc = deps.codebuild.get(params['id'] ?? '');
    if (!doc) throw new HttpError(404, 'not_found', `no build ${params['id']}`);
    const after = intParam(url, 'after', 0, Number.MAX_SAFE_INTEGER);
    const chunks = deps.builds.logs(doc.id, after);
    if (url.searchParams.get('format') === 'json') {
      sendJson(res, 200, {
        buildId: doc.id,
        buildStatus: doc.buildStatus,
        complete: doc.buildComplete,
        chunks: chunks.map((c) => ({ ...c, at: new Date(c.at).toISOString() })),
      });
      return;
    }
    sendText(res, 200, chunks.map((c) => c.text).join(''));
  });

  router.add('GET', '/api/statuses', ({ res, url }) => {
    const filter = {
      ...(url.searchParams.get('provider') ? { provider: url.searchParams.get('provider') as string } : {}),
      ...(url.searchParams.get('repository') ? { repository: url.searchParams.get('repository') as string } : {}),
      ...(url.searchParams.get('sha') ? { sha: url.searchParams.get('sha') as string } : {}),
      limit: intParam(url, 'limit', 500, 10_000),
    };
    sendJson(res, 200, {
      statuses: deps.statuses.list(filter).map((s) => ({ ...s, createdAt: new Date(s.createdAt).toISOString() })),
    });
  });
}

/** Approvals and the runtime's identity, whom they are decided as (ADR 0087). */
function approvalRoutes(router: Router, deps: ApiDependencies): void {
  router.add('GET', '/api/approvals', async ({ res, url }) => {
    const approvals = await deps.approvals.list({
      ...(url.searchParams.get('status') ? { status: url.searchParams.get('status') as string } : {}),
      ...(url.searchParams.get('execution') ? { executionArn: url.searchParams.get('execution') as string } : {}),
    });
    sendJson(res, 200, { approvals });
  });

  router.add('POST', '/api/approvals/:id/decision', async ({ req, res, params }) => {
    const body = (await readJson(req, 16 * 1024)) as { decision?: unknown; by?: unknown; reason?: unknown };
    if (body.decision !== 'approve' && body.decision !== 'reject') {
      throw new HttpError(400, 'invalid_decision', 'decision must be "approve" or "reject"');
    }
    // The approver is the runtime's one identity, never a name the request gives (ADR 0087): `by` may only say who
    // the caller believes that is, and is refused when it is someone else.
    const identity = deps.approvals.identity;
    const by = typeof body.by === 'string' ? body.by.trim() : '';
    if (by && by !== identity) {
      sendJson(res, 403, {
        outcome: 'forbidden',
        message: `this runtime decides as ${identity}, not ${by}: start it with --as ${by}, or change the identity in the console's header`,
      });
      return;
    }
    const result = await deps.approvals.decide(params['id'] ?? '', {
      action: body.decision,
      as: identity,
      ...(typeof body.reason === 'string' ? { reason: body.reason } : {}),
    });
    const status =
      result.kind === 'approved' || result.kind === 'rejected'
        ? 200
        : result.kind === 'unknown'
          ? 404
          : result.kind === 'forbidden'
            ? 403
            : result.kind === 'retry'
              ? 503
              : 409;
    const approval = 'record' in result && result.record ? await deps.approvals.get(result.record.id) : undefined;
    const message =
      result.kind === 'forbidden'
        ? refusalText(result.refusal, result.record.environment, result.record.approvers)
        : 'message' in result
          ? result.message
          : undefined;
    sendJson(res, status, { outcome: result.kind, ...(message ? { message } : {}), ...(approval ? { approval } : {}) });
  });

  router.add('GET', '/api/identity', ({ res }) => {
    sendJson(res, 200, { login: deps.approvals.identity });
  });

  router.add('PUT', '/api/identity', async ({ req, res }) => {
    const body = (await readJson(req, 4 * 1024)) as { login?: unknown };
    if (typeof body.login !== 'string') throw new HttpError(400, 'invalid_login', 'give {"login": "…"}');
    try {
      sendJson(res, 200, { login: deps.approvals.setIdentity(body.login) });
    } catch (error) {
      throw new HttpError(400, 'invalid_login', (error as Error).message);
    }
  });
}

/** Parked deliveries and their replay; runs started by hand and re-runs (ADR 0076). */
function deliveryRoutes(router: Router, deps: ApiDependencies): void {
  router.add('GET', '/api/parked', async ({ res }) => {
    sendJson(res, 200, { deliveries: await deps.parking.list(1000), ...deps.parking.stats() });
  });

  router.add('POST', '/api/parked/replay', async ({ req, res }) => {
    const body = (await readJson(req, 16 * 1024)) as { name?: unknown };
    const name = typeof body.name === 'string' && body.name ? body.name : undefined;
    const summary = await deps.replay(name);
    if (name && summary.results.length === 0) throw new HttpError(404, 'not_found', `no parked delivery ${name}`);
    sendJson(res, 200, summary);
  });

  // Runs by hand (ADR 0076): the same route decision and statuses as a push; the answer is the webhook's.
  router.add('POST', '/api/runs', async ({ req, res }) => {
    const runs = deps.runs;
    if (!runs) throw new HttpError(404, 'not_found', 'this runtime starts no runs by hand');
    requireJson(req);
    const body = (await readJson(req, 16 * 1024)) as Record<string, unknown>;
    const repository = text(body['repository']);
    const ref = text(body['ref']);
    if (!repository || !ref)
      throw new HttpError(400, 'invalid_run', 'give {"repository": "owner/name", "ref": "main"}');
    const environments = strings(body['environments'], 'environments');
    const sha = text(body['sha']);
    const routeAs = text(body['routeAs']);
    const cloneUrl = text(body['cloneUrl']);
    const answer = await startedRun(() =>
      runs.run({
        repository,
        ref,
        by: starter(body, deps.approvals.identity),
        ...(environments ? { environments } : {}),
        ...(sha ? { sha } : {}),
        ...(routeAs ? { routeAs } : {}),
        ...(cloneUrl ? { cloneUrl } : {}),
      }),
    );
    sendJson(res, answer.status, answer.body);
  });

  router.add('POST', '/api/executions/:arn/rerun', async ({ req, res, params }) => {
    const runs = deps.runs;
    if (!runs) throw new HttpError(404, 'not_found', 'this runtime starts no runs by hand');
    requireJson(req);
    const body = (await readJson(req, 4 * 1024)) as Record<string, unknown>;
    const answer = await startedRun(() =>
      runs.rerun(params['arn'] ?? '', {
        by: starter(body, deps.approvals.identity),
        fromFailed: body['from'] === 'failed',
      }),
    );
    sendJson(res, answer.status, answer.body);
  });
}

/** Server-Sent Events: every runtime event as `data: {json}`, with a comment every 15 s to keep proxies open. */
function stream({ req, res }: RouteContext, events: EventEmitter): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
  });
  res.write(': stepline events\n\n');
  const listener = (event: { type: string }): void => {
    res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  };
  events.on('event', listener);
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  keepAlive.unref();
  return new Promise((resolve) => {
    const close = (): void => {
      clearInterval(keepAlive);
      events.off('event', listener);
      resolve();
    };
    req.on('close', close);
    res.on('close', close);
  });
}
