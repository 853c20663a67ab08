/**
 * Links the console renders from what payloads say: a commit's or a repository's URL from a webhook delivery
 * (`head_commit.url`, `repository.html_url`), a status's `target_url`, an environment's URL, an approval page. A
 * payload is the sender's text: `javascript:alert(1)` is a URL too, and the page would run it when clicked (the
 * console's CSP stops it, as a second line). Only absolute `http:` and `https:` URLs become links; anything else is
 * shown as text (docs/adr/0087).
 */

/** `value` as an href when it is an absolute http(s) URL, else undefined (the caller renders text instead). */
export function safeHref(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return undefined;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
}
