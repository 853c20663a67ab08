import type { BuildStore, StoredBuild } from '../../store/builds';
import { decodeCursor, encodeCursor, InvalidCursorError } from '../../store/executions';
import { BuildInputError, BuildResourceNotFoundError } from './errors';
import type { TestCase, TestReport } from './reports';

/**
 * The CodeBuild API's read operations over the local builds: BatchGetProjects, ListBuilds, ListBuildsForProject,
 * ListReports, BatchGetReports and DescribeTestCases. Builds come from the build store; a build's test reports
 * from the file its run wrote (`reports(buildId)`), named by the ARNs the build lists in `reportArns`
 * (`arn:aws:codebuild:<region>:<account>:report/<project>-<group>:<build uuid>`). Answers are the API's JSON
 * (AWS JSON 1.1: times in epoch seconds), shaped as the API reference documents them.
 */

/** What the queries read of the local CodeBuild (service.ts). */
export interface BuildCatalog {
  readonly region: string;
  readonly accountId: string;
  project(name: string):
    | {
        readonly name: string;
        readonly description?: string;
        readonly environmentVariables?: readonly { name: string; value: string; type?: string }[];
        readonly buildspec?: string;
        readonly sourceLocation?: string;
        readonly timeoutInMinutes?: number;
      }
    | undefined;
  reports(buildId: string): TestReport[];
}

type Json = Record<string, unknown>;

const REPORT_STATUSES = ['GENERATING', 'SUCCEEDED', 'FAILED', 'INCOMPLETE', 'DELETING'] as const;
const CASE_STATUSES = ['SUCCEEDED', 'FAILED', 'ERROR', 'SKIPPED', 'UNKNOWN'] as const;
const REPORT_ARN = /^arn:aws[a-z-]*:codebuild:[a-z0-9-]+:\d{12}:report\/([^:]+):([0-9a-f-]{36})$/i;
/** A report expires 30 days after it is created (the API reference's Report.expired). */
const EXPIRY_MS = 30 * 24 * 3600 * 1000;
const PAGE = 100;

function seconds(ms: number): number {
  return ms / 1000;
}

function sortOrder(value: unknown): 'ASCENDING' | 'DESCENDING' {
  if (value === undefined || value === null) return 'DESCENDING';
  if (value !== 'ASCENDING' && value !== 'DESCENDING') {
    throw new BuildInputError(`Invalid sortOrder ${String(value)}: must be ASCENDING or DESCENDING`);
  }
  return value;
}

function maxResults(value: unknown): number {
  if (value === undefined || value === null) return PAGE;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 100) {
    throw new BuildInputError(`Invalid maxResults ${String(value)}: must be from 1 to 100`);
  }
  return value;
}

function token<T>(kind: string, value: unknown): T | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  try {
    if (typeof value !== 'string') throw new InvalidCursorError();
    return decodeCursor<T>(kind, value);
  } catch {
    throw new BuildInputError('Invalid nextToken');
  }
}

function nameOf(value: string): string {
  const at = value.indexOf(':project/');
  return at >= 0 ? value.slice(at + ':project/'.length) : value;
}

function sourceType(location: string | undefined): string {
  if (!location) return 'NO_SOURCE';
  if (/github/i.test(location)) return 'GITHUB';
  if (/gitlab/i.test(location)) return 'GITLAB';
  if (/bitbucket/i.test(location)) return 'BITBUCKET';
  return 'NO_SOURCE';
}

export class CodeBuildQueries {
  /** Projects are registered when the runtime starts: their creation date is that moment. */
  private readonly registeredAt = Date.now();

  public constructor(
    private readonly catalog: BuildCatalog,
    private readonly store: BuildStore,
  ) {}

  // ------------------------------------------------------------------------------------------ projects

  public batchGetProjects(input: { names?: unknown }): { projects: Json[]; projectsNotFound: string[] } {
    const names = input.names;
    if (!Array.isArray(names) || names.length < 1 || names.length > 100 || !names.every((n) => typeof n === 'string')) {
      throw new BuildInputError('names must be a list of 1 to 100 project names or ARNs');
    }
    const projects: Json[] = [];
    const projectsNotFound: string[] = [];
    for (const raw of names as string[]) {
      const project = this.catalog.project(nameOf(raw));
      if (project) projects.push(this.projectJson(project));
      else projectsNotFound.push(raw);
    }
    return { projects, projectsNotFound };
  }

