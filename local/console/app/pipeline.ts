import { html } from 'htm/preact';
import type { Job, JobLink, JobStatus, Stage } from '../model/stages';
import type { RolloutStep } from '../model/steps';
import type { ApprovalView } from '../source';
import { formatDuration } from './util';

/**
 * The pipeline view, the default of a run (ADR 0077): its stages left to right, build → tests → each
 * environment, each job with its status, its duration and a link to its logs (a build's log, the environment's
 * deployment, the approval gate). The state-machine graph is the next tab.
 */

const LABEL: Readonly<Record<JobStatus, string>> = {
  pending: 'Pending',
  running: 'Running',
  waiting: 'Waiting',
  succeeded: 'Succeeded',
  failed: 'Failed',
  skipped: 'Skipped',
  cancelled: 'Cancelled',
};

/** A glyph beside the word, so that the status does not rest on colour alone. */
const ICON: Readonly<Record<JobStatus, string>> = {
  pending: '○',
  running: '◐',
  waiting: '‖',
  succeeded: '✓',
  failed: '✕',
  skipped: '–',
  cancelled: '⊘',
};

function linkLabel(link: JobLink): string {
  switch (link.kind) {
    case 'build':
      return 'Logs';
    case 'deployment':
      return 'Deployment';
    case 'approval':
      return 'Approval';
    default:
      return 'State';
  }
}

function elapsed(job: Job, now: number): string {
  if (job.startedAt === null) return '';
  return formatDuration((job.endedAt ?? now) - job.startedAt);
}

function JobCard({ job, now, onOpen }: { job: Job; now: number; onOpen: (link: JobLink) => void }) {
  const time = elapsed(job, now);
  const opens = job.status !== 'pending' && job.status !== 'skipped';
  return html`<li class=${`job j-${job.status}`} data-job=${job.id} data-status=${job.status}>
    <span class="job-icon" aria-hidden="true">${ICON[job.status]}</span>
    <span class="job-main">
      <span class="job-name">${job.name}</span>
      <span class="job-meta"><span class="job-status">${LABEL[job.status]}</span>${time ? html` · <span class="num">${time}</span>` : null}${
        job.note ? html` · <span class="job-note">${job.note}</span>` : null
      }</span>
      ${job.steps?.length ? html`<${StepList} steps=${job.steps} />` : null}
    </span>
    ${
      opens
        ? html`<button type="button" class="link job-open" onClick=${() => onOpen(job.link)}
            aria-label=${`${linkLabel(job.link)} of ${job.name}${job.link.kind === 'build' && job.link.suite ? ` (${job.link.suite})` : ''}`}>${linkLabel(job.link)}</button>`
        : null
    }
  </li>`;
}

/** "3 passed · 1 failed · 0 inconclusive" of a step's analysis (with errors when there were any). */
function analysisText(a: NonNullable<RolloutStep['analysis']>): string {
  const counts = `${a.passed} passed · ${a.failed} failed · ${a.inconclusive} inconclusive${a.error ? ` · ${a.error} errors` : ''}`;
  return `${a.count === null ? `${a.rounds} measured` : `${a.rounds}/${a.count} measured`}: ${counts}`;
}

const STEP_LABEL: Readonly<Record<RolloutStep['status'], string>> = {
  running: 'holding',
  waiting: 'a person decides',
  succeeded: 'promoted',
  failed: 'aborted',
  cancelled: 'stopped',
};

/** A canary's or blue-green's steps: each one's weight, pause, analysis counts and what became of it (issue 18). */
function StepList({ steps }: { steps: readonly RolloutStep[] }) {
  return html`<ol class="steps" aria-label="Steps">${steps.map(
    (s) => html`<li class=${`step j-${s.status}`} data-step=${s.index} data-status=${s.status}
        title=${s.analysis?.metrics.map((m) => `${m.name}: ${m.summary}`).join('\n') ?? ''}>
      <span class="job-icon" aria-hidden="true">${ICON[s.status]}</span>
      <span class="step-main">
        <span><span class="step-name">${s.label}</span> <span class="step-outcome">${STEP_LABEL[s.status]}</span></span>
        <span class="job-meta">weight <span class="num">${s.weight}%</span> · pause <span class="num">${formatDuration(
          s.pauseSeconds * 1000,
        )}</span></span>
        ${
          s.analysis
            ? html`<span class="job-meta step-analysis">${analysisText(s.analysis)}${
                s.analysis.verdict && s.analysis.verdict !== 'continue' ? ` · analysis ${s.analysis.verdict}` : ''
              }</span>`
            : null
        }
      </span>
    </li>`,
  )}</ol>`;
}

export interface PipelineViewProps {
  readonly stages: readonly Stage[];
  readonly now: number;
  readonly onOpen: (link: JobLink) => void;
  /** The run's gates: a decided one says who decided it. */
  readonly approvals?: readonly ApprovalView[];
}

/** A gate's job with who decided it, from the run's approvals. */
function withDecider(job: Job, approvals: readonly ApprovalView[]): Job {
  if (job.link.kind !== 'approval' || job.note) return job;
  const environment = job.link.environment;
  const decided = [...approvals].reverse().find((a) => a.environment === environment && a.decidedBy);
  if (decided) return { ...job, note: `${decided.status} by ${decided.decidedBy}` };
  const waiting = approvals.find((a) => a.environment === environment && a.status === 'waiting');
  return waiting && job.status === 'waiting' && waiting.approvers.length
    ? { ...job, note: `for ${waiting.approvers.join(', ')}` }
    : job;
}

export function PipelineView({ stages, now, onOpen, approvals = [] }: PipelineViewProps) {
  if (stages.length === 0) {
    return html`<p class="muted">This execution is not a Stepline pipeline run: see its graph.</p>`;
  }
  return html`<ol class="pipeline" aria-label="Pipeline stages, in order">
    ${stages.map(
      (stage) => html`<li class=${`stage s-${stage.status}`} data-stage=${stage.id} data-status=${stage.status}>
        <h3 class="stage-head"><span class="stage-title">${stage.kind === 'environment' ? html`<span class="muted small">deploy to</span> ` : null}${stage.title}</span>
          <span class=${`badge ${badgeClass(stage.status)}`}>${LABEL[stage.status]}</span></h3>
        <ul class="jobs">${stage.jobs.map(
          (job) => html`<${JobCard} key=${job.id} job=${withDecider(job, approvals)} now=${now} onOpen=${onOpen} />`,
        )}</ul>
      </li>`,
    )}
  </ol>`;
}

function badgeClass(status: JobStatus): string {
  switch (status) {
    case 'succeeded':
      return 'ok';
    case 'running':
    case 'waiting':
      return 'run';
    case 'failed':
      return 'bad';
    default:
      return 'idle';
  }
}
