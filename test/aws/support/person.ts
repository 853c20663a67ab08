/**
 * A person with a browser, as far as the approval pages can tell: follows links and redirects over HTTP (the
 * HTTP API stand-in and the Git host's OAuth stand-in), keeps cookies by name as a browser does (honouring
 * `Max-Age=0`), reads the page's form, and posts it. Nothing is sent that a browser would not send.
 */

export interface Page {
  readonly status: number;
  readonly url: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

export class Person {
  private readonly jar = new Map<string, string>();
  public readonly visited: Page[] = [];

  private take(lines: readonly string[]): void {
    for (const line of lines) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      const name = pair!.slice(0, at).trim();
      if (/max-age=0/i.test(line)) this.jar.delete(name);
      else this.jar.set(name, pair!.slice(at + 1));
    }
  }

  private async send(method: string, url: string, form?: Record<string, string>): Promise<Page> {
    const headers: Record<string, string> = {};
    if (this.jar.size) headers['cookie'] = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(url, {
      method,
      headers,
      redirect: 'manual',
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    this.take(response.headers.getSetCookie());
    const page = {
      status: response.status,
      url,
      body: await response.text(),
      headers: Object.fromEntries(response.headers),
    };
    this.visited.push(page);
    return page;
  }

  private async follow(first: Page): Promise<Page> {
    let page = first;
    for (let hops = 0; page.status >= 300 && page.status < 400 && page.headers['location'] && hops < 10; hops++) {
      page = await this.send('GET', new URL(page.headers['location'], page.url).toString());
    }
    return page;
  }

  /** Opens a link, following redirects (a sign-in on the way). */
  public async open(url: string): Promise<Page> {
    return this.follow(await this.send('GET', url));
  }

  /** Submits the page's form (its hidden fields, and `fields`) to the page's own URL. */
  public async submit(page: Page, fields: Record<string, string>): Promise<Page> {
    const hidden: Record<string, string> = {};
    for (const match of page.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
      hidden[match[1]!] = match[2]!.replaceAll('&amp;', '&').replaceAll('&quot;', '"');
    }
    const action = /<form[^>]*action="([^"]*)"/.exec(page.body)?.[1];
    const target = action ? new URL(action.replaceAll('&amp;', '&'), page.url).toString() : page.url;
    return this.follow(await this.send('POST', target, { ...hidden, ...fields }));
  }
}
