import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { type CauseView, causeView, failureOf, meaningfulLines } from '../model/failure';
import type { BuildSummary, ExecutionDetail } from '../source';
import { api } from './api';

/**
 * Why a run failed, readably (issue 17): the step and where, the reason in words, the last meaningful lines of the
 * failed build phase's log, and a stack trace folded away; never the cause's raw JSON with escaped newlines.
 */

function buildLike(b: BuildSummary) {
  return {
    id: b.id,
    status: b.status,
    step: b.step,
    suite: b.suite,
    phases: b.phases.map((p) => ({ name: p.name, status: p.status, messages: p.messages })),
  };
}

export function FailureBanner({
  execution,
  builds,
  onOpenBuild,
}: {
  execution: ExecutionDetail;
  builds: readonly BuildSummary[];
  onOpenBuild: (id: string) => void;
}) {
  const failure = failureOf(execution, builds.map(buildLike));
  const [lines, setLines] = useState<string[]>([]);
  const buildId = failure?.build?.id ?? null;
  const phase = failure?.build?.phase ?? null;
  useEffect(() => {
    if (!buildId) return;
    let stop = false;
    api.buildLog(buildId, phase).then(
      (log) => {
        if (!stop) setLines(meaningfulLines(log.text));
      },
      () => {},
    );
    return () => {
      stop = true;
    };
  }, [buildId, phase]);
  if (!failure) return null;
  const where = [failure.step, failure.suite ?? failure.environment].filter(Boolean).join(' · ');
  const shown = lines.filter((l) => !failure.reason.includes(l));
  return html`<div class="failure" role="alert">
    <div class="failure-head"><strong>${failure.error}</strong>${where ? html` <span class="muted">at ${where}</span>` : null}</div>
    ${failure.reason ? html`<p class="failure-reason">${failure.reason}</p>` : null}
    ${shown.length ? html`<pre class="failure-lines" aria-label="The last lines of the failed phase's log">${shown.join('\n')}</pre>` : null}
    ${failure.detail ? html`<details><summary>Stack trace</summary><pre>${failure.detail}</pre></details>` : null}
    ${buildId ? html`<button type="button" class="link" onClick=${() => onOpenBuild(buildId)}>Open the build log</button>` : null}
  </div>`;
}

/** A state's cause, readably: the sentence, its other facts, the stack trace folded. */
export function CauseBlock({ cause }: { cause: string | undefined }) {
  const view: CauseView | null = causeView(cause);
  if (!view) return null;
  return html`<div class="block error-block"><h4>Cause</h4>
    ${view.summary ? html`<p class="cause-summary">${view.summary}</p>` : null}
    ${
      view.fields.length
        ? html`<dl class="facts cause-fields">${view.fields.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`
        : null
    }
    ${view.trace ? html`<details><summary>Stack trace</summary><pre tabindex="0">${view.trace}</pre></details>` : null}
  </div>`;
}
