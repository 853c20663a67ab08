import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type Person, refusalText } from '../../core/approval/approvers';
import type { ApprovalRecord } from '../../core/approval/contracts';
import type { ApprovalView, DecisionResult } from '../../core/approval/service';
import type { ConsoleLinks } from '../../core/status/links';

/**
 * The approval pages: small, self-contained HTML with no script. The headers keep the link's signed id out of
 * Referer headers and caches, and the page out of frames (no clickjacking of the Approve button).
 */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#1f2328}
h1{font-size:1.4rem}table{border-collapse:collapse;margin:1rem 0}th,td{text-align:left;padding:.3rem .8rem .3rem 0;vertical-align:top}
th{color:#59636e;font-weight:500}code{font-size:.9em}.ok{color:#1a7f37}.bad{color:#cf222e}
textarea{width:100%;min-height:4rem}button{font-size:1rem;padding:.4rem 1.2rem;margin-right:.5rem}
.approve{background:#1f883d;color:#fff;border:0;border-radius:6px}.reject{background:#fff;color:#cf222e;border:1px solid #cf222e;border-radius:6px}`;

export function page(statusCode: number, title: string, body: string): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'content-security-policy':
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    },
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="robots" content="noindex"><title>${escapeHtml(title)} · Stepline</title><style>${STYLE}</style></head>
<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`,
  };
}

function summary(record: ApprovalRecord, consoleUrl: string | null): string {
  const rows: Array<[string, string]> = [
    ['Repository', escapeHtml(record.repository)],
    [
      'Commit',
      `<code>${escapeHtml(record.commitSha.slice(0, 12))}</code> on <code>${escapeHtml(record.ref)}</code>${
        record.commitMessage ? ` — ${escapeHtml(record.commitMessage)}` : ''
      }`,
    ],
    ['Environment', `<strong>${escapeHtml(record.environment)}</strong>`],
  ];
  if (record.image?.uri || record.image?.digest) {
    rows.push([
      'Image',
      `<code>${escapeHtml([record.image.uri, record.image.digest].filter(Boolean).join('@'))}</code>`,
    ]);
  }
  if (record.tests.length) {
    rows.push([
      'Tests',
      record.tests
        .map(
          (t) =>
            `${escapeHtml(t.suite)}: <span class="${t.state === 'failure' ? 'bad' : 'ok'}">${escapeHtml(t.state)}</span>`,
        )
        .join('<br>'),
    ]);
  }
  rows.push(['Approvers', record.approvers.length ? escapeHtml(record.approvers.join(', ')) : 'anyone with this link']);
  rows.push(['Expires', escapeHtml(new Date(record.expiresAt * 1000).toISOString().replace('.000Z', 'Z'))]);
  if (consoleUrl)
    rows.push([
      'Run',
      `<a href="${escapeHtml(consoleUrl)}">${escapeHtml(record.executionArn.split(':').at(-1) ?? '')}</a>`,
    ]);
  return `<table>${rows.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('')}</table>`;
}

export interface PageOptions {
  readonly links: ConsoleLinks | null;
}

const HOST_NAMES: Readonly<Record<Person['source'], string>> = {
  github: 'GitHub',
  gitlab: 'GitLab',
  bitbucket: 'Bitbucket',
  header: 'your sign-in',
  local: "this machine's local identity",
};

/** Where a person's identity comes from, in words. */
export function sourceName(source: Person['source']): string {
  return HOST_NAMES[source];
}

function consoleUrl(record: ApprovalRecord, options: PageOptions): string | null {
  return options.links ? options.links.execution(record.executionArn) : null;
}

function decidedText(record: ApprovalRecord): string {
  const verb = record.status === 'approved' ? 'approved' : 'rejected';
  return `This deploy was already ${verb} by ${escapeHtml(record.decidedBy ?? 'someone')} at ${escapeHtml(
    record.decidedAt ?? '',
  )}${record.reason ? `: “${escapeHtml(record.reason)}”` : ''}. A link can be used once.`;
}

/** The answer to a link that cannot be used, or null when it can. */
export function problemPage(
  view: ApprovalView | DecisionResult,
  options: PageOptions,
): APIGatewayProxyStructuredResultV2 | null {
  switch (view.kind) {
    case 'malformed':
      return page(
        400,
        'Not an approval link',
        '<p>This address is not a Stepline approval link. Open the link from the commit status again.</p>',
      );
    case 'forged':
      return page(
        403,
        'Invalid approval link',
        '<p>This approval link is not valid: its signature does not match. Open the link from the commit status again.</p>',
      );
    case 'unknown':
      return page(
        404,
        'Unknown approval',
        '<p>No approval request has this id. It may have been removed after it expired.</p>',
      );
    case 'expired':
      return page(
        410,
        'Approval expired',
        `<p>This approval request has expired or its run no longer waits (timed out or stopped)${
          view.record ? `; the deploy to <strong>${escapeHtml(view.record.environment)}</strong> was not approved` : ''
        }.</p>`,
      );
    case 'decided':
      return page(
        409,
        'Already decided',
        `${summary(view.record, consoleUrl(view.record, options))}<p>${decidedText(view.record)}</p>`,
      );
    case 'forbidden':
      return page(
        403,
        view.refusal.kind === 'author' ? 'Not your own deploy' : 'Not an approver',
        `<p class="bad">${escapeHtml(
          refusalText(view.refusal, view.record.environment, view.record.approvers),
        )}. Nothing was decided.</p>`,
      );
    case 'invalid':
      return page(400, 'Bad request', `<p>${escapeHtml(view.message)}.</p>`);
    case 'retry':
      return page(
        503,
        'Try again',
        '<p>The run could not be told the decision just now; nothing was decided. Please try again in a moment.</p>',
      );
    default:
      return null;
  }
}

/** The page of an open request: who is signed in, and Approve and Reject for someone who may decide. */
export function approvalPage(
  view: Extract<ApprovalView, { kind: 'open' }>,
  options: PageOptions & {
    /** The session's CSRF token for this request. */
    readonly csrf: string;
    /** Where to sign in as someone else; null where identity is not a sign-in. */
    readonly signInAgain: string | null;
  },
): APIGatewayProxyStructuredResultV2 {
  const { record } = view;
  const person = view.person;
  const again = options.signInAgain
    ? ` · <a href="${escapeHtml(options.signInAgain)}">Sign in as someone else</a>`
    : '';
  const who = person
    ? `<p class="who">Signed in as <strong>${escapeHtml(person.login)}</strong> (${escapeHtml(sourceName(person.source))})${again}</p>`
    : '';
  const form = view.refusal
    ? `<p class="bad">${escapeHtml(refusalText(view.refusal, record.environment, record.approvers))}.</p>`
    : `<form method="post" action="">
<input type="hidden" name="csrf" value="${escapeHtml(options.csrf)}">
<p><label>Reason (shown on the commit when rejecting)<br><textarea name="reason" maxlength="500"></textarea></label></p>
<p><button class="approve" name="decision" value="approve">Approve</button><button class="reject" name="decision" value="reject">Reject</button></p>
</form>`;
  return page(200, `Deploy to ${record.environment}?`, `${summary(record, consoleUrl(record, options))}${who}${form}`);
}

/** The answer after a decision. */
export function decisionPage(
  result: Extract<DecisionResult, { kind: 'approved' | 'rejected' }>,
  options: PageOptions,
): APIGatewayProxyStructuredResultV2 {
  const { record } = result;
  const text =
    result.kind === 'approved'
      ? `<p class="ok">Approved by ${escapeHtml(record.decidedBy ?? '')}. The deploy to <strong>${escapeHtml(record.environment)}</strong> goes on.</p>`
      : `<p class="bad">Rejected by ${escapeHtml(record.decidedBy ?? '')}. The run ends without deploying to <strong>${escapeHtml(
          record.environment,
        )}</strong>.</p>`;
  return page(
    200,
    result.kind === 'approved' ? 'Approved' : 'Rejected',
    `${summary(record, consoleUrl(record, options))}${text}`,
  );
}

export function methodNotAllowed(allow = 'GET, POST'): APIGatewayProxyStructuredResultV2 {
  const answer = page(405, 'Method not allowed', `<p>This address takes ${allow.replace(', ', ' and ')} only.</p>`);
  return { ...answer, headers: { ...answer.headers, allow } };
}

/** A page that says why a sign-in or a form was not taken, with the way back to the approval link. */
export function refusalPage(
  statusCode: number,
  title: string,
  text: string,
  back: string | null,
): APIGatewayProxyStructuredResultV2 {
  const link = back ? ` <a href="${escapeHtml(back)}">Open the approval page again</a>.` : '';
  return page(statusCode, title, `<p>${escapeHtml(text)}.${link}</p>`);
}

/** A redirect that sends no Referer and is never cached (the host's authorize URL carries the sign-in state). */
export function redirect(location: string, statusCode = 302): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
    body: '',
  };
}
