import type { Provider } from '../config/schema';
import type { ParkedDelivery } from '../contracts/parking';
import type { WebhookResponseBody } from '../contracts/webhook';
import { interpretComment, isCommentEvent } from './comments';
import { abbreviatedCommit, completeCommit } from './commits';
import type { Admitted, RawDelivery } from './delivery';
import { SecretsUnavailableError } from './errors';
import type { Intake, Planned } from './intake';
import { interpretIssue, isIssueEvent } from './issues';
import type {
  ApprovalCommandQueue,
  CommitResolver,
  IncidentSink,
  ParkingQueue,
  RerunStarter,
  WebhookSecretSource,
  WorkflowStarter,
} from './ports';
import { interpretRerun, isCheckRunEvent, rerunExecutionName } from './rerun';
import type { PipelineRequest } from './types';
import type { Stop } from './verdict';

/**
 * One delivery, start to finish, through the ports: admit → read the provider's secrets → verify → interpret →
 * plan → start each planned execution; a start that fails after the starter's retries is parked, so nothing
 * accepted is lost. The result says what to answer and what happened, for the function to log and count.
 */

export interface ReceivePorts {
  readonly secrets: WebhookSecretSource;
  readonly workflow: WorkflowStarter;
  readonly parking: ParkingQueue;
  /** Where comment commands go; without it, comment events start nothing as before. */
  readonly commands?: ApprovalCommandQueue;
  /**
   * Resolves an abbreviated commit (Bitbucket's pull requests) before its run starts; without it, such a run
   * starts at the abbreviated hash, and its build and statuses fail (docs/adr/0090).
   */
  readonly commits?: CommitResolver;
  /** Starts the re-runs GitHub's "Re-run" asks for (check_run rerequested); without it they start nothing. */
  readonly reruns?: RerunStarter;
  /** Where issues labelled `incident` are written (ADR 0099); without it issue events start nothing as before. */
  readonly incidents?: IncidentSink;
  readonly now?: () => Date;
}

/** What happened to a delivery, or to one of its refs: one entry each, for logs and metrics. */
export type Outcome =
  | { readonly kind: 'rejected'; readonly code: string; readonly detail: string }
  | { readonly kind: 'pong' }
  | { readonly kind: 'ignored'; readonly code: string; readonly detail: string }
  | { readonly kind: 'skipped'; readonly code: string; readonly detail: string }
  | { readonly kind: 'started'; readonly name: string; readonly executionArn: string }
  | { readonly kind: 'duplicate'; readonly name: string; readonly executionArn: string }
  | { readonly kind: 'queued'; readonly name: string; readonly detail: string }
  | { readonly kind: 'failed'; readonly name?: string; readonly detail: string }
  | { readonly kind: 'command'; readonly action: 'approve' | 'reject'; readonly environment: string }
  | { readonly kind: 'incident'; readonly id: string; readonly state: 'open' | 'resolved' | 'withdrawn' };

/** The keys the function appends to its logger: never a body, a header or a secret. */
export interface DeliveryKeys {
  provider?: Provider;
  deliveryId?: string;
  repository?: string;
  executionName?: string;
}

export interface Receipt {
  readonly status: number;
  readonly body: WebhookResponseBody;
  readonly keys: DeliveryKeys;
  readonly outcomes: readonly Outcome[];
}

/** One execution's answer (exported for the hand-off intake, core/intake/handoff). */
export interface Answer {
  readonly status: number;
  readonly body: WebhookResponseBody;
  readonly outcome: Outcome;
}

