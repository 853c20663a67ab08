import { html } from 'htm/preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { buildStep, failedEnvironmentOf } from '../model/failure';
import { foldLayout, separateLabels } from '../model/fold';
import { catchCount, graphOf, withoutCatches } from '../model/graph';
import { layoutGraph } from '../model/layout';
import { safeHref } from '../model/links';
import type { JobLink } from '../model/stages';
import { pipelineStages } from '../model/stages';
import { readHistory } from '../model/status';
import type {
  ApprovalView,
  BuildSummary,
  CommitStatusView,
  DeploymentView,
  ExecutionDetail,
  HistoryEventJson,
} from '../source';
import { api, onChanges, runs, type Sections } from './api';
import { FailureBanner } from './failure';
import { WorkflowGraph } from './graph';
import { HistoryTable } from './history';
import { useIdentity } from './identity';
import { CommitCell, RefCell, StatusBadge } from './list';
import { Builds, Deployments, latestStatuses, RunApprovals, StatePanel, Statuses } from './panels';
import { PipelineView } from './pipeline';
import { duration, executionPath, formatTime, navigate, pretty } from './util';

/**
 * One execution: header and actions (Stop, Redrive, Re-run), why it failed, approvals, then its views: the pipeline
 * (the default), the state-machine graph with the selected state, the history, builds, deployments, statuses.
 */

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

/** Tighter than the layout's defaults: states two lines high, ranks close (a Choice's label takes two lines). */
const GRAPH_SPACING = { nodeHeight: 40, rankGap: 28, header: 28, padding: 12 } as const;

type Tab = 'pipeline' | 'graph' | 'events' | 'builds' | 'statuses' | 'deployments' | 'io';

/** Whether the runtime behind the console starts runs by hand (`/api/runtime` answers its repositories). */
function useRunnable(): boolean {
  const [runnable, setRunnable] = useState(false);
  useEffect(() => {
    void runs.repositories().then((r) => setRunnable(r !== null));
  }, []);
  return runnable;
}

