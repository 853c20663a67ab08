import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from './api';

/**
 * Whom the console decides as: the runtime's one local identity, shown in the header and editable there. The
 * approval buttons send the name the header shows, so the console never decides as someone the person did not see.
 */

let current: string | null = null;
const listeners = new Set<(login: string | null) => void>();

function publish(login: string | null): void {
  current = login;
  for (const listener of listeners) listener(login);
}

let loaded = false;

function load(): void {
  if (loaded) return;
  loaded = true;
  api.identity().then(publish, () => publish(null));
}

/** The identity the header shows (null until loaded, or when the runtime has none). */
export function useIdentity(): string | null {
  const [login, setLogin] = useState(current);
  useEffect(() => {
    listeners.add(setLogin);
    load();
    return () => {
      listeners.delete(setLogin);
    };
  }, []);
  return login;
}

/** The header's "Deciding as": the identity, and a field to change it. */
export function IdentityBadge() {
  const login = useIdentity();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<string | null>(null);
  if (login === null) return null;
  const save = async (e: Event): Promise<void> => {
    e.preventDefault();
    try {
      publish(await api.setIdentity(draft.trim()));
      setEditing(false);
      setError(null);
    } catch (failure) {
      setError((failure as Error).message);
    }
  };
  if (!editing) {
    return html`<span class="me">Deciding as <strong data-identity>${login}</strong>
      <button type="button" class="link" aria-label="Change who you decide as" onClick=${() => {
        setDraft(login);
        setEditing(true);
      }}>Change</button></span>`;
  }
  return html`<form class="me" onSubmit=${save}>
    <label>Deciding as <input name="login" value=${draft} size="14" autocomplete="username" required
      aria-label="Your login" onInput=${(e: Event) => setDraft((e.target as HTMLInputElement).value)} /></label>
    <button type="submit">Save</button>
    <button type="button" class="link" onClick=${() => setEditing(false)}>Cancel</button>
    ${error ? html`<span class="error" role="alert">${error}</span>` : null}
  </form>`;
}
