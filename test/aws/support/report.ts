import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './synth';
import type { AwsWorld } from './world';

/**
 * What the suite measured of the roles: the AWS calls each role's users made (action, resource, allowed or not)
 * and the permissions each role has that no call used (least privilege, measured). Written as JSON to
 * `.ci/out/aws-composition.json` (the CI's output folder, ignored by git) and summed up in one line per role.
 */

export interface RoleReport {
  readonly role: string;
  readonly users: string;
  readonly calls: Record<string, { allowed: number; denied: number }>;
  readonly unused: { action: string; resource: string }[];
}

export function roleReports(world: AwsWorld): RoleReport[] {
  const unused = world.iam.unused();
  return [...world.iam.principals.values()].map((principal) => {
    const calls: RoleReport['calls'] = {};
    for (const call of world.iam.calls.filter((c) => c.principal === principal.roleId)) {
      const key = `${call.authorization.action} ${call.authorization.resource}`;
      calls[key] ??= { allowed: 0, denied: 0 };
      if (call.allowed) calls[key].allowed += 1;
      else calls[key].denied += 1;
    }
    return {
      role: principal.roleId,
      users: principal.users.join(', '),
      calls,
      unused: unused.filter((u) => u.role === principal.roleId).map(({ action, resource }) => ({ action, resource })),
    };
  });
}

/**
 * Writes the report (`<name>.json`; a suite with its own world names its own, so that none overwrites another's)
 * and answers one line per role, for the test's output.
 */
export function writeReport(world: AwsWorld, name = 'aws-composition'): string[] {
  const reports = roleReports(world);
  const dir = join(REPO_ROOT, '.ci/out');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(reports, null, 2)}\n`);
  return reports.map((r) => {
    const total = Object.values(r.calls).reduce((n, c) => n + c.allowed + c.denied, 0);
    const unusedActions = [...new Set(r.unused.map((u) => u.action))];
    return `${r.role} (${r.users || 'no user'}): ${total} calls, ${Object.keys(r.calls).length} distinct; unused: ${unusedActions.join(' ') || 'none'}`;
  });
}
