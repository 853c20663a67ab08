import { html } from 'htm/preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { safeHref } from '../model/links';
import type { ExecutionSummary } from '../source';
import { api, onChanges, type Sections } from './api';
import { PendingApprovals } from './panels';
import { RunButton } from './run';
import { ago, duration, executionPath, follow, STATUS_LABEL, statusClass } from './util';

/** The executions list: filters, newest first, live. */

const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'];

function useNow(ms: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

export function StatusBadge({ status }: { status: string }) {
  return html`<span class=${`badge ${statusClass(status)}`}>${STATUS_LABEL[status] ?? status}</span>`;
}

export function RefCell({ e }: { e: ExecutionSummary }) {
  if (e.pullRequest) {
    const label = `PR #${e.pullRequest.number}`;
    return html`<span title=${`${e.pullRequest.title} (${e.ref ?? ''})`}>${
      safeHref(e.pullRequest.url) ? html`<a href=${safeHref(e.pullRequest.url)} rel="noreferrer">${label}</a>` : label
    } <span class="muted">${e.ref ?? ''}</span></span>`;
  }
  if (!e.ref) return html`<span class="muted">–</span>`;
  return html`<span><span class="muted">${e.refKind === 'tag' ? 'tag ' : ''}</span>${e.ref}</span>`;
}

export function CommitCell({ e }: { e: ExecutionSummary }) {
  if (!e.commit) return html`<span class="muted">–</span>`;
  const short = e.commit.slice(0, 7);
  const title = e.commitMessage ?? e.commit;
  const href = safeHref(e.commitUrl);
  return href
    ? html`<a class="mono" href=${href} title=${title} rel="noreferrer">${short}</a>`
    : html`<span class="mono" title=${title}>${short}</span>`;
}

export function ExecutionsPage() {
  const params = new URLSearchParams(location.search);
  const [status, setStatus] = useState(params.get('status') ?? '');
  const [repository, setRepository] = useState(params.get('repository') ?? '');
  const [rows, setRows] = useState<ExecutionSummary[] | null>(null);
  const [repositories, setRepositories] = useState<readonly string[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [sections, setSections] = useState<Sections | null>(null);
  const count = useRef(50);
  const now = useNow(1000);

  const load = useCallback(async () => {
    try {
      const page = await api.executions({ status, repository, limit: Math.max(50, count.current) });
      setRows([...page.executions]);
      setRepositories(page.repositories);
      setNext(page.next);
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  }, [status, repository]);

  useEffect(() => {
    void api.sections().then(setSections, () => {});
  }, []);
  useEffect(() => {
    const q = new URLSearchParams();
    if (status) q.set('status', status);
    if (repository) q.set('repository', repository);
    const search = q.toString() ? `?${q}` : '';
    if (location.search !== search) history.replaceState(null, '', `/${search}`);
    count.current = 50;
    void load();
  }, [load]);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = onChanges((changes) => {
      if (!changes.some((c) => c.kind === 'execution')) return;
      clearTimeout(timer);
      timer = setTimeout(() => void load(), 100);
    });
    return () => {
      off();
      clearTimeout(timer);
    };
  }, [load]);

  const more = async (): Promise<void> => {
    if (!next) return;
    const page = await api.executions({ status, repository, limit: 50, next });
    setRows((r) => [...(r ?? []), ...page.executions]);
    count.current += page.executions.length;
    setNext(page.next);
  };

  document.title = 'Executions · Stepline';
  return html`
    <section aria-labelledby="executions-title">
      <div class="page-head">
        <div class="title-run"><h1 id="executions-title">Executions</h1><${RunButton} /></div>
        <form class="filters" role="search" aria-label="Filter executions" onSubmit=${(e: Event) => e.preventDefault()}>
          <label>Status
            <select value=${status} onChange=${(e: Event) => setStatus((e.target as HTMLSelectElement).value)}>
              <option value="">All</option>
              ${STATUSES.map((s) => html`<option value=${s}>${STATUS_LABEL[s]}</option>`)}
            </select>
          </label>
          <label>Repository
            <select value=${repository} onChange=${(e: Event) => setRepository((e.target as HTMLSelectElement).value)}>
              <option value="">All</option>
              ${[...new Set([...repositories, ...(repository ? [repository] : [])])].map(
                (r) => html`<option value=${r}>${r}</option>`,
              )}
            </select>
          </label>
        </form>
      </div>
      ${sections?.approvals ? html`<${PendingApprovals} decisions=${sections.decisions} />` : null}
      ${error ? html`<p class="error" role="alert">Could not load the executions: ${error}</p>` : null}
      ${
        rows === null
          ? html`<p class="muted">Loading…</p>`
          : rows.length === 0
            ? html`<p class="empty">No executions${status || repository ? ' match these filters' : ' yet: push to a configured repository, or run npm run demo'}.</p>`
            : html`<div class="table-wrap">
                <table class="executions" aria-describedby="executions-title">
                  <thead><tr>
                    <th scope="col">Name</th><th scope="col">Status</th><th scope="col" class="opt">Repository</th>
                    <th scope="col">Branch / PR</th><th scope="col" class="opt">Commit</th><th scope="col" class="opt">By</th>
                    <th scope="col">Started</th><th scope="col" class="opt">Duration</th>
                  </tr></thead>
                  <tbody>
                    ${rows.map(
                      (e) => html`<tr key=${e.executionArn} data-status=${e.status}>
                        <td class="name"><a href=${executionPath(e.executionArn)} onClick=${follow}>${e.name}</a></td>
                        <td><${StatusBadge} status=${e.status} /></td>
                        <td class="opt">${e.repository ?? html`<span class="muted">–</span>`}</td>
                        <td><${RefCell} e=${e} /></td>
                        <td class="opt commit"><${CommitCell} e=${e} />${
                          e.commitMessage
                            ? html` <span class="message" title=${e.commitMessage}>${e.commitMessage.split('\n')[0]}</span>`
                            : null
                        }</td>
                        <td class="opt">${e.sender ?? html`<span class="muted">–</span>`}</td>
                        <td title=${e.startDate}>${ago(e.startDate, now)}</td>
                        <td class="opt num">${duration(e.startDate, e.stopDate, now)}</td>
                      </tr>`,
                    )}
                  </tbody>
                </table>
              </div>
              ${next ? html`<button class="more" onClick=${more}>Load more</button>` : null}`
      }
    </section>
  `;
}
