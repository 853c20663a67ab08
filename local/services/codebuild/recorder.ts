import type { CodeBuildEvent } from '../../../core/status/contracts';
import type { BuildStore } from '../../store/builds';
import { type ActiveBuild, isoLog } from './active';
import { type BuildPhase, type PhaseContext, phaseChangeEvent, stateChangeEvent } from './shapes';

const FINAL_STATUSES = new Set(['SUCCEEDED', 'FAILED', 'FAULT', 'TIMED_OUT', 'STOPPED']);

/**
 * What a build leaves behind as it goes: its document saved on every change, its log lines, and CodeBuild's
 * EventBridge events for every phase and state change. One recorder serves every build of the service.
 */
export class BuildRecorder {
  public constructor(
    private readonly store: BuildStore,
    private readonly region: string,
    private readonly accountId: string,
    private readonly onEvent: ((event: CodeBuildEvent) => void) | undefined,
    /** Told once a build has ended and its document is final (the service forgets it, prunes work folders). */
    private readonly onFinished: (build: ActiveBuild) => void,
  ) {}

  public save(build: ActiveBuild, executionArn: string | null): void {
    this.store.save({
      id: build.doc.id,
      projectName: build.doc.projectName,
      buildNumber: build.doc.buildNumber,
      status: build.doc.buildStatus,
      startTime: build.doc.startTime,
      executionArn,
      pgid: build.child?.pid ?? null,
      document: build.doc as unknown as Record<string, unknown>,
    });
  }

  public log(build: ActiveBuild, phase: string, text: string): void {
    this.store.log(build.doc.id, phase, text);
  }

  /** A `[Container] <time> <text>` line of the log. */
  public line(build: ActiveBuild, phase: string, text: string): void {
    this.log(build, phase, `[Container] ${isoLog(Date.now())} ${text}\n`);
  }

  public emit(event: CodeBuildEvent): void {
    try {
      this.onEvent?.(event);
    } catch {
      // An event listener never stops a build.
    }
  }

  public started(build: ActiveBuild): void {
    this.emit(stateChangeEvent(build.doc, this.region, this.accountId));
  }

  public beginPhase(build: ActiveBuild, phaseType: string, executionArn: string | null): BuildPhase {
    const phase: BuildPhase = { phaseType, startTime: Date.now() };
    build.doc.phases.push(phase);
    build.doc.currentPhase = phaseType;
    this.save(build, executionArn);
    this.log(build, phaseType, `[Container] ${isoLog(phase.startTime)} Entering phase ${phaseType}\n`);
    return phase;
  }

  public endPhase(
    build: ActiveBuild,
    phase: BuildPhase,
    status: string,
    executionArn: string | null,
    context?: PhaseContext,
  ): void {
    phase.endTime = Date.now();
    phase.phaseStatus = status;
    phase.durationInSeconds = Math.round((phase.endTime - phase.startTime) / 1000);
    phase.contexts = context ? [context] : [{ statusCode: '', message: '' }];
    this.save(build, executionArn);
    this.log(
      build,
      phase.phaseType,
      `[Container] ${isoLog(phase.endTime)} Phase complete: ${phase.phaseType} State: ${status}\n`,
    );
    if (context) {
      this.log(
        build,
        phase.phaseType,
        `[Container] ${isoLog(phase.endTime)} Phase context status code: ${context.statusCode} Message: ${context.message}\n`,
      );
    }
    this.emit(phaseChangeEvent(build.doc, phase, this.region, this.accountId));
  }

  public quickPhase(build: ActiveBuild, phaseType: string, executionArn: string | null): void {
    const phase = this.beginPhase(build, phaseType, executionArn);
    this.endPhase(build, phase, 'SUCCEEDED', executionArn);
  }

  /** Ends the build with `status` (once): COMPLETED, saved, its log closed, its event sent, its waiters told. */
  public finish(build: ActiveBuild, status: string, executionArn: string | null): void {
    if (FINAL_STATUSES.has(build.doc.buildStatus) && build.doc.buildComplete) return;
    const now = Date.now();
    build.doc.buildStatus = status;
    build.doc.buildComplete = true;
    build.doc.endTime = now;
    build.doc.currentPhase = 'COMPLETED';
    build.doc.phases.push({ phaseType: 'COMPLETED', startTime: now });
    build.child = null;
    this.save(build, executionArn);
    this.log(build, 'COMPLETED', `[Container] ${isoLog(now)} Build ${status.toLowerCase().replace('_', ' ')}\n`);
    this.store.closeLog(build.doc.id);
    this.onFinished(build);
    this.emit(stateChangeEvent(build.doc, this.region, this.accountId));
    build.resolve(structuredClone(build.doc));
  }
}
