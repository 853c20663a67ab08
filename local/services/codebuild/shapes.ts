import type { CodeBuildEvent, CodeBuildEventPhase } from '../../../core/status/contracts';

/**
 * The shapes a local build is seen in. The runner keeps one document per build, in BatchGetBuilds' camelCase
 * with times in milliseconds (`BuildDocument`); from it come:
 * - the CodeBuild API's JSON (`toApiBuild`: times in epoch seconds, as the AWS JSON protocol sends them);
 * - Step Functions' view (`toStatesBuild`: PascalCase keys as `codebuild:startBuild.sync` returns them,
 *   `Build.BuildStatus`, `Build.ExportedEnvironmentVariables[].Name`, times in epoch milliseconds);
 * - CodeBuild's EventBridge events (`stateChangeEvent`, `phaseChangeEvent`), as the build-events function reads them.
 */

export interface PhaseContext {
  readonly statusCode: string;
  readonly message: string;
}

export interface BuildPhase {
  phaseType: string;
  phaseStatus?: string;
  startTime: number;
  endTime?: number;
  durationInSeconds?: number;
  contexts?: PhaseContext[];
}

export interface EnvironmentVariable {
  readonly name: string;
  readonly value: string;
  readonly type?: string;
}

export interface BuildDocument {
  id: string;
  arn: string;
  buildNumber: number;
  startTime: number;
  endTime?: number;
  currentPhase: string;
  buildStatus: string;
  sourceVersion?: string;
  resolvedSourceVersion?: string;
  projectName: string;
  phases: BuildPhase[];
  source: { type: string; location?: string; buildspec?: string; gitCloneDepth?: number };
  secondarySources: unknown[];
  secondarySourceVersions: unknown[];
  artifacts: { location?: string };
  environment: {
    type: string;
    image: string;
    computeType: string;
    environmentVariables: EnvironmentVariable[];
    privilegedMode: boolean;
    imagePullCredentialsType: string;
  };
  serviceRole: string;
  logs: { groupName: string; streamName: string; deepLink: string };
  timeoutInMinutes: number;
  queuedTimeoutInMinutes: number;
  buildComplete: boolean;
  initiator: string;
  encryptionKey: string;
  exportedEnvironmentVariables: { name: string; value: string }[];
  reportArns: string[];
  fileSystemLocations: unknown[];
}

const TIME_KEYS = new Set(['startTime', 'endTime']);

function mapTimes(value: unknown, convert: (ms: number) => number): unknown {
  if (Array.isArray(value)) return value.map((v) => mapTimes(v, convert));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = TIME_KEYS.has(key) && typeof v === 'number' ? convert(v) : mapTimes(v, convert);
  }
  return out;
}

/** The build as the CodeBuild API answers it (AWS JSON 1.1: timestamps in epoch seconds). */
export function toApiBuild(doc: BuildDocument): Record<string, unknown> {
  return mapTimes(doc, (ms) => ms / 1000) as Record<string, unknown>;
}

function pascal(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pascal);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key.charAt(0).toUpperCase() + key.slice(1)] = pascal(v);
  return out;
}

/** The build as Step Functions' `codebuild:startBuild(.sync)` returns it: PascalCase, times in epoch milliseconds. */
export function toStatesBuild(doc: BuildDocument): Record<string, unknown> {
  return pascal(doc) as Record<string, unknown>;
}

/** A StartBuild request as Step Functions passes it (PascalCase) to the API's camelCase. */
export function fromStatesRequest(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromStatesRequest);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key.charAt(0).toLowerCase() + key.slice(1)] = fromStatesRequest(v);
  return out;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/**
 * "Sep 1, 2017 4:12:29 PM", the way CodeBuild's events write times. Written out by hand: `toLocaleString` builds
 * an Intl formatter on every call, and every event carries every phase's times (about 80 ms of a run's CPU).
 */
