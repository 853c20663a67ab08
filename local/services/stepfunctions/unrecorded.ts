import { randomUUID } from 'node:crypto';
import {
  type CompiledStateMachine,
  type Engine,
  type ExecutionResult,
  InvalidNameError,
  type JsonValue,
  parseExecutionInput,
  validExecutionName,
} from '../../engine';
import type { StateMachineRecord } from '../../store';
import { StateMachineTypeNotSupportedError, ValidationError } from './states-errors';
import { MOCK_RESOURCE_PATTERN, type Mock, mockHandler, type TestStateOutput, testState } from './test-state';

/**
 * Executions that the engine runs and the store never sees: StartSyncExecution's (an Express execution's history
 * goes to CloudWatch Logs on AWS, not to GetExecutionHistory) and TestState's. The Step Functions service asks
 * `has(arn)` before it records an event.
 */

export interface SyncExecution {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  /** JSON text. */
  readonly input: string;
  readonly result: ExecutionResult;
}

export class UnrecordedRuns {
  private readonly running = new Set<string>();
  /** The mocks of the TestState calls running now, by their Task's Resource. */
  private readonly mocks = new Map<string, Mock>();

  public constructor(
    private readonly engine: Engine,
    /** The ARN TestState's runs go under. */
    private readonly testStateMachineArn: string,
    private readonly compile: (record: StateMachineRecord) => CompiledStateMachine,
  ) {
    engine.registerHandler(MOCK_RESOURCE_PATTERN, mockHandler(this.mocks, engine));
  }

  /** Whether an execution is one of these (not to be recorded). */
  public has(executionArn: string): boolean {
    return this.running.has(executionArn);
  }

  /** Runs a machine to its end; the engine forgets it then. */
  private async run(
    machine: CompiledStateMachine,
    input: JsonValue,
    options: {
      clock: 'real' | 'virtual';
      stateMachineArn: string;
      executionArn: string;
      name: string;
      roleArn?: string;
    },
  ): Promise<ExecutionResult> {
    this.running.add(options.executionArn);
    try {
      const started = this.engine.start(machine, input, {
        name: options.name,
        executionArn: options.executionArn,
        stateMachineArn: options.stateMachineArn,
        clock: options.clock,
        ...(options.roleArn ? { roleArn: options.roleArn } : {}),
      });
      return await started.done;
    } finally {
      this.engine.forget(options.executionArn);
      this.running.delete(options.executionArn);
    }
  }

  /**
   * StartSyncExecution: runs an EXPRESS state machine to its end and answers its result. A STANDARD machine answers
   * StateMachineTypeNotSupported, as on AWS. The execution ARN has AWS's Express form,
   * `...:express:<machine>:<name>:<uuid>`.
   */
  public async startSyncExecution(
    machine: StateMachineRecord,
    input: { name?: unknown; input?: unknown },
  ): Promise<SyncExecution> {
    if (machine.type !== 'EXPRESS') {
      throw new StateMachineTypeNotSupportedError('This operation is not supported by this type of state machine');
    }
    const name = input.name === undefined || input.name === null ? randomUUID() : input.name;
    if (typeof name !== 'string' || !validExecutionName(name)) {
      throw new InvalidNameError(`Invalid Name: '${String(name)}'`);
    }
    if (input.input !== undefined && input.input !== null && typeof input.input !== 'string') {
      throw new ValidationError('input must be JSON text (a string)');
    }
    const text = typeof input.input === 'string' && input.input !== '' ? input.input : '{}';
    const value = parseExecutionInput(text);
    const executionArn = `${machine.arn.replace(':stateMachine:', ':express:')}:${name}:${randomUUID()}`;
    const result = await this.run(this.compile(machine), value, {
      clock: 'real',
      stateMachineArn: machine.arn,
      executionArn,
      name,
      roleArn: machine.roleArn,
    });
    return { executionArn, stateMachineArn: machine.arn, name, input: text, result };
  }

  /** TestState (test-state.ts). */
  public testState(input: Record<string, unknown>): Promise<TestStateOutput> {
    const machineArn = this.testStateMachineArn;
    const roleArn = typeof input['roleArn'] === 'string' ? input['roleArn'] : undefined;
    return testState(
      {
        engine: this.engine,
        mocks: this.mocks,
        runUnrecorded: (machine, value, clock) => {
          const name = `test-state-${randomUUID()}`;
          return this.run(machine, value, {
            clock,
            name,
            stateMachineArn: machineArn,
            executionArn: `${machineArn.replace(':stateMachine:', ':execution:')}:${name}`,
            ...(roleArn ? { roleArn } : {}),
          });
        },
      },
      input,
    );
  }
}
