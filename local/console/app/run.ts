import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { type RunnableRepository, runs } from './api';
import { useIdentity } from './identity';
import { executionPath, navigate } from './util';

/**
 * "Run pipeline": starts a run for a branch, tag or commit of a configured repository without a webhook, as
 * `stepline run` does (the same route decision, the same statuses), as the identity the header shows. Shown only
 * where the console has the runtime behind it (the runtime's `/api/runtime` lists the repositories).
 */

/** The first branch pattern without a wildcard (`main`), else `main`. */
function defaultRef(repository: RunnableRepository | undefined): string {
  return repository?.branches.find((b) => !/[*?[{]/.test(b.pattern))?.pattern ?? 'main';
}

export function RunButton() {
  const [repositories, setRepositories] = useState<readonly RunnableRepository[] | null>(null);
  const [open, setOpen] = useState(false);
  const [repository, setRepository] = useState('');
  const [ref, setRef] = useState('');
  const [environments, setEnvironments] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const by = useIdentity();
  const first = useRef<HTMLSelectElement>(null);
  useEffect(() => {
    void runs.repositories().then(setRepositories);
  }, []);
  useEffect(() => {
    if (open) first.current?.focus();
  }, [open]);
  if (!repositories || repositories.length === 0) return null;
  const chosen = repositories.find((r) => r.name === repository) ?? repositories[0];
  const start = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const started = await runs.start({
        repository: chosen?.name ?? repository,
        ref: ref.trim() || defaultRef(chosen),
        environments: environments
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        by,
      });
      setOpen(false);
      navigate(executionPath(started.executionArn));
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  };
  if (!open) {
    return html`<button type="button" class="primary run-open" onClick=${() => setOpen(true)}>Run pipeline</button>`;
  }
  const promotes = chosen?.branches.map((b) => `${b.pattern} → ${b.environments.join(', ') || 'no deploy'}`) ?? [];
  return html`<form class="run-form" aria-label="Run a pipeline" onSubmit=${start}
      onKeyDown=${(e: KeyboardEvent) => {
        if (e.key === 'Escape') setOpen(false);
      }}>
    <label>Repository
      <select ref=${first} value=${chosen?.name} onChange=${(e: Event) => setRepository((e.target as HTMLSelectElement).value)}>
        ${repositories.map((r) => html`<option value=${r.name}>${r.name}</option>`)}
      </select>
    </label>
    <label>Branch, tag or commit
      <input type="text" class="run-field" value=${ref} placeholder=${defaultRef(chosen)} size="16"
        onInput=${(e: Event) => setRef((e.target as HTMLInputElement).value)} />
    </label>
    <label>Environments <span class="muted small">(optional)</span>
      <input type="text" class="run-field" value=${environments} placeholder="all the branch deploys to" size="20"
        onInput=${(e: Event) => setEnvironments((e.target as HTMLInputElement).value)} />
    </label>
    <button type="submit" class="primary" disabled=${busy}>Run</button>
    <button type="button" onClick=${() => setOpen(false)}>Cancel</button>
    <p class="muted small run-help">${promotes.join(' · ')}${by ? ` · runs as ${by}` : ''}</p>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
  </form>`;
}
