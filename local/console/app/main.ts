import './styles.css';
import { html, render } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { type Connection, onConnection } from './api';
import { ExecutionPage } from './execution';
import { IdentityBadge } from './identity';
import { InsightPage } from './insight';
import { ExecutionsPage } from './list';
import { follow } from './util';

/** The console's shell: the top bar (with the live indicator) and the page the path names. */

function usePath(): string {
  const [path, setPath] = useState(location.pathname + location.search);
  useEffect(() => {
    const on = (): void => setPath(location.pathname + location.search);
    addEventListener('popstate', on);
    return () => removeEventListener('popstate', on);
  }, []);
  return path;
}

function Live() {
  const [state, setState] = useState<Connection>('connecting');
  useEffect(() => onConnection(setState), []);
  return html`<span class=${`live ${state === 'live' ? 'on' : state === 'lost' ? 'off' : 'wait'}`} role="status" aria-live="polite">
    ${state === 'live' ? 'Live' : state === 'lost' ? 'Reconnecting…' : ''}
  </span>`;
}

function App() {
  const path = usePath();
  const match = /^\/executions\/(.+)$/.exec(path.split('?')[0] ?? '');
  const arn = match?.[1] ? decodeURIComponent(match[1]) : null;
  const insight = path.split('?')[0] === '/insight';
  useEffect(() => {
    if (!arn && !insight) document.title = 'Executions · Stepline';
  }, [arn, insight]);
  return html`
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <a class="brand" href="/" onClick=${follow}>Stepline</a>
      <nav aria-label="Console"><a href="/" onClick=${follow} aria-current=${arn || insight ? undefined : 'page'}>Executions</a>
        <a href="/insight" onClick=${follow} aria-current=${insight ? 'page' : undefined}>Delivery insight</a></nav>
      <${IdentityBadge} />
      <${Live} />
    </header>
    <main id="main" tabindex="-1">
      ${arn ? html`<${ExecutionPage} key=${arn} arn=${arn} />` : insight ? html`<${InsightPage} />` : html`<${ExecutionsPage} />`}
    </main>
  `;
}

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(html`<${App} />`, root);
}
