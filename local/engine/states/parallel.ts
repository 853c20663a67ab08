import { CancelScope } from '../cancel';
import type { CompiledScope, ParallelState } from '../compiled';
import { AbortReason, type Frame, isPromise, newFrame, type ScopeCheckpoint } from '../frame';
import { checkArgumentsSize, type StateRun, type Step } from '../state-run';
import type { JsonValue } from '../types';
import { VariableScope } from '../variables';

/**
 * Parallel: one attempt (Retry calls it again). Every branch runs on the effective input in a variable scope of
 * its own; the result is the array of their outputs. The first branch to fail cancels the others.
 */
export async function attemptParallel(s: ParallelState, run: StateRun): Promise<Step> {
  const { io } = s;
  const pending = io.arguments(run, io.effectiveInput(run));
  const args = isPromise<JsonValue>(pending) ? await pending : pending;
  checkArgumentsSize(args, s.name);
  const result = await runBranches(s, run, args);
  return io.afterResult(run, result, s.next);
}

async function runBranches(s: ParallelState, run: StateRun, input: JsonValue): Promise<JsonValue> {
  const { frame, exec } = run;
  const startedId = exec.emit(frame, 'ParallelStateStarted');
  const group = CancelScope.childOf(frame.signal);
  const resume = run.resumeChildren;
  run.resumeChildren = undefined;
  const results: JsonValue[] = new Array(s.branches.length);
  const done = new Map<number, JsonValue>();
  const failedAt = new Map<number, ScopeCheckpoint>();
  let firstError: unknown;
  const pending: Promise<void>[] = [];
  const succeeded = (i: number, v: JsonValue): void => {
    results[i] = v;
    done.set(i, v);
  };
  const onFailure = (i: number, child: Frame, err: unknown): void => {
    if (err instanceof AbortReason && err.kind === 'cancel' && firstError !== undefined) return;
    const cp = exec.checkpointOf(child);
    if (cp) failedAt.set(i, cp);
    if (firstError === undefined) {
      firstError = err;
      group.abort(new AbortReason('cancel'));
    }
  };
  for (let i = 0; i < s.branches.length; i++) {
    if (resume?.results.has(i)) {
      succeeded(i, resume.results.get(i) as JsonValue);
      continue;
    }
    if (firstError !== undefined) break;
    const branchResume = resume?.failed.get(i);
    const vars = new VariableScope(frame.vars, branchResume?.variables);
    const scope = s.branches[i] as CompiledScope;
    const child = newFrame(scope, vars, startedId, group, undefined, frame.record, branchResume);
    try {
      const r = exec.runScope(child, branchResume ? branchResume.input : input);
      if (isPromise<JsonValue>(r)) {
        pending.push(
          r.then(
            (v) => succeeded(i, v),
            (err) => onFailure(i, child, err),
          ),
        );
      } else succeeded(i, r);
    } catch (err) {
      onFailure(i, child, err);
    }
  }
  if (pending.length) await Promise.all(pending);
  group.release();
  if (firstError !== undefined) {
    frame.children = { results: done, failed: failedAt };
    throw firstError;
  }
  exec.emit(frame, 'ParallelStateSucceeded');
  return results;
}
