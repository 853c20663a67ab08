import { formatDuration } from '../model/status';

export { formatDuration };

/** `2026-11-02 14:03:07` in the reader's time zone. */
export function formatTime(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return '–';
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** `5 s ago`, `3 min ago`, `2 h ago`, else the date. */
export function ago(value: string | null, now: number): string {
  if (!value) return '–';
  const ms = now - Date.parse(value);
  if (ms < 0) return 'just now';
  if (ms < 60_000) return `${Math.max(1, Math.floor(ms / 1000))} s ago`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ago`;
  if (ms < 86_400_000) return `${Math.floor(ms / 3_600_000)} h ago`;
  return formatTime(value).slice(0, 16);
}

export function duration(start: string, stop: string | null, now: number): string {
  return formatDuration((stop ? Date.parse(stop) : now) - Date.parse(start));
}

/** JSON text, indented; other text as it is. */
export function pretty(text: string | null | undefined): string {
  if (text === null || text === undefined) return '';
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export const STATUS_LABEL: Readonly<Record<string, string>> = {
  RUNNING: 'Running',
  SUCCEEDED: 'Succeeded',
  FAILED: 'Failed',
  TIMED_OUT: 'Timed out',
  ABORTED: 'Aborted',
  PENDING_REDRIVE: 'Pending redrive',
  notStarted: 'Not started',
  running: 'In progress',
  succeeded: 'Succeeded',
  caught: 'Caught error',
  failed: 'Failed',
  aborted: 'Aborted',
};

export function statusClass(status: string): string {
  switch (status) {
    case 'SUCCEEDED':
    case 'succeeded':
    case 'SUCCESSFUL':
    case 'success':
    case 'deployed':
    case 'approved':
      return 'ok';
    case 'RUNNING':
    case 'running':
    case 'IN_PROGRESS':
    case 'pending':
    case 'waiting':
    case 'deploying':
    case 'waiting for approval':
    case 'PENDING_REDRIVE':
    case 'INPROGRESS':
      return 'run';
    case 'caught':
      return 'warn';
    case 'ABORTED':
    case 'aborted':
    case 'STOPPED':
    case 'skipped':
    case 'not reached':
    case 'notStarted':
      return 'idle';
    default:
      return 'bad';
  }
}

/** The page's own path for an execution: the same `/executions/<arn>` that commit statuses link to. */
export function executionPath(executionArn: string): string {
  return `/executions/${executionArn}`;
}

/** Client-side navigation (the server answers the page for every console path). */
export function navigate(path: string): void {
  if (location.pathname + location.search === path) return;
  history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

/** A link's click handler: navigates in the page for a plain left click, lets the browser handle the rest. */
export function follow(e: MouseEvent): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = (e.currentTarget as HTMLAnchorElement | null) ?? null;
  if (!a?.href) return;
  const url = new URL(a.href);
  if (url.origin !== location.origin) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
}