  private projectJson(project: NonNullable<ReturnType<BuildCatalog['project']>>): Json {
    const { region, accountId } = this.catalog;
    const source: Json = { type: sourceType(project.sourceLocation) };
    if (project.sourceLocation) source['location'] = project.sourceLocation;
    if (project.buildspec) source['buildspec'] = project.buildspec;
    return {
      name: project.name,
      arn: `arn:aws:codebuild:${region}:${accountId}:project/${project.name}`,
      ...(project.description ? { description: project.description } : {}),
      source,
      secondarySources: [],
      secondarySourceVersions: [],
      artifacts: { type: 'NO_ARTIFACTS' },
      secondaryArtifacts: [],
      cache: { type: 'NO_CACHE' },
      environment: {
        type: 'LINUX_CONTAINER',
        image: 'stepline/local-runner',
        computeType: 'BUILD_GENERAL1_SMALL',
        environmentVariables: (project.environmentVariables ?? []).map((v) => ({
          name: v.name,
          value: v.value,
          type: v.type ?? 'PLAINTEXT',
        })),
        privilegedMode: false,
        imagePullCredentialsType: 'CODEBUILD',
      },
      serviceRole: `arn:aws:iam::${accountId}:role/stepline-local-build`,
      timeoutInMinutes: project.timeoutInMinutes ?? 60,
      queuedTimeoutInMinutes: 480,
      encryptionKey: `arn:aws:kms:${region}:${accountId}:alias/aws/s3`,
      tags: [],
      created: seconds(this.registeredAt),
      lastModified: seconds(this.registeredAt),
      badge: { badgeEnabled: false },
      logsConfig: { cloudWatchLogs: { status: 'ENABLED' }, s3Logs: { status: 'DISABLED', encryptionDisabled: false } },
      projectVisibility: 'PRIVATE',
    };
  }

  // ------------------------------------------------------------------------------------------ builds

  /** ListBuilds: every build id, newest first by default, 100 a page. */
  public listBuilds(input: { sortOrder?: unknown; nextToken?: unknown }): { ids: string[]; nextToken?: string } {
    return this.buildPage(undefined, input);
  }

  /** ListBuildsForProject: ResourceNotFoundException for a project the runtime does not have. */
  public listBuildsForProject(input: { projectName?: unknown; sortOrder?: unknown; nextToken?: unknown }): {
    ids: string[];
    nextToken?: string;
  } {
    const name = input.projectName;
    if (typeof name !== 'string' || name === '') throw new BuildInputError('projectName is required');
    if (!this.catalog.project(name)) {
      throw new BuildResourceNotFoundError(
        `Project cannot be found: arn:aws:codebuild:${this.catalog.region}:${this.catalog.accountId}:project/${name}`,
      );
    }
    return this.buildPage(name, input);
  }

  private buildPage(
    projectName: string | undefined,
    input: { sortOrder?: unknown; nextToken?: unknown },
  ): { ids: string[]; nextToken?: string } {
    const order = sortOrder(input.sortOrder);
    const kind = `builds:${projectName ?? '*'}:${order}`;
    const after = token<{ startTime: number; id: string }>(kind, input.nextToken);
    const page = this.store.ids({ projectName }, order, PAGE, after);
    return { ids: page.ids, ...(page.last ? { nextToken: encodeCursor(kind, page.last) } : {}) };
  }

  // ------------------------------------------------------------------------------------------ reports

  private reportOf(arn: string): { report: TestReport; build: StoredBuild } | undefined {
    const m = REPORT_ARN.exec(arn);
    const build = m ? this.store.byUuid(m[2] as string) : undefined;
    const report = build ? this.catalog.reports(build.id).find((r) => r.arn === arn) : undefined;
    return build && report ? { report, build } : undefined;
  }

  private reportJson(report: TestReport, build: StoredBuild): Json {
    const { region, accountId } = this.catalog;
    const group = REPORT_ARN.exec(report.arn)?.[1] ?? report.group;
    const phases = (build.document['phases'] ?? []) as { phaseType?: string; startTime?: number }[];
    const created = phases.find((p) => p.phaseType === 'UPLOAD_ARTIFACTS')?.startTime ?? build.startTime;
    const failed = report.statusCounts.FAILED + report.statusCounts.ERROR;
    return {
      arn: report.arn,
      type: 'TEST',
      name: group,
      reportGroupArn: `arn:aws:codebuild:${region}:${accountId}:report-group/${group}`,
      executionId: String(build.document['arn'] ?? ''),
      status: failed > 0 ? 'FAILED' : report.problems.length > 0 ? 'INCOMPLETE' : 'SUCCEEDED',
      created: seconds(created),
      expired: seconds(created + EXPIRY_MS),
      exportConfig: { exportConfigType: 'NO_EXPORT' },
      truncated: false,
      testSummary: {
        total: report.total,
        statusCounts: { ...report.statusCounts, UNKNOWN: 0 },
        durationInNanoSeconds: Math.round(report.durationSeconds * 1e9),
      },
    };
  }