// size-exception(function): one Preact component: the page's state, polling, stream and markup; splitting it into
// child components is left to the console's owners (issue 13)
export function ExecutionPage({ arn }: { arn: string }) {
  const [execution, setExecution] = useState<ExecutionDetail | null>(null);
  const [missing, setMissing] = useState<string | null>(null);
  const [definition, setDefinition] = useState<unknown>(undefined);
  const [sections, setSections] = useState<Sections | null>(null);
  const [approvals, setApprovals] = useState<ApprovalView[]>([]);
  // null until loaded: a tab shows no count (rather than 0) before it knows.
  const [builds, setBuilds] = useState<BuildSummary[] | null>(null);
  const [statuses, setStatuses] = useState<CommitStatusView[] | null>(null);
  const [deployments, setDeployments] = useState<DeploymentView[] | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [picked, setPicked] = useState(false);
  const [tab, setTab] = useState<Tab>('pipeline');
  const [catches, setCatches] = useState(false);
  const runnable = useRunnable();
  const by = useIdentity();
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

  // Read once the execution's status is known: before, every open state would look running.
  const status = execution?.status;
  const view = useMemo(() => readHistory(status ? history.events : [], status ?? 'RUNNING'), [history.events, status]);
  const graph = useMemo(() => (definition ? graphOf(definition) : null), [definition]);
  // Compact by default: the Catch transitions (and the states only they lead to) are drawn on demand, except those
  // this run took. The key changes only when a new Catch is taken, so the layout is not redone at every event.
  const takenCatches = [...view.transitions].filter((t) => t.endsWith('|catch')).join(',');
  const layout = useMemo(() => {
    if (!graph) return null;
    if (catches) return layoutGraph(graph, GRAPH_SPACING);
    const taken = new Set(takenCatches.split(','));
    // Folded into columns when taller than a screen (model/fold.ts, ADR 0107).
    return foldLayout(
      separateLabels(
        layoutGraph(
          withoutCatches(graph, (from, to) => taken.has(`${from}->${to}|catch`)),
          GRAPH_SPACING,
        ),
      ),
    );
  }, [graph, catches, takenCatches]);
  const stages = useMemo(
    () => (execution ? pipelineStages(execution.input, view, execution.status) : []),
    [execution?.input, view, execution?.status],
  );
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
  const rerun = async (from: 'start' | 'failed'): Promise<void> => {
    setBusy(true);
    setActionError(null);
    try {
      const started = await runs.rerun(arn, from, by);
      navigate(executionPath(started.executionArn));
    } catch (e) {
      setActionError((e as Error).message);
      setBusy(false);
    }
  };
  const open = (link: JobLink): void => {
    if (link.kind === 'build') {
      const build = [...(builds ?? [])]
        .reverse()
        .find((b) => buildStep(b.step) === link.step && (link.suite === undefined || b.suite === link.suite));
      setOpenBuild(build?.id ?? null);
      setTab('builds');
    } else if (link.kind === 'deployment') setTab('deployments');
    else if (link.kind === 'approval') document.getElementById('run-approvals')?.scrollIntoView();
    else {
      select(link.name);
      setTab('graph');
    }
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

  const counted = (list: readonly unknown[] | null): { count?: number } => (list ? { count: list.length } : {});
  const tabs: { id: Tab; label: string; count?: number }[] = [
    ...(stages.length ? [{ id: 'pipeline' as Tab, label: 'Pipeline' }] : []),
    { id: 'graph', label: 'Graph' },
    { id: 'events', label: 'Events', ...(history.loaded ? { count: history.events.length } : {}) },
    ...(sections?.builds ? [{ id: 'builds' as Tab, label: 'Builds', ...counted(builds) }] : []),
    ...(sections?.deployments ? [{ id: 'deployments' as Tab, label: 'Deployments', ...counted(deployments) }] : []),
    ...(sections?.statuses
      ? [{ id: 'statuses' as Tab, label: 'Statuses', ...counted(statuses ? latestStatuses(statuses) : null) }]
      : []),
    { id: 'io', label: 'Input and output' },
  ];
  // A run that is not a pipeline run (another state machine) opens on its graph.
  const shownTab: Tab = tab === 'pipeline' && !stages.length ? 'graph' : tab;
  const failedIn = execution.status === 'SUCCEEDED' ? null : failedEnvironmentOf(execution.cause);
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
        ${
          runnable && e.status !== 'RUNNING' && stages.length
            ? html`<button disabled=${busy} onClick=${() => rerun('start')} title="A new execution for the same commit">Re-run</button>
              ${failedIn ? html`<button disabled=${busy} onClick=${() => rerun('failed')} title=${`A new execution that deploys this run's image from ${failedIn} on: no build, no tests`}>Re-run from ${failedIn}</button>` : null}`
            : null
        }
      </div>
    </div>
    ${actionError ? html`<p class="error" role="alert">${actionError}</p>` : null}
    <dl class="summary">
      <div><dt>Repository</dt><dd>${safeHref(e.repositoryUrl) ? html`<a href=${safeHref(e.repositoryUrl)} rel="noreferrer">${e.repository}</a>` : (e.repository ?? '–')}</dd></div>
      <div><dt>Branch / PR</dt><dd><${RefCell} e=${e} /></dd></div>
      <div><dt>Commit</dt><dd><${CommitCell} e=${e} />${e.commitMessage ? html` <span class="muted">${e.commitMessage.split('\n')[0]}</span>` : null}</dd></div>
      ${e.sender ? html`<div><dt>By</dt><dd>${e.sender}</dd></div>` : null}
      <div><dt>Started</dt><dd>${formatTime(e.startDate)}</dd></div>
      <div><dt>Duration</dt><dd>${duration(e.startDate, e.stopDate, now)}</dd></div>
      ${e.redriveCount ? html`<div><dt>Redrives</dt><dd>${e.redriveCount}</dd></div>` : null}
      <div class="wide"><dt>ARN</dt><dd class="mono small">${e.executionArn}</dd></div>
    </dl>
    <${FailureBanner} execution=${e} builds=${builds ?? []} onOpenBuild=${(id: string) => {
      setOpenBuild(id);
      setTab('builds');
    }} />
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
        ) => html`<button type="button" role="tab" id=${`tab-${t.id}`} aria-selected=${shownTab === t.id} aria-controls=${`panel-${t.id}`}
          tabindex=${shownTab === t.id ? 0 : -1} onClick=${() => setTab(t.id)} onKeyDown=${(ev: KeyboardEvent) => tabKey(ev, i)}>
          ${t.label}${t.count !== undefined ? html` <span class="count">${t.count}</span>` : null}</button>`,
      )}
    </div>
    <div role="tabpanel" id=${`panel-${shownTab}`} aria-labelledby=${`tab-${shownTab}`} class="tab-panel">
      ${
        shownTab === 'pipeline'
          ? html`<${PipelineView} stages=${stages} now=${now} onOpen=${open} approvals=${approvals} />
              <p class="muted small">The state machine that runs it: <button type="button" class="link" onClick=${() => setTab('graph')}>Graph</button>.</p>`
          : null
      }
      ${
        shownTab === 'graph'
          ? html`<div class="graph-layout" id="graph">
              ${
                layout
                  ? html`<${WorkflowGraph} layout=${layout} states=${view.states} transitions=${view.transitions} selected=${selected} onSelect=${select}
                  catches=${catches} catchCount=${graph ? catchCount(graph) : 0} onCatches=${setCatches} />`
                  : html`<p class="muted">${definition === null ? 'The definition is not available.' : 'Loading the definition…'}</p>`
              }
              <${StatePanel} name=${selected} summary=${selected ? view.states.get(selected) : undefined}
                builds=${selected ? (builds ?? []).filter((b) => b.step === selected) : []}
                onOpenBuild=${(id: string) => {
                  setOpenBuild(id);
                  setTab('builds');
                }} />
            </div>`
          : null
      }
      ${
        shownTab === 'events'
          ? html`<${HistoryTable} rows=${view.rows} events=${history.events} onStep=${(s: string) => {
              select(s);
              setTab('graph');
            }} />`
          : null
      }
      ${shownTab === 'builds' ? html`<${Builds} key=${openBuild ?? ''} builds=${builds ?? []} logs=${!!sections?.logs} open=${openBuild} />` : null}
      ${shownTab === 'deployments' ? html`<${Deployments} list=${deployments ?? []} />` : null}
      ${shownTab === 'statuses' ? html`<${Statuses} list=${statuses ?? []} now=${now} />` : null}
      ${
        shownTab === 'io'
          ? html`<div class="io"><div class="block"><h4>Input</h4><pre tabindex="0">${pretty(e.input)}</pre></div>
              ${e.output ? html`<div class="block"><h4>Output</h4><pre tabindex="0">${pretty(e.output)}</pre></div>` : null}</div>`
          : null
      }
      ${history.error ? html`<p class="error" role="alert">Could not load the history: ${history.error}</p>` : null}
    </div>
  </article>`;
}
