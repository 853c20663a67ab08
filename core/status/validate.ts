import { z } from 'zod';
import { PROVIDERS } from '../config/schema';
import type { ExecutionInput } from '../intake/types';
import type { StatusEvent } from './contracts';
import { StatusEventError } from './errors';

/**
 * Checks the parts of an event that the status code relies on, and names the first fields that are wrong.
 * The request and route are the intake's own shapes (`core/intake/types.ts`); only what is read here is checked,
 * so that an additive change there does not break status reporting.
 */

const Sha = z.string().regex(/^[0-9a-f]{40}$|^[0-9a-f]{64}$/i, { message: 'must be a full commit SHA' });
const Name = z.string().min(1);

const Request = z.object({
  provider: z.enum(PROVIDERS),
  repository: z.object({ fullName: z.string().regex(/^[^/\s]+(\/[^/\s]+)+$/, { message: 'must be owner/name' }) }),
  ref: z.object({ name: Name }),
  commit: z.object({ sha: Sha, url: z.string().nullable().optional() }),
  pullRequest: z.object({ number: z.number().int(), head: z.object({ ref: Name, sha: Sha }) }).nullable(),
});

const Route = z.object({
  tests: z.array(z.object({ name: Name })),
  environments: z.array(
    z.object({
      name: Name,
      url: z.string().nullable().optional(),
      approval: z
        .object({ approvers: z.array(z.string()), timeoutSeconds: z.number() })
        .nullable()
        .optional(),
    }),
  ),
});

const StepDetail = z
  .object({
    phase: z.string().optional(),
    exitCode: z.number().int().optional(),
    reason: z.string().optional(),
    logUrl: z.string().optional(),
    failedStep: z
      .object({
        step: z.enum(['build', 'test', 'approval', 'deploy']),
        suite: z.string().optional(),
        environment: z.string().optional(),
      })
      .optional(),
    finished: z
      .array(
        z.object({
          step: z.enum(['build', 'test']),
          suite: z.string().optional(),
          state: z.enum(['success', 'failure']),
          phase: z.string().optional(),
          exitCode: z.number().int().optional(),
          reason: z.string().max(1000).optional(),
          logUrl: z.string().optional(),
        }),
      )
      .optional(),
    failures: z
      .array(
        z.object({
          path: z.string().min(1),
          line: z.number().int().min(1),
          message: z.string(),
          title: z.string().optional(),
        }),
      )
      .optional(),
    approval: z
      .object({
        outcome: z.enum(['waiting', 'approved', 'rejected', 'timed-out', 'lost']),
        url: z.string().optional(),
        by: z.string().optional(),
        expiresAt: z.string().optional(),
      })
      .optional(),
  })
  .optional();

const Event = z
  .object({
    request: Request,
    route: Route,
    executionArn: z.string().startsWith('arn:', { message: 'must be an execution ARN' }).nullable(),
    step: z.enum(['pipeline', 'build', 'test', 'approval', 'deploy']),
    suite: Name.optional(),
    environment: Name.optional(),
    state: z.enum(['pending', 'running', 'success', 'failure', 'cancelled', 'skipped']),
    detail: StepDetail,
  })
  .superRefine((event, ctx) => {
    if (event.step === 'test' && !event.suite) {
      ctx.addIssue({ code: 'custom', path: ['suite'], message: 'is required for step "test"' });
    }
    if ((event.step === 'approval' || event.step === 'deploy') && !event.environment) {
      ctx.addIssue({ code: 'custom', path: ['environment'], message: `is required for step "${event.step}"` });
    }
  });

function explain(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

/** Validates a `functions/status` event; throws `StatusEventError` naming the fields that are wrong. */
export function parseStatusEvent(value: unknown): StatusEvent {
  const result = Event.safeParse(value);
  if (!result.success) throw new StatusEventError(`invalid status event: ${explain(result.error)}`);
  return value as StatusEvent;
}

/** Validates an execution's input (as the intake started it), read from an event or from DescribeExecution. */
export function parseExecutionInput(value: unknown): ExecutionInput {
  const result = z.object({ request: Request, route: Route }).safeParse(value);
  if (!result.success) throw new StatusEventError(`invalid execution input: ${explain(result.error)}`);
  return value as ExecutionInput;
}