export function eventTime(ms: number): string {
  const d = new Date(ms);
  const month = MONTHS[d.getUTCMonth()] as string;
  const hours = d.getUTCHours();
  const h12 = hours % 12 === 0 ? 12 : hours % 12;
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  const ss = String(d.getUTCSeconds()).padStart(2, '0');
  return `${month} ${d.getUTCDate()}, ${d.getUTCFullYear()} ${h12}:${mm}:${ss} ${hours < 12 ? 'AM' : 'PM'}`;
}

function eventPhases(doc: BuildDocument): CodeBuildEventPhase[] {
  return doc.phases.map((p) => {
    const phase: Record<string, unknown> = { 'phase-type': p.phaseType, 'start-time': eventTime(p.startTime) };
    if (p.phaseStatus) phase['phase-status'] = p.phaseStatus;
    if (p.endTime !== undefined) phase['end-time'] = eventTime(p.endTime);
    if (p.durationInSeconds !== undefined) phase['duration-in-seconds'] = p.durationInSeconds;
    if (p.contexts)
      phase['phase-context'] = p.contexts.map((c) => (c.statusCode ? `${c.statusCode}: ${c.message}` : c.message));
    return phase as unknown as CodeBuildEventPhase;
  });
}

function additionalInformation(doc: BuildDocument): Record<string, unknown> {
  return {
    artifact: doc.artifacts.location ? { location: doc.artifacts.location } : {},
    environment: {
      image: doc.environment.image,
      'privileged-mode': doc.environment.privilegedMode,
      'compute-type': doc.environment.computeType,
      type: doc.environment.type,
      'environment-variables': doc.environment.environmentVariables.map((v) => ({
        name: v.name,
        type: v.type ?? 'PLAINTEXT',
        value: v.value,
      })),
    },
    'timeout-in-minutes': doc.timeoutInMinutes,
    'build-complete': doc.buildComplete,
    initiator: doc.initiator,
    'build-start-time': eventTime(doc.startTime),
    source: { ...(doc.source.location ? { location: doc.source.location } : {}), type: doc.source.type },
    'source-version': doc.sourceVersion ?? '',
    logs: {
      'group-name': doc.logs.groupName,
      'stream-name': doc.logs.streamName,
      'deep-link': doc.logs.deepLink,
    },
    phases: eventPhases(doc),
  };
}

function envelope(
  doc: BuildDocument,
  type: CodeBuildEvent['detail-type'],
  detail: Record<string, unknown>,
  region: string,
  account: string,
): CodeBuildEvent {
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': type,
    source: 'aws.codebuild',
    account,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [doc.arn],
    detail: detail as unknown as CodeBuildEvent['detail'],
  };
}

/** "CodeBuild Build State Change": the build started (IN_PROGRESS) or ended. */
export function stateChangeEvent(doc: BuildDocument, region: string, account: string): CodeBuildEvent {
  const current = doc.phases.at(-1);
  return envelope(
    doc,
    'CodeBuild Build State Change',
    {
      'build-status': doc.buildStatus,
      'project-name': doc.projectName,
      'build-id': doc.arn,
      'additional-information': additionalInformation(doc),
      'current-phase': doc.currentPhase,
      'current-phase-context': JSON.stringify(current?.contexts?.map((c) => c.message) ?? []),
      version: '1',
    },
    region,
    account,
  );
}

/** "CodeBuild Build Phase Change": a phase completed. */
export function phaseChangeEvent(
  doc: BuildDocument,
  phase: BuildPhase,
  region: string,
  account: string,
): CodeBuildEvent {
  const detail: Record<string, unknown> = {
    'completed-phase': phase.phaseType,
    'project-name': doc.projectName,
    'build-id': doc.arn,
    'completed-phase-context': JSON.stringify(phase.contexts?.map((c) => `${c.statusCode}: ${c.message}`) ?? []),
    'additional-information': additionalInformation(doc),
    'completed-phase-status': phase.phaseStatus ?? 'SUCCEEDED',
    'completed-phase-duration-seconds': phase.durationInSeconds ?? 0,
    version: '1',
    'completed-phase-start': eventTime(phase.startTime),
    'completed-phase-end': eventTime(phase.endTime ?? phase.startTime),
    'build-status': doc.buildStatus,
  };
  return envelope(doc, 'CodeBuild Build Phase Change', detail, region, account);
}
