import type { IgnoreCode, RejectCode } from '../contracts/webhook';
import type { Route } from './types';

/**
 * The one contract of every intake filter (after Tekton Triggers' interceptors): a value in, a verdict out that
 * either continues with a value or stops with a status. A stop says whose doing it is: 4xx the sender's (a bad
 * request), 2xx an answered delivery that starts nothing (ping, an event no route wants). Our own failures are not
 * verdicts: they are thrown, and the function answers 5xx.
 */
export type Verdict<T> = Continue<T> | Stop;

export interface Continue<T> {
  readonly continue: true;
  readonly value: T;
}

export type Stop = Rejected | Pong | Ignored | Skipped;

/** The sender's error. */
export interface Rejected {
  readonly continue: false;
  readonly kind: 'rejected';
  /** 403: a hand-off from a known source that asks for what its configuration does not allow (docs/adr/0100). */
  readonly status: 400 | 401 | 403 | 404 | 413 | 415;
  readonly code: RejectCode;
  /** Safe to return to the sender: names what is wrong, never echoes a secret or the body. */
  readonly message: string;
}

/** A ping or test event: verified, answered, nothing started. */
export interface Pong {
  readonly continue: false;
  readonly kind: 'pong';
  readonly status: 200;
}

/** A verified delivery that no route wants. */
export interface Ignored {
  readonly continue: false;
  readonly kind: 'ignored';
  readonly status: 202;
  readonly code: IgnoreCode;
  readonly reason: string;
}

/** A route wanted the delivery but its path filter found no relevant change. */
export interface Skipped {
  readonly continue: false;
  readonly kind: 'skipped';
  readonly status: 202;
  readonly code: 'paths_unchanged';
  readonly reason: string;
  /** The route that would have run, so that status reporting can mark its contexts skipped. */
  readonly route: Route;
  /** The commit status contexts that route would have reported. */
  readonly contexts: readonly string[];
}

export function proceed<T>(value: T): Continue<T> {
  return { continue: true, value };
}

export function reject(status: Rejected['status'], code: RejectCode, message: string): Rejected {
  return { continue: false, kind: 'rejected', status, code, message };
}

export const PONG: Pong = { continue: false, kind: 'pong', status: 200 };

export function ignore(code: IgnoreCode, reason: string): Ignored {
  return { continue: false, kind: 'ignored', status: 202, code, reason };
}

export function skip(reason: string, route: Route, contexts: readonly string[]): Skipped {
  return { continue: false, kind: 'skipped', status: 202, code: 'paths_unchanged', reason, route, contexts };
}

/** The 401 answer: the same for a missing, malformed or wrong signature, so that it gives no hint which. */
export const INVALID_SIGNATURE: Rejected = reject(
  401,
  'invalid_signature',
  'the request signature is missing or wrong',
);