export function answerStop(stop: Stop, provider: Provider | undefined): Answer {
  switch (stop.kind) {
    case 'rejected':
      return {
        status: stop.status,
        body: { error: stop.code, message: stop.message },
        outcome: { kind: 'rejected', code: stop.code, detail: stop.message },
      };
    case 'pong':
      return { status: 200, body: { status: 'pong', provider: provider! }, outcome: { kind: 'pong' } };
    case 'ignored':
      return {
        status: 202,
        body: { status: 'ignored', code: stop.code, reason: stop.reason },
        outcome: { kind: 'ignored', code: stop.code, detail: stop.reason },
      };
    case 'skipped':
      return {
        status: 202,
        body: { status: 'skipped', code: stop.code, reason: stop.reason, contexts: stop.contexts },
        outcome: { kind: 'skipped', code: stop.code, detail: stop.reason },
      };
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.name}: ${error.cause.message})` : '';
    return `${error.name}: ${error.message}${cause}`.slice(0, 500);
  }
  return String(error).slice(0, 500);
}

export async function start(
  planned: Planned,
  ports: Pick<ReceivePorts, 'workflow' | 'parking' | 'now'>,
): Promise<Answer> {
  const { name, input, inputJson } = planned;
  let reason: string;
  try {
    const result = await ports.workflow.start({ name, input, inputJson });
    if (result.outcome === 'started' && planned.skipped) {
      const { code, reason, contexts } = planned.skipped;
      return {
        status: 202,
        body: { status: 'skipped', code, reason, contexts, executionArn: result.executionArn, name },
        outcome: { kind: 'skipped', code, detail: reason },
      };
    }
    if (result.outcome === 'started') {
      return {
        status: 202,
        body: { status: 'started', executionArn: result.executionArn, name },
        outcome: { kind: 'started', name, executionArn: result.executionArn },
      };
    }
    return {
      status: 200,
      body: { status: 'duplicate', duplicate: true, executionArn: result.executionArn, name },
      outcome: { kind: 'duplicate', name, executionArn: result.executionArn },
    };
  } catch (error) {
    // Whatever the failure (throttling, an outage, a refused input), the delivery is kept for a replay.
    reason = describe(error);
  }
  const parked: ParkedDelivery = {
    version: 1,
    name,
    input,
    parkedAt: (ports.now?.() ?? new Date()).toISOString(),
    reason,
  };
  try {
    await ports.parking.park(parked);
  } catch (error) {
    const detail = `start failed (${reason}); parking failed (${describe(error)})`;
    return {
      status: 503,
      body: { error: 'unavailable', message: 'the delivery could not be started or kept; redeliver it later' },
      outcome: { kind: 'failed', name, detail },
    };
  }
  return {
    status: 202,
    body: { status: 'queued', name, message: 'the pipeline could not be started now; it will be started by a replay' },
    outcome: { kind: 'queued', name, detail: reason },
  };
}

function combine(answers: readonly Answer[]): { status: number; body: WebhookResponseBody } {
  const statuses = answers.map((a) => a.status);
  const status = statuses.includes(503) ? 503 : statuses.includes(202) ? 202 : 200;
  return { status, body: { status: 'multiple', results: answers.map((a) => a.body) } };
}

export function finish(keys: DeliveryKeys, answers: readonly Answer[]): Receipt {
  if (answers.length === 1) {
    const only = answers[0]!;
    return { status: only.status, body: only.body, keys, outcomes: [only.outcome] };
  }
  const { status, body } = combine(answers);
  return { status, body, keys, outcomes: answers.map((a) => a.outcome) };
}

/** Resolves the request's abbreviated commit, then plans and starts it; 503 when the host cannot be asked. */
async function completeAndStart(
  intake: Intake,
  request: PipelineRequest,
  keys: DeliveryKeys,
  ports: ReceivePorts & { readonly commits: CommitResolver },
): Promise<Answer> {
  let complete: Awaited<ReturnType<typeof completeCommit>>;
  try {
    complete = await completeCommit(request, ports.commits);
  } catch (error) {
    return {
      status: 503,
      body: {
        error: 'unavailable',
        message: 'the commit could not be resolved at the Git host now; redeliver it later',
      },
      outcome: { kind: 'failed', detail: `resolving commit ${request.commit.sha}: ${describe(error)}` },
    };
  }
  if (!complete.continue) return answerStop(complete, request.provider);
  return planAndStart(intake, complete.value, keys, { ...ports, commits: undefined });
}

function planAndStart(
  intake: Intake,
  request: PipelineRequest,
  keys: DeliveryKeys,
  ports: ReceivePorts,
): Answer | Promise<Answer> {
  if (ports.commits && abbreviatedCommit(request)) {
    return completeAndStart(intake, request, keys, { ...ports, commits: ports.commits });
  }
  const planned = intake.plan(request);
  if (!planned.continue) return answerStop(planned, request.provider);
  keys.executionName ??= planned.value.name;
  return start(planned.value, ports);
}

/** A `check_run` delivery: "Re-run" on a Stepline check run starts its execution's input again. */
async function rerun(delivery: Admitted, reruns: RerunStarter, keys: DeliveryKeys): Promise<Answer> {
  const interpreted = interpretRerun(delivery);
  if (!interpreted.continue) return answerStop(interpreted, delivery.provider);
  const request = interpreted.value;
  keys.repository = request.repository;
  const name = rerunExecutionName(request.executionArn, request.deliveryId);
  keys.executionName = name;
  try {
    const result = await reruns.rerun(request, name);
    if (result.outcome === 'duplicate') {
      return {
        status: 200,
        body: { status: 'duplicate', duplicate: true, executionArn: result.executionArn, name },
        outcome: { kind: 'duplicate', name, executionArn: result.executionArn },
      };
    }
    return {
      status: 202,
      body: { status: 'started', executionArn: result.executionArn, name },
      outcome: { kind: 'started', name, executionArn: result.executionArn },
    };
  } catch (error) {
    return {
      status: 503,
      body: { error: 'unavailable', message: 'the re-run could not be started now; press Re-run again later' },
      outcome: { kind: 'failed', name, detail: describe(error) },
    };
  }
}

/** A comment delivery: a command goes to the approval function's queue; anything else starts nothing. */
async function submit(delivery: Admitted, commands: ApprovalCommandQueue, keys: DeliveryKeys): Promise<Answer> {
  const interpreted = interpretComment(delivery);
  if (!interpreted.continue) return answerStop(interpreted, delivery.provider);
  const command = interpreted.value;
  keys.repository = command.repository;
  try {
    await commands.submit(command);
  } catch (error) {
    return {
      status: 503,
      body: { error: 'unavailable', message: 'the command could not be passed on now; comment again later' },
      outcome: { kind: 'failed', detail: describe(error) },
    };
  }
  return {
    status: 202,
    body: { status: 'command', command: command.action, environment: command.environment },
    outcome: { kind: 'command', action: command.action, environment: command.environment },
  };
}

/**
 * An issue delivery: an issue labelled `incident` is written to the store, and one whose label the event removed is
 * written withdrawn (ADR 0112); any other issue writes nothing.
 */
async function recordIncident(
  intake: Intake,
  delivery: Admitted,
  incidents: IncidentSink,
  keys: DeliveryKeys,
): Promise<Answer> {
  const interpreted = interpretIssue(delivery, intake.config);
  if (!interpreted.continue) return answerStop(interpreted, delivery.provider);
  const incident = interpreted.value;
  keys.repository = incident.repository ?? undefined;
  try {
    await incidents.putIncident(incident);
  } catch (error) {
    return {
      status: 503,
      body: { error: 'unavailable', message: 'the incident could not be recorded now; redeliver it later' },
      outcome: { kind: 'failed', detail: describe(error) },
    };
  }
  const state = incident.withdrawnAt ? 'withdrawn' : incident.resolvedAt === null ? 'open' : 'resolved';
  return {
    status: 202,
    body: { status: 'incident recorded', incident: incident.id, state },
    outcome: { kind: 'incident', id: incident.id, state },
  };
}

export async function receive(intake: Intake, raw: RawDelivery, ports: ReceivePorts): Promise<Receipt> {
  const keys: DeliveryKeys = {};

  const admitted = intake.admit(raw);
  if (!admitted.continue) return finish(keys, [answerStop(admitted, undefined)]);
  const delivery = admitted.value;
  keys.provider = delivery.provider;
  keys.deliveryId = delivery.deliveryId;

  let secrets: Awaited<ReturnType<WebhookSecretSource['get']>>;
  try {
    secrets = await ports.secrets.get(delivery.provider);
  } catch (error) {
    if (!(error instanceof SecretsUnavailableError)) throw error;
    return finish(keys, [
      {
        status: 503,
        body: { error: 'unavailable', message: 'the webhook secrets cannot be read now; redeliver it later' },
        outcome: { kind: 'failed', detail: describe(error) },
      },
    ]);
  }
  const verified = intake.verify(delivery, secrets);
  if (!verified.continue) {
    const answer = answerStop(verified, delivery.provider);
    if (secrets === null) {
      const detail = `no webhook secret is configured for ${delivery.provider}`;
      return finish(keys, [{ ...answer, outcome: { kind: 'rejected', code: 'invalid_signature', detail } }]);
    }
    return finish(keys, [answer]);
  }

  if (ports.reruns && isCheckRunEvent(verified.value))
    return finish(keys, [await rerun(verified.value, ports.reruns, keys)]);

  if (ports.commands && isCommentEvent(verified.value))
    return finish(keys, [await submit(verified.value, ports.commands, keys)]);

  if (ports.incidents && isIssueEvent(verified.value))
    return finish(keys, [await recordIncident(intake, verified.value, ports.incidents, keys)]);

  const requests = intake.interpret(verified.value);
  if (!requests.continue) return finish(keys, [answerStop(requests, delivery.provider)]);
  const all = requests.value;
  keys.repository = all[0]?.repository.fullName;
  // Most deliveries carry one request: no need for Promise.all.
  if (all.length === 1) return finish(keys, [await planAndStart(intake, all[0]!, keys, ports)]);
  return finish(keys, await Promise.all(all.map((request) => planAndStart(intake, request, keys, ports))));
}
