import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { InvalidTokenError, type StatesError, TaskDoesNotExistError, TaskTimedOutError } from './errors';
import type { IntegrationPattern } from './resources';
import type { ClockMode, JsonValue } from './types';

/**
 * What a Task handler receives. The handler serves one Task state attempt: it is called once per attempt (Retry
 * calls it again), and its promise settles the attempt.
 *
 * - REQUEST_RESPONSE: resolve with the service's response; that is the task's result.
 * - RUN_JOB (`.sync`): start the job, call `submitted(response)` with the start call's response, then resolve with
 *   the job's final description once it ends; reject with a TaskFailure when the job fails.
 * - WAIT_FOR_TASK_TOKEN (`.waitForTaskToken`, activities): hand `taskToken` to whoever will answer, and resolve
 *   with the call's response; the task then waits for SendTaskSuccess / SendTaskFailure on that token.
 *
 * A handler fails its task by throwing a TaskFailure(error, cause); any other exception counts as error =
 * the exception's name, cause = its message. `signal` aborts when the task times out, the execution is stopped or
 * a sibling branch fails; a handler should then stop its work.
 */
export interface TaskRequest {
  /** The Resource ARN as written in the definition. */
  readonly resource: string;
  /** The Resource without its `.sync` / `.waitForTaskToken` suffix. */
  readonly baseResource: string;
  readonly pattern: IntegrationPattern;
  /** The resolved Parameters (JSONPath) or Arguments (JSONata): what the service call receives. */
  readonly input: JsonValue;
  /** The task token, for WAIT_FOR_TASK_TOKEN. */
  readonly taskToken: string | undefined;
  readonly timeoutSeconds: number | undefined;
  readonly heartbeatSeconds: number | undefined;
  readonly signal: AbortSignal;
  /** Resets the heartbeat timer, as SendTaskHeartbeat does (only tasks that wait for a token have one). */
  heartbeat(): void;
  /** RUN_JOB: reports the start call's response (a TaskSubmitted event). */
  submitted(response: unknown): void;
  /**
   * Sleeps on the execution's clock, for work that answers the task later (a heartbeat sender, a callback): on the
   * virtual clock the sleep ends when the execution's time reaches it, as its own timers do.
   */
  sleep(ms: number): Promise<void>;
  /**
   * The execution's clock, for a handler whose service measures time itself (a deadline it computes, a timestamp
   * it compares): `now()` in ms since the epoch, which on the virtual clock is the time the execution's timers
   * have reached (it does not move while the handler runs).
   */
  readonly clock: { readonly mode: ClockMode; now(): number };
  readonly execution: {
    readonly executionArn: string;
    readonly stateMachineArn: string;
    readonly name: string;
    readonly stateName: string;
    /** 0 for the first attempt, then 1, 2, ... on retries. */
    readonly retryCount: number;
  };
}

export type TaskHandler = (request: TaskRequest) => unknown | Promise<unknown>;

interface Registration {
  readonly pattern: string;
  readonly regex: RegExp | undefined;
  readonly literal: number;
  readonly handler: TaskHandler;
}

/**
 * Task handlers registered by ARN pattern. A pattern is an ARN in which `*` stands for any run of characters
 * (`arn:aws:lambda:*:*:function:*`). An exact pattern wins over a wildcard one, and among wildcard patterns the one
 * with the most literal characters wins. A handler registered for `arn:aws:states:::lambda:invoke` also serves
 * `arn:aws:states:::lambda:invoke.waitForTaskToken` unless that one has a handler of its own.
 */
export class HandlerRegistry {
  private readonly registrations: Registration[] = [];

  public register(pattern: string, handler: TaskHandler): () => void {
    if (typeof pattern !== 'string' || pattern.length === 0)
      throw new TypeError('a handler pattern must be a non-empty string');
    if (typeof handler !== 'function') throw new TypeError(`the handler for '${pattern}' must be a function`);
    const regex = pattern.includes('*')
      ? new RegExp(
          `^${pattern
            .split('*')
            .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
            .join('.*')}$`,
        )
      : undefined;
    const reg: Registration = { pattern, regex, literal: pattern.replaceAll('*', '').length, handler };
    this.registrations.push(reg);
    return () => {
      const i = this.registrations.indexOf(reg);
      if (i >= 0) this.registrations.splice(i, 1);
    };
  }

