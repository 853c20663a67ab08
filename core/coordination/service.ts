import type {
  CoordinationRequest,
  EnterOutcome,
  EnterRequest,
  EnvironmentState,
  KeyState,
  LeaveRequest,
  LeaveResult,
  RegisterRequest,
  RegisterResult,
} from './contracts';
import { decideEnter, decideLeave, decideRegister } from './decide';

export interface CoordinationSnapshot {
  readonly key: KeyState | null;
  readonly environment: EnvironmentState | null;
}

export interface CoordinationWrite<T> {
  /** The new state of the concurrency key; undefined leaves it as it is. */
  readonly key?: KeyState | null;
  /** The new state of the environment; undefined leaves it as it is. */
  readonly environment?: EnvironmentState | null;
  readonly result: T;
}

/**
 * The port the coordination stores implement: SQLite in the local runtime, DynamoDB on AWS.
 * `transact` reads the named items, lets `decide` compute the change and writes it atomically: if another writer
 * changed the items in between, the store reads again and calls `decide` again.
 */
export interface CoordinationStore {
  nextSequence(repositoryKey: string): Promise<number>;
  transact<T>(
    items: { readonly concurrencyKey?: string; readonly environmentKey?: string },
    decide: (snapshot: CoordinationSnapshot) => CoordinationWrite<T>,
  ): Promise<T>;
}

export type Clock = () => number;

/** Register, enter and leave, each one atomic read-decide-write over the store. */
export class Coordinator {
  public constructor(
    private readonly store: CoordinationStore,
    private readonly clock: Clock = Date.now,
  ) {}

  public async register(request: RegisterRequest): Promise<RegisterResult> {
    const sequence = await this.store.nextSequence(request.repositoryKey);
    return this.store.transact({ concurrencyKey: request.concurrencyKey }, ({ key }) => {
      const decision = decideRegister(key, request.executionArn, sequence);
      // A redelivered register (the same execution) keeps the sequence it was first given.
      if (key && key.latestExecutionArn === request.executionArn) {
        return { result: { sequence: key.latestSequence, superseded: null } };
      }
      if (key && key.latestSequence > sequence) {
        // A newer run registered between our sequence and this write: this run is already superseded.
        return { result: { sequence, superseded: null } };
      }
      return { key: decision.key, result: { sequence, superseded: decision.superseded } };
    });
  }

  public async enter(request: EnterRequest): Promise<EnterOutcome> {
    const now = request.now ?? this.clock();
    return this.store.transact(
      { concurrencyKey: request.concurrencyKey, environmentKey: request.environmentKey },
      ({ key, environment }) => {
        const decision = decideEnter(request, key, environment, now);
        return {
          ...(decision.key ? { key: decision.key } : {}),
          ...(decision.environment ? { environment: decision.environment } : {}),
          result: decision.outcome,
        };
      },
    );
  }

  public async leave(request: LeaveRequest): Promise<LeaveResult> {
    return this.store.transact({ environmentKey: request.environmentKey }, ({ environment }) => {
      const decision = decideLeave(request, environment);
      return {
        ...(decision.environment ? { environment: decision.environment } : {}),
        result: { released: decision.released },
      };
    });
  }

  public handle(request: CoordinationRequest): Promise<RegisterResult | EnterOutcome | LeaveResult> {
    switch (request.action) {
      case 'register':
        return this.register(request);
      case 'enter':
        return this.enter(request);
      case 'leave':
        return this.leave(request);
    }
  }
}