  public batchGetReports(input: { reportArns?: unknown }): { reports: Json[]; reportsNotFound: string[] } {
    const arns = input.reportArns;
    if (!Array.isArray(arns) || arns.length < 1 || arns.length > 100 || !arns.every((a) => typeof a === 'string')) {
      throw new BuildInputError('reportArns must be a list of 1 to 100 report ARNs');
    }
    const reports: Json[] = [];
    const reportsNotFound: string[] = [];
    for (const arn of arns as string[]) {
      const found = this.reportOf(arn);
      if (found) reports.push(this.reportJson(found.report, found.build));
      else reportsNotFound.push(arn);
    }
    return { reports, reportsNotFound };
  }

  /** ListReports: the ARNs of every build's reports, the newest build's first by default. */
  public listReports(input: { sortOrder?: unknown; nextToken?: unknown; maxResults?: unknown; filter?: unknown }): {
    reports: string[];
    nextToken?: string;
  } {
    const order = sortOrder(input.sortOrder);
    const limit = maxResults(input.maxResults);
    const status = (input.filter as { status?: unknown } | undefined)?.status;
    if (status !== undefined && !(REPORT_STATUSES as readonly unknown[]).includes(status)) {
      throw new BuildInputError(
        `Invalid filter status ${String(status)}: must be one of ${REPORT_STATUSES.join(', ')}`,
      );
    }
    const kind = `reports:${order}:${String(status ?? '*')}`;
    const start = token<number>(kind, input.nextToken) ?? 0;
    let arns = this.store.reportArns().flatMap((b) => b.arns);
    if (order === 'ASCENDING') arns = arns.reverse();
    if (status !== undefined) {
      arns = arns.filter((arn) => {
        const found = this.reportOf(arn);
        return found !== undefined && this.reportJson(found.report, found.build)['status'] === status;
      });
    }
    const page = arns.slice(start, start + limit);
    return { reports: page, ...(start + limit < arns.length ? { nextToken: encodeCursor(kind, start + limit) } : {}) };
  }

  /** DescribeTestCases: a report's test cases, filtered by status or by a keyword of their name or prefix. */
  public describeTestCases(input: {
    reportArn?: unknown;
    nextToken?: unknown;
    maxResults?: unknown;
    filter?: unknown;
  }): {
    testCases: Json[];
    nextToken?: string;
  } {
    const arn = input.reportArn;
    if (typeof arn !== 'string' || arn === '') throw new BuildInputError('reportArn is required');
    const limit = maxResults(input.maxResults);
    const filter = (input.filter ?? {}) as { status?: unknown; keyword?: unknown };
    if (filter.status !== undefined && !(CASE_STATUSES as readonly unknown[]).includes(filter.status)) {
      throw new BuildInputError(
        `Invalid filter status ${String(filter.status)}: must be one of ${CASE_STATUSES.join(', ')}`,
      );
    }
    const found = this.reportOf(arn);
    if (!found) throw new BuildResourceNotFoundError(`Report not found: ${arn}`);
    const keyword = typeof filter.keyword === 'string' ? filter.keyword : undefined;
    const cases = found.report.cases.filter(
      (c) =>
        (filter.status === undefined || c.status === filter.status) &&
        (keyword === undefined || c.name.includes(keyword) || c.suite.includes(keyword)),
    );
    const kind = `cases:${arn}:${String(filter.status ?? '*')}:${keyword ?? ''}`;
    const start = token<number>(kind, input.nextToken) ?? 0;
    const created = Number(this.reportJson(found.report, found.build)['created']);
    const rawPath = found.report.files.length === 1 ? found.report.files[0] : undefined;
    const testCases = cases.slice(start, start + limit).map((c) => caseJson(arn, c, created, rawPath));
    return { testCases, ...(start + limit < cases.length ? { nextToken: encodeCursor(kind, start + limit) } : {}) };
  }
}

function caseJson(reportArn: string, c: TestCase, createdSeconds: number, rawPath: string | undefined): Json {
  return {
    reportArn,
    ...(rawPath ? { testRawDataPath: rawPath } : {}),
    prefix: c.suite,
    name: c.name,
    status: c.status,
    durationInNanoSeconds: Math.round(c.durationSeconds * 1e9),
    ...(c.message ? { message: c.message } : {}),
    expired: createdSeconds + EXPIRY_MS / 1000,
  };
}