  /**
   * The handler for a resource: an exact pattern for the resource, then for its base resource (without
   * `.sync` / `.waitForTaskToken`), then the wildcard pattern with the most literal characters (the latest
   * registered on a tie).
   */
  public find(resource: string, baseResource: string): TaskHandler | undefined {
    let best: Registration | undefined;
    let bestScore = -1;
    for (let i = this.registrations.length - 1; i >= 0; i--) {
      const r = this.registrations[i] as Registration;
      let score = -1;
      if (!r.regex) {
        if (r.pattern === resource) return r.handler;
        if (r.pattern === baseResource) score = Number.MAX_SAFE_INTEGER;
      } else if (r.regex.test(resource) || r.regex.test(baseResource)) score = r.literal;
      if (score > bestScore) {
        best = r;
        bestScore = score;
      }
    }
    return best?.handler;
  }
}

/** A task waiting for its token. */
export interface PendingToken {
  readonly executionArn: string;
  succeed(output: JsonValue): void;
  fail(error: StatesError): void;
  heartbeat(): void;
}

const TOKEN_BYTES = 24;
const MAC_BYTES = 16;
const FINISHED_MEMORY = 100_000;

/**
 * Task tokens: opaque strings carrying a random id and an HMAC of it, so that the engine tells a token it never
 * issued (InvalidToken), one it issued in an earlier life (TaskDoesNotExist, when the secret is kept across
 * restarts), one whose task already ended (TaskTimedOut) and a live one apart.
 */
export class TaskTokens {
  private readonly secret: Buffer;
  private readonly pending = new Map<string, PendingToken>();
  private readonly finished = new Set<string>();

  public constructor(secret?: string | Buffer) {
    this.secret = secret ? Buffer.from(secret) : randomBytes(32);
  }

  public issue(task: PendingToken): string {
    const id = randomBytes(TOKEN_BYTES);
    const mac = createHmac('sha256', this.secret).update(id).digest().subarray(0, MAC_BYTES);
    const token = `AQ${Buffer.concat([id, mac]).toString('base64url')}`;
    this.pending.set(token, task);
    return token;
  }

  /** Forgets a token whose task ended; later deliveries answer TaskTimedOut. */
  public retire(token: string): void {
    if (!this.pending.delete(token)) return;
    this.finished.add(token);
    if (this.finished.size > FINISHED_MEMORY) {
      const oldest = this.finished.values().next().value;
      if (oldest !== undefined) this.finished.delete(oldest);
    }
  }

  /** The live task behind a token; throws the API error that AWS answers otherwise. */
  public lookup(token: unknown): PendingToken {
    if (typeof token !== 'string' || token.length < 1 || token.length > 2048)
      throw new InvalidTokenError('Invalid Token: Invalid length');
    const live = this.pending.get(token);
    if (live) return live;
    if (this.finished.has(token)) throw new TaskTimedOutError();
    if (!this.verify(token)) throw new InvalidTokenError("Invalid Token: 'Invalid token'");
    throw new TaskDoesNotExistError();
  }

  public get size(): number {
    return this.pending.size;
  }

  private verify(token: string): boolean {
    if (!token.startsWith('AQ')) return false;
    let raw: Buffer;
    try {
      raw = Buffer.from(token.slice(2), 'base64url');
    } catch {
      return false;
    }
    if (raw.length !== TOKEN_BYTES + MAC_BYTES) return false;
    const id = raw.subarray(0, TOKEN_BYTES);
    const mac = createHmac('sha256', this.secret).update(id).digest().subarray(0, MAC_BYTES);
    return timingSafeEqual(mac, raw.subarray(TOKEN_BYTES));
  }
}
