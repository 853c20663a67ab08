import { html } from 'htm/preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { CODEBUILD_PHASES } from '../../../core/status/phases';
import { safeHref } from '../model/links';
import type { StateRun, StateSummary } from '../model/status';
import type { ApprovalView, BuildSummary, CommitStatusView, DeploymentView } from '../source';
import { api, onChanges } from './api';
import { CauseBlock } from './failure';
import { useIdentity } from './identity';
import { ago, executionPath, follow, formatDuration, formatTime, pretty, STATUS_LABEL, statusClass } from './util';

/** The execution page's panels: state details, approvals, builds and logs, statuses, deployments. */

function Badge({ status, label }: { status: string; label?: string }) {
  return html`<span class=${`badge ${statusClass(status)}`}>${label ?? STATUS_LABEL[status] ?? status}</span>`;
}

function Block({ title, text, kind }: { title: string; text: string | undefined; kind?: string }) {
  if (text === undefined || text === '') return null;
  return html`<div class=${`block ${kind ?? ''}`}><h4>${title}</h4><pre tabindex="0">${pretty(text)}</pre></div>`;
}

/** Input, output, error and cause of the selected state (one run of it at a time, for Map items). */
/** Past this many runs (Map items), the panel offers a run number instead of a list. */
const MAX_RUN_OPTIONS = 50;

function runLabel(run: StateRun, index: number): string {
  return run.iteration !== undefined ? `Item ${run.iteration}` : `Run ${index + 1}`;
}

export interface StatePanelProps {
  readonly summary: StateSummary | undefined;
  readonly name: string | null;
  /** The builds this state started (CodeBuild tasks), with a way to open their log. */
  readonly builds?: readonly BuildSummary[];
  readonly onOpenBuild?: (id: string) => void;
}

export function StatePanel({ summary, name, builds = [], onOpenBuild }: StatePanelProps) {
  const [runId, setRunId] = useState<number | null>(null);
  useEffect(() => setRunId(null), [name]);
  if (!name) {
    return html`<aside class="state-panel" aria-label="State details"><p class="muted">Select a state in the graph (click, or Tab to it and press Enter) to see its input, output, error and cause.</p></aside>`;
  }
  if (!summary) {
    return html`<aside class="state-panel" aria-label="State details"><h2>${name}</h2><p class="muted">This state has not run in this execution.</p></aside>`;
  }
  const run: StateRun = summary.runs.find((r) => r.enteredId === runId) ?? summary.shown;
  const elapsed = run.exitedAt !== undefined ? formatDuration(run.exitedAt - run.enteredAt) : null;
  return html`<aside class="state-panel" aria-label=${`State ${name}`} aria-live="polite">
    <div class="panel-head"><h2>${name}</h2><${Badge} status=${summary.status} /></div>
    ${
      summary.runs.length > 1 && summary.runs.length <= MAX_RUN_OPTIONS
        ? html`<label class="runs">Run <select value=${String(run.enteredId)}
            onChange=${(e: Event) => setRunId(Number((e.target as HTMLSelectElement).value))}>
            ${summary.runs.map(
              (r, i) =>
                html`<option value=${String(r.enteredId)}>${runLabel(r, i)} · ${STATUS_LABEL[r.status]}${r.superseded ? ' (before redrive)' : ''}</option>`,
            )}
          </select></label>`
        : null
    }
    ${
      summary.runs.length > MAX_RUN_OPTIONS
        ? html`<div class="runs">
            <label>Run <input type="number" min="1" max=${summary.runs.length} value=${summary.runs.indexOf(run) + 1}
              onChange=${(e: Event) => {
                const n = Number((e.target as HTMLInputElement).value);
                const picked = summary.runs[Math.min(summary.runs.length, Math.max(1, n)) - 1];
                if (picked) setRunId(picked.enteredId);
              }} /> of ${summary.runs.length}</label>
            <span>${runLabel(run, summary.runs.indexOf(run))} · ${STATUS_LABEL[run.status]}</span>
            ${Object.entries(summary.counts)
              .map(([status, count]) => `${count} ${(STATUS_LABEL[status] ?? status).toLowerCase()}`)
              .join(', ')}
          </div>`
        : null
    }
    <dl class="facts">
      <dt>Type</dt><dd>${run.stateType}</dd>
      <dt>Entered</dt><dd>${formatTime(run.enteredAt)}</dd>
      ${elapsed ? html`<dt>Duration</dt><dd>${elapsed}</dd>` : null}
      ${run.retries > 0 ? html`<dt>Retries</dt><dd>${run.retries}</dd>` : null}
    </dl>
    ${
      builds.length > 0 && onOpenBuild
        ? html`<div class="block"><h4>Builds</h4><ul class="state-builds">${builds.map(
            (b) => html`<li><button type="button" class="link" onClick=${() => onOpenBuild(b.id)}
                aria-label=${`Open the log of build ${b.id}`}>${b.suite ?? b.projectName}</button>
              <${Badge} status=${b.status} /></li>`,
          )}</ul></div>`
        : null
    }
    ${run.error !== undefined ? html`<div class="block error-block"><h4>Error</h4><p class="state-error">${run.error}</p></div>` : null}
    <${CauseBlock} cause=${run.cause} />
    <${Block} title="Input" text=${run.input} />
    <${Block} title="Output" text=${run.output} />
  </aside>`;
}

