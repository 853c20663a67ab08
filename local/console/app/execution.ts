import { html } from 'htm/preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { graphOf } from '../model/graph';
import { layoutGraph } from '../model/layout';
import { readHistory } from '../model/status';
import type {
  ApprovalView,
  BuildSummary,
  CommitStatusView,
  DeploymentView,
  ExecutionDetail,
  HistoryEventJson,
} from '../source';
import { api, onChanges, type Sections } from './api';
import { WorkflowGraph } from './graph';
import { HistoryTable } from './history';
import { CommitCell, RefCell, StatusBadge } from './list';
import { Builds, Deployments, RunApprovals, StatePanel, Statuses } from './panels';
import { duration, formatTime, pretty } from './util';

/** One execution: header and actions, approvals, the graph with the selected state, history, builds, statuses. */

function useHistory(arn: string, status: string | undefined) {
  const [events, setEvents] = useState<HistoryEventJson[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const busy = useRef(false);
  const again = useRef(false);
  const list = useRef<HistoryEventJson[]>([]);
  const fetchMore = useCallback(async () => {
    if (busy.current) {
      again.current = true;
      return;
    }
    busy.current = true;
    try {
      do {
        again.current = false;
        let more = true;
        while (more) {
          const after = list.current.length ? (list.current[list.current.length - 1] as HistoryEventJson).id : 0;
          const page = await api.history(arn, after, 5000);
          if (page.events.length) {
            list.current = list.current.concat(page.events);
            setEvents(list.current);
          }
          more = page.more && page.events.length > 0;
        }
      } while (again.current);
      setLoaded(true);
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      busy.current = false;
    }
  }, [arn]);
  useEffect(() => {
    void fetchMore();
  }, [fetchMore, status]);
  return { events, loaded, error, fetchMore };
}

type Tab = 'graph' | 'events' | 'builds' | 'statuses' | 'deployments' | 'io';

export function ExecutionPage({ arn }: { arn: string }) {
  const [execution, setExecution] = useState<ExecutionDetail | null>(null);
  const [missing, setMissing] = useState<string | null>(null);
  const [definition, setDefinition] = useState<unknown>(undefined);
  const [sections, setSections] = useState<Sections | null>(null);
  const [approvals, setApprovals] = useState<ApprovalView[]>([]);
  const [builds, setBuilds] = useState<BuildSummary[]>([]);
  const [statuses, setStatuses] = useState<CommitStatusView[]>([]);
  const [deployments, setDeployments] = useState<DeploymentView[]>([]);
  const [selected, setSelected] = useState<string | null>(null);
  const [picked, setPicked] = useState(false);
  const [tab, setTab] = useState<Tab>('graph');
  const [openBuild, setOpenBuild] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [now, setNow] = useState(Date.now());
  const history = useHistory(arn, execution?.status);

  const loadExecution = useCallback(
    () =>
      api.execution(arn).then(
        (e) => {
          setExecution(e);
          setMissing(null);
        },
        (e: Error) => setMissing(e.message),
      ),
    [arn],
  );
  const loadApprovals = useCallback(() => void api.approvalsOf(arn).then(setApprovals, () => {}), [arn]);
  const loadBuilds = useCallback(() => void api.builds(arn).then(setBuilds, () => {}), [arn]);
  const loadStatuses = useCallback(() => void api.statuses(arn).then(setStatuses, () => {}), [arn]);
  const loadDeployments = useCallback(() => void api.deployments(arn).then(setDeployments, () => {}), [arn]);

  useEffect(() => {
    void loadExecution();
    void api.definition(arn).then(setDefinition, () => setDefinition(null));
    void api.sections().then(setSections, () => {});
  }, [arn, loadExecution]);
  useEffect(() => {
    if (!sections) return;
    if (sections.approvals) loadApprovals();
    if (sections.builds) loadBuilds();
    if (sections.statuses) loadStatuses();
    if (sections.deployments) loadDeployments();
  }, [sections, loadApprovals, loadBuilds, loadStatuses, loadDeployments]);

  useEffect(() => {
    let slow: ReturnType<typeof setTimeout> | undefined;
    const fetchHistory = history.fetchMore;
    const off = onChanges((changes) => {
      let history = false;
      let run = false;
      for (const c of changes) {
        if (c.kind === 'history' && c.executionArn === arn) history = true;
        if (c.kind === 'execution' && c.executionArn === arn) run = true;
        if (c.kind === 'approval' && (c.executionArn === arn || c.executionArn === null)) loadApprovals();
        if (c.kind === 'build' && (c.executionArn === arn || c.executionArn === null)) loadBuilds();
        if (c.kind === 'status') loadStatuses();
      }
      if (history) void fetchHistory();
      if (run) void loadExecution();
      if (history || run) {
        clearTimeout(slow);
        slow = setTimeout(() => {
          if (sections?.deployments) loadDeployments();
          if (sections?.approvals) loadApprovals();
          if (sections?.builds) loadBuilds();
        }, 400);
      }
    });
    return () => {
      off();
      clearTimeout(slow);
    };
  }, [arn, history.fetchMore, loadExecution, loadApprovals, loadBuilds, loadStatuses, loadDeployments, sections]);

  useEffect(() => {
    if (execution?.status !== 'RUNNING') return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [execution?.status]);

  const layout = useMemo(() => (definition ? layoutGraph(graphOf(definition)) : null), [definition]);
  // Read once the execution's status is known: before, every open state would look running.
  const status = execution?.status;
  const view = useMemo(() => readHistory(status ? history.events : [], status ?? 'RUNNING'), [history.events, status]);
  // Until the reader picks a state, show the one that matters: the failed one, else the one running now.
  const focus = useMemo(() => {
    if (view.failedRun) return view.failedRun.name;
    let latest: { name: string; at: number } | undefined;
    for (const s of view.states.values()) {
      const run = s.shown;
      if (
        s.status === 'running' &&
        run.stateType !== 'Map' &&
        run.stateType !== 'Parallel' &&
        (!latest || run.enteredAt >= latest.at)
      ) {
        latest = { name: s.name, at: run.enteredAt };
      }
    }
    return latest?.name ?? null;
  }, [view]);
  useEffect(() => {
    if (!picked && focus) setSelected(focus);
  }, [picked, focus]);
  useEffect(() => {
    if (execution) document.title = `${execution.name} · Stepline`;
  }, [execution?.name]);

  const select = (name: string): void => {
    setPicked(true);
    setSelected(name);
  };
  const act = async (what: 'stop' | 'redrive'): Promise<void> => {
    if (what === 'stop' && !confirm(`Stop ${execution?.name}? The run ends ABORTED.`)) return;
    setBusy(true);
    setActionError(null);
    try {
      setExecution(what === 'stop' ? await api.stop(arn) : await api.redrive(arn));
    } catch (e) {
      setActionError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  if (missing && !execution) {
    return html`<section><h1>Execution not found</h1><p class="error" role="alert">${missing}</p><p><a href="/">All executions</a></p></section>`;
  }
  if (!execution) return html`<p class="muted">Loading…</p>`;

  const tabs: { id: Tab; label: string; count?: number }[] = [
    { id: 'graph', label: 'Graph' },
    { id: 'events', label: 'Events', count: history.events.length },
    ...(sections?.builds ? [{ id: 'builds' as Tab, label: 'Builds', count: builds.length }] : []),
    ...(sections?.deployments ? [{ id: 'deployments' as Tab, label: 'Deployments', count: deployments.length }] : []),
    ...(sections?.statuses ? [{ id: 'statuses' as Tab, label: 'Statuses', count: statuses.length }] : []),
    { id: 'io', label: 'Input and output' },
  ];
  const tabKey = (e: KeyboardEvent, i: number): void => {
    const n =
      e.key === 'ArrowRight'
        ? i + 1
        : e.key === 'ArrowLeft'
          ? i - 1
          : e.key === 'Home'
            ? 0
            : e.key === 'End'
              ? tabs.length - 1
              : null;
    if (n === null) return;
    e.preventDefault();
    const t = tabs[(n + tabs.length) % tabs.length] as { id: Tab };
    setTab(t.id);
    document.getElementById(`tab-${t.id}`)?.focus();
  };
  const e = execution;
  return html`<article class="execution" aria-labelledby="execution-title">
    <div class="page-head">
      <div>
        <p class="crumbs"><a href="/">Executions</a> /</p>
        <h1 id="execution-title">${e.name} <${StatusBadge} status=${e.status} /></h1>
      </div>
      <div class="actions">
        ${e.status === 'RUNNING' ? html`<button class="danger" disabled=${busy} onClick=${() => act('stop')}>Stop execution</button>` : null}
        ${e.redriveStatus === 'REDRIVABLE' ? html`<button class="primary" disabled=${busy} onClick=${() => act('redrive')}>Redrive</button>` : null}
      </div>
    </div>
    ${actionError ? html`<p class="error" role="alert">${actionError}</p>` : null}
    <dl class="summary">
      <div><dt>Repository</dt><dd>${e.repositoryUrl ? html`<a href=${e.repositoryUrl} rel="noreferrer">${e.repository}</a>` : (e.repository ?? '–')}</dd></div>
      <div><dt>Branch / PR</dt><dd><${RefCell} e=${e} /></dd></div>
      <div><dt>Commit</dt><dd><${CommitCell} e=${e} />${e.commitMessage ? html` <span class="muted">${e.commitMessage.split('\n')[0]}</span>` : null}</dd></div>
      <div><dt>Started</dt><dd>${formatTime(e.startDate)}</dd></div>
      <div><dt>Duration</dt><dd>${duration(e.startDate, e.stopDate, now)}</dd></div>
      ${e.redriveCount ? html`<div><dt>Redrives</dt><dd>${e.redriveCount}</dd></div>` : null}
      <div class="wide"><dt>ARN</dt><dd class="mono small">${e.executionArn}</dd></div>
    </dl>
    ${
      e.error || e.cause
        ? html`<div class="failure" role="alert"><strong>${e.error ?? 'Failed'}</strong>${e.cause ? html`<pre>${pretty(e.cause)}</pre>` : null}</div>`
        : null
    }
    ${
      sections?.approvals
        ? html`<${RunApprovals} list=${approvals} decisions=${!!sections.decisions} onDecided=${() => {
            loadApprovals();
            void loadExecution();
          }} />`
        : null
    }
    <div class="tabs" role="tablist" aria-label="Execution views">
      ${tabs.map(
        (
          t,
          i,
        ) => html`<button type="button" role="tab" id=${`tab-${t.id}`} aria-selected=${tab === t.id} aria-controls=${`panel-${t.id}`}
          tabindex=${tab === t.id ? 0 : -1} onClick=${() => setTab(t.id)} onKeyDown=${(ev: KeyboardEvent) => tabKey(ev, i)}>
          ${t.label}${t.count !== undefined ? html` <span class="count">${t.count}</span>` : null}</button>`,
      )}
    </div>
    <div role="tabpanel" id=${`panel-${tab}`} aria-labelledby=${`tab-${tab}`} class="tab-panel">
      ${
        tab === 'graph'
          ? html`<div class="graph-layout" id="graph">
              ${layout ? html`<${WorkflowGraph} layout=${layout} states=${view.states} transitions=${view.transitions} selected=${selected} onSelect=${select} />` : html`<p class="muted">${definition === null ? 'The definition is not available.' : 'Loading the definition…'}</p>`}
              <${StatePanel} name=${selected} summary=${selected ? view.states.get(selected) : undefined}
                builds=${selected ? builds.filter((b) => b.step === selected) : []}
                onOpenBuild=${(id: string) => {
                  setOpenBuild(id);
                  setTab('builds');
                }} />
            </div>`
          : null
      }
      ${
        tab === 'events'
          ? html`<${HistoryTable} rows=${view.rows} events=${history.events} onStep=${(s: string) => {
              select(s);
              setTab('graph');
            }} />`
          : null
      }
      ${tab === 'builds' ? html`<${Builds} builds=${builds} logs=${!!sections?.logs} open=${openBuild} />` : null}
      ${tab === 'deployments' ? html`<${Deployments} list=${deployments} />` : null}
      ${tab === 'statuses' ? html`<${Statuses} list=${statuses} now=${now} />` : null}
      ${
        tab === 'io'
          ? html`<div class="io"><div class="block"><h4>Input</h4><pre tabindex="0">${pretty(e.input)}</pre></div>
              ${e.output ? html`<div class="block"><h4>Output</h4><pre tabindex="0">${pretty(e.output)}</pre></div>` : null}</div>`
          : null
      }
      ${history.error ? html`<p class="error" role="alert">Could not load the history: ${history.error}</p>` : null}
    </div>
  </article>`;
}
