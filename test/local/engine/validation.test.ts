import { describe, expect, it } from 'vitest';
import {
  compileStateMachine,
  type DefinitionDiagnostic,
  InvalidDefinitionError,
  type StateMachineDefinition,
} from '../../../local/engine';

// Definitions are checked when they are loaded, as CreateStateMachine checks them: every problem is reported with
// AWS's diagnostic code and the JSON pointer of the field at fault.

function diagnosticsOf(definition: unknown): DefinitionDiagnostic[] {
  try {
    compileStateMachine(definition as StateMachineDefinition);
  } catch (err) {
    if (err instanceof InvalidDefinitionError) return [...err.diagnostics];
    throw err;
  }
  return [];
}

const pass = { Type: 'Pass', End: true };

describe('definition validation', () => {
  it.each([
    ['a StartAt naming no state', { StartAt: 'Nope', States: { A: pass } }, 'MISSING_TRANSITION_TARGET', '/StartAt'],
    ['no StartAt', { States: { A: pass } }, 'SCHEMA_VALIDATION_FAILED', '/StartAt'],
    ['no States', { StartAt: 'A', States: {} }, 'SCHEMA_VALIDATION_FAILED', '/States'],
    [
      'a Next naming no state',
      { StartAt: 'A', States: { A: { Type: 'Pass', Next: 'B' } } },
      'MISSING_TRANSITION_TARGET',
      '/States/A/Next',
    ],
    [
      'an unknown Type',
      { StartAt: 'A', States: { A: { Type: 'Sleep', End: true } } },
      'SCHEMA_VALIDATION_FAILED',
      '/States/A/Type',
    ],
    [
      'a field the state type does not have',
      { StartAt: 'A', States: { A: { ...pass, Resource: 'x' } } },
      'SCHEMA_VALIDATION_FAILED',
      '/States/A/Resource',
    ],
    [
      'both Next and End',
      { StartAt: 'A', States: { A: { Type: 'Pass', Next: 'A', End: true } } },
      'SCHEMA_VALIDATION_FAILED',
      '/States/A',
    ],
    [
      'neither Next nor End',
      { StartAt: 'A', States: { A: { Type: 'Pass' } } },
      'SCHEMA_VALIDATION_FAILED',
      '/States/A',
    ],
    [
      'a Task without Resource',
      { StartAt: 'A', States: { A: { Type: 'Task', End: true } } },
      'SCHEMA_VALIDATION_FAILED',
      '/States/A',
    ],
    [
      'a negative MaxAttempts',
      {
        StartAt: 'A',
        States: {
          A: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            Retry: [{ ErrorEquals: ['E'], MaxAttempts: -1 }],
            End: true,
          },
        },
      },
      'SCHEMA_VALIDATION_FAILED',
      '/States/A/Retry/0/MaxAttempts',
    ],
    [
      'a BackoffRate under 1',
      {
        StartAt: 'A',
        States: {
          A: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            Retry: [{ ErrorEquals: ['E'], BackoffRate: 0.5 }],
            End: true,
          },
        },
      },
      'SCHEMA_VALIDATION_FAILED',
      '/States/A/Retry/0/BackoffRate',
    ],
    [
      'an unknown JitterStrategy',
      {
        StartAt: 'A',
        States: {
          A: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            Retry: [{ ErrorEquals: ['E'], JitterStrategy: 'SOME' }],
            End: true,
          },
        },
      },
      'SCHEMA_VALIDATION_FAILED',
      '/States/A/Retry/0/JitterStrategy',
    ],
    [
      'a HeartbeatSeconds not below TimeoutSeconds',
      {
        StartAt: 'A',
        States: {
          A: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            TimeoutSeconds: 10,
            HeartbeatSeconds: 10,
            End: true,
          },
        },
      },
      'SCHEMA_VALIDATION_FAILED',
      '/States/A/HeartbeatSeconds',
    ],
    [
      'Error and ErrorPath together',
      { StartAt: 'A', States: { A: { Type: 'Fail', Error: 'E', ErrorPath: '$.e' } } },
      'SCHEMA_VALIDATION_FAILED',
      '/States/A',
    ],
    [
      'an InputPath that is not a path',
      { StartAt: 'A', States: { A: { ...pass, InputPath: 'input' } } },
      'SCHEMA_VALIDATION_FAILED',
      '/States/A/InputPath',
    ],
    [
      'a ResultPath into the context object',
      { StartAt: 'A', States: { A: { ...pass, ResultPath: '$$.x' } } },
      'SCHEMA_VALIDATION_FAILED',
      '/States/A/ResultPath',
    ],
    [
      'a Parameters .$ value that is not a path',
      { StartAt: 'A', States: { A: { ...pass, Parameters: { 'x.$': 'nope' } } } },
      'SCHEMA_VALIDATION_FAILED',
      '/States/A/Parameters/x.$',
    ],
    [
      'a branch that jumps out of itself',
      {
        StartAt: 'P',
        States: {
          P: { Type: 'Parallel', Branches: [{ StartAt: 'B', States: { B: { Type: 'Pass', Next: 'P' } } }], End: true },
        },
      },
      'MISSING_TRANSITION_TARGET',
      '/States/P/Branches/0/States/B/Next',
    ],
    [
      'a Map without ItemProcessor',
      { StartAt: 'M', States: { M: { Type: 'Map', End: true } } },
      'SCHEMA_VALIDATION_FAILED',
      '/States/M',
    ],
    [
      'a distributed Map without ExecutionType',
      {
        StartAt: 'M',
        States: {
          M: {
            Type: 'Map',
            ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED' }, StartAt: 'P', States: { P: pass } },
            End: true,
          },
        },
      },
      'SCHEMA_VALIDATION_FAILED',
      '/States/M/ItemProcessor/ProcessorConfig/ExecutionType',
    ],
    ['a state nothing leads to', { StartAt: 'A', States: { A: pass, B: pass } }, 'UNREACHABLE_STATE', '/States/B'],
    [
      'a state name longer than 80 characters',
      { StartAt: 'x'.repeat(81), States: { ['x'.repeat(81)]: pass } },
      'SCHEMA_VALIDATION_FAILED',
      `/States/${'x'.repeat(81)}`,
    ],
  ])('rejects %s, naming the field', (_name, definition, code, location) => {
    // Act
    const diagnostics = diagnosticsOf(definition);
    // Assess
    expect(diagnostics).toContainEqual(expect.objectContaining({ code, location }));
  });

  it('reports every problem at once, in a message like CreateStateMachine’s', () => {
    // Prepare
    const definition = { StartAt: 'A', States: { A: { Type: 'Pass', Next: 'Gone' }, B: { Type: 'Wait', End: true } } };
    // Act
    const attempt = (): unknown => compileStateMachine(definition as StateMachineDefinition);
    // Assess
    expect(attempt).toThrow(InvalidDefinitionError);
    expect(attempt).toThrow(
      /^Invalid State Machine Definition: '.*MISSING_TRANSITION_TARGET: Missing 'Next' target: Gone at \/States\/A\/Next/,
    );
    expect(diagnosticsOf(definition).map((d) => d.location)).toEqual(
      expect.arrayContaining(['/States/A/Next', '/States/B']),
    );
  });

  it('reads a definition given as JSON text, and rejects text that is not JSON', () => {
    // Act / Assess
    expect(compileStateMachine(JSON.stringify({ StartAt: 'A', States: { A: pass } })).root.startAt).toBe('A');
    expect(() => compileStateMachine('{ not json')).toThrow(InvalidDefinitionError);
  });

  it('accepts every state type in both query languages', () => {
    // Prepare
    const definition = {
      Comment: 'all states',
      StartAt: 'Pass',
      States: {
        Pass: { Type: 'Pass', Next: 'Ata' },
        Ata: { Type: 'Pass', QueryLanguage: 'JSONata', Output: '{% $states.input %}', Next: 'Task' },
        Task: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: 'f' },
          Retry: [{ ErrorEquals: ['States.ALL'] }],
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Fail' }],
          Next: 'Choice',
        },
        Choice: { Type: 'Choice', Choices: [{ Variable: '$.x', IsPresent: true, Next: 'Wait' }], Default: 'Parallel' },
        Wait: { Type: 'Wait', Seconds: 1, Next: 'Parallel' },
        Parallel: { Type: 'Parallel', Branches: [{ StartAt: 'B', States: { B: pass } }], Next: 'Map' },
        Map: { Type: 'Map', ItemProcessor: { StartAt: 'I', States: { I: pass } }, Next: 'Succeed' },
        Succeed: { Type: 'Succeed' },
        Fail: { Type: 'Fail', Error: 'E', Cause: 'C' },
      },
    };
    // Act / Assess
    expect(diagnosticsOf(definition)).toEqual([]);
  });
});
