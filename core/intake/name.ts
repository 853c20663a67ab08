import { createHash } from 'node:crypto';
import type { PipelineRequest } from './types';

/**
 * The execution name: `<repository>-<short SHA>-<delivery id>`, in `[0-9A-Za-z_-]`, at most 80 characters (Step
 * Functions' limit). It depends only on the request, so a redelivery maps to the same name and Step Functions
 * refuses to start it twice. Where sanitizing or shortening loses characters of the delivery id, a hash of the
 * whole id is kept, so that two deliveries never share a name.
 */
export const MAX_EXECUTION_NAME_LENGTH = 80;
const SHORT_SHA_LENGTH = 7;
const MAX_DELIVERY_PART = 44;
const HASH_LENGTH = 10;

const CLEAN = /^[0-9A-Za-z_]+(?:-[0-9A-Za-z_]+)*$/;

export function sanitizeNamePart(value: string): string {
  if (CLEAN.test(value)) return value;
  return value
    .replace(/[^0-9A-Za-z_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '');
}

function shortHash(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, HASH_LENGTH);
}

function deliveryPart(deliveryId: string): string {
  const clean = sanitizeNamePart(deliveryId);
  if (clean === deliveryId && clean.length <= MAX_DELIVERY_PART) return clean;
  const keep = MAX_DELIVERY_PART - HASH_LENGTH - 1;
  const head = clean.slice(0, keep).replace(/-+$/, '');
  return head.length > 0 ? `${head}-${shortHash(deliveryId)}` : shortHash(deliveryId);
}

export function executionName(request: Pick<PipelineRequest, 'repository' | 'commit' | 'deliveryId'>): string {
  const sha = sanitizeNamePart(request.commit.sha.slice(0, SHORT_SHA_LENGTH));
  const delivery = deliveryPart(request.deliveryId);
  const budget = MAX_EXECUTION_NAME_LENGTH - sha.length - delivery.length - 2;
  const repository = sanitizeNamePart(request.repository.fullName).slice(0, budget).replace(/-+$/, '') || 'repo';
  return `${repository}-${sha}-${delivery}`;
}