function ApprovalItem({
  approval,
  decisions,
  showRun,
  onDecided,
}: {
  approval: ApprovalView;
  decisions: boolean;
  showRun: boolean;
  onDecided: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [reason, setReason] = useState('');
  const by = useIdentity();
  const decide = async (d: 'approve' | 'reject'): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await api.decide(approval.id, d, by, reason.trim() || undefined);
      onDecided();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const expires = new Date(approval.expiresAt * 1000).toISOString();
  return html`<li class="approval" data-approval=${approval.id}>
    <div>
      <strong>Deploy to ${approval.environment}</strong>
      <span class="muted"> · ${approval.repository} · ${approval.ref} · <span class="mono">${approval.commitSha.slice(0, 7)}</span></span>
      ${showRun ? html` · <a href=${executionPath(approval.executionArn)} onClick=${follow}>run</a>` : null}
      <div class="muted small">Requested ${formatTime(approval.requestedAt)} · expires ${formatTime(expires)}${
        approval.approvers.length ? ` · approvers: ${approval.approvers.join(', ')}` : ''
      }</div>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    </div>
    ${
      approval.status === 'waiting'
        ? html`<div class="actions">
            ${
              decisions
                ? html`<input type="text" class="reason" value=${reason} size="18" maxlength="500"
                    placeholder="Reason (for a rejection)"
                    aria-label=${`Reason for the decision on ${approval.environment}`}
                    onInput=${(e: Event) => setReason((e.target as HTMLInputElement).value)} />`
                : null
            }
            ${
              decisions
                ? html`<button class="primary" disabled=${busy} onClick=${() => decide('approve')}
                aria-label=${`Approve the deploy to ${approval.environment}`}>Approve</button>
              <button class="danger" disabled=${busy} onClick=${() => decide('reject')}
                aria-label=${`Reject the deploy to ${approval.environment}`}>Reject</button>`
                : null
            }
            ${safeHref(approval.url) ? html`<a href=${safeHref(approval.url)} target="_blank" rel="noreferrer">Approval page</a>` : null}
          </div>`
        : html`<${Badge} status=${approval.status} label=${`${approval.status}${approval.decidedBy ? ` by ${approval.decidedBy}` : ''}`} />`
    }
  </li>`;
}

/** Every gate waiting for a decision (the executions page). */
export function PendingApprovals({ decisions }: { decisions: boolean }) {
  const [list, setList] = useState<ApprovalView[]>([]);
  const load = useCallback(() => void api.pendingApprovals().then(setList, () => {}), []);
  useEffect(() => {
    load();
    return onChanges((changes) => {
      if (changes.some((c) => c.kind === 'approval' || c.kind === 'execution' || c.kind === 'history')) load();
    });
  }, [load]);
  if (list.length === 0) return null;
  return html`<section class="approvals" aria-labelledby="pending-title">
    <h2 id="pending-title">Waiting for approval (${list.length})</h2>
    <ul>${list.map((a) => html`<${ApprovalItem} key=${a.id} approval=${a} decisions=${decisions} showRun=${true} onDecided=${load} />`)}</ul>
  </section>`;
}

/** The gates of one run. */
export function RunApprovals({
  list,
  decisions,
  onDecided,
}: {
  list: ApprovalView[];
  decisions: boolean;
  onDecided: () => void;
}) {
  if (list.length === 0) return null;
  const waiting = list.filter((a) => a.status === 'waiting').length;
  return html`<section class="approvals" aria-labelledby="run-approvals">
    <h2 id="run-approvals">Approvals${waiting ? ` (${waiting} waiting)` : ''}</h2>
    <ul>${list.map((a) => html`<${ApprovalItem} key=${a.id} approval=${a} decisions=${decisions} showRun=${false} onDecided=${onDecided} />`)}</ul>
  </section>`;
}

const PHASE_ORDER: readonly string[] = CODEBUILD_PHASES;

export function Builds({ builds, logs, open }: { builds: BuildSummary[]; logs: boolean; open?: string | null }) {
  const [shown, setShown] = useState<{ id: string; phase: string | null } | null>(
    open ? { id: open, phase: null } : null,
  );
  const [text, setText] = useState<string>('');
  const [loading, setLoading] = useState(false);
  useEffect(() => {
    if (!shown) return;
    let stop = false;
    const load = (): void => {
      setLoading(true);
      api.buildLog(shown.id, shown.phase).then(
        (log) => {
          if (stop) return;
          setText(log.text || '(no output)');
          setLoading(false);
        },
        (e: Error) => {
          if (!stop) setText(`Could not load the log: ${e.message}`);
          setLoading(false);
        },
      );
    };
    load();
    const off = onChanges((changes) => {
      if (changes.some((c) => c.kind === 'build' && c.buildId === shown.id)) load();
    });
    return () => {
      stop = true;
      off();
    };
  }, [shown]);
  if (builds.length === 0) return html`<p class="muted">No builds yet.</p>`;
  return html`<div class="builds">
    <ul>
      ${builds.map((b) => {
        const phases = [...b.phases].sort((x, y) => PHASE_ORDER.indexOf(x.name) - PHASE_ORDER.indexOf(y.name));
        return html`<li class="build" data-build=${b.id}>
          <div class="build-head"><strong>${b.step ?? b.projectName}${b.suite ? `: ${b.suite}` : ''}</strong>
            <${Badge} status=${b.status} />
            <span class="muted small mono">${b.id}</span>
            ${logs ? html`<button type="button" class="link" onClick=${() => setShown({ id: b.id, phase: null })}>Full log</button>` : null}
          </div>
          <ol class="phases" aria-label=${`Phases of ${b.id}`}>
            ${phases.map(
              (
                p,
              ) => html`<li><button type="button" class=${`phase ${statusClass(p.status ?? 'IN_PROGRESS')}${shown?.id === b.id && shown.phase === p.name ? ' on' : ''}`}
                  disabled=${!logs} onClick=${() => setShown({ id: b.id, phase: p.name })}
                  title=${p.messages.join('\n') || undefined}
                  aria-label=${`${p.name}: ${p.status ?? 'in progress'}${p.durationSeconds !== null ? `, ${p.durationSeconds} s` : ''}. Show its log`}>
                ${p.name.toLowerCase().replace(/_/g, ' ')}${p.durationSeconds !== null ? html` <span class="small">${p.durationSeconds}s</span>` : null}
              </button></li>`,
            )}
          </ol>
        </li>`;
      })}
    </ul>
    ${
      shown
        ? html`<div class="log" role="region" aria-label="Build log">
            <div class="panel-head"><h3>${shown.phase ? `${shown.phase} log` : 'Full log'} <span class="muted small mono">${shown.id}</span></h3>
              <button type="button" onClick=${() => setShown(null)}>Close</button></div>
            <pre tabindex="0" aria-busy=${loading}>${text}</pre>
          </div>`
        : null
    }
  </div>`;
}

/**
 * The latest status of each context, in the order the contexts first appeared: what the Git host shows on the
 * commit (the tab counts these, not every update posted).
 */
export function latestStatuses(list: readonly CommitStatusView[]): CommitStatusView[] {
  const latest = new Map<string, CommitStatusView>();
  for (const s of list) latest.set(s.context, s);
  return [...latest.values()];
}

export function Statuses({ list, now }: { list: CommitStatusView[]; now: number }) {
  if (list.length === 0) return html`<p class="muted">No statuses posted yet.</p>`;
  const latest = latestStatuses(list);
  return html`<div class="table-wrap"><table class="statuses">
    <thead><tr><th scope="col">Context</th><th scope="col">State</th><th scope="col">Description</th><th scope="col" class="opt">Posted</th></tr></thead>
    <tbody>${latest.map(
      (
        s,
      ) => html`<tr><td>${safeHref(s.targetUrl) ? html`<a href=${safeHref(s.targetUrl)} rel="noreferrer">${s.context}</a>` : s.context}</td>
        <td><${Badge} status=${s.state} /></td><td>${s.description ?? ''}</td><td class="opt" title=${s.createdAt}>${ago(s.createdAt, now)}</td></tr>`,
    )}</tbody>
  </table></div>`;
}

export function Deployments({ list }: { list: DeploymentView[] }) {
  if (list.length === 0) return html`<p class="muted">This run deploys nowhere.</p>`;
  return html`<ul class="deployments">${list.map(
    (d) => html`<li>
      <div><strong>${d.environment}</strong> <${Badge} status=${d.status} />
        ${safeHref(d.url) ? html` <a href=${safeHref(d.url)} rel="noreferrer">${d.url}</a>` : d.url ? html` <span>${d.url}</span>` : null}</div>
      <div class="muted small">${[d.cluster && `cluster ${d.cluster}`, d.namespace && `namespace ${d.namespace}`].filter(Boolean).join(' · ')}</div>
      ${
        d.objects.length
          ? html`<ul class="objects">${d.objects.map(
              (o) =>
                html`<li class="mono small">${safeHref(o.link) ? html`<a href=${safeHref(o.link)} rel="noreferrer">${o.kind}/${o.name}</a>` : `${o.kind}/${o.name}`}</li>`,
            )}</ul>`
          : null
      }
    </li>`,
  )}</ul>`;
}
