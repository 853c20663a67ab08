import type { GitOpsDelivery } from '../config/delivery';
import type { ConfigRepository } from './ports';
import {
  type ImageUpdate,
  type ValueChange,
  WriteBackError,
  writeArgoCdSource,
  writeFluxMarkers,
  writeHelmValues,
  writeKustomization,
} from './writeback';

/**
 * Which files of the configuration repository a delivery writes, and what it writes in them, read at one
 * commit; and the commit messages (docs/adr/0103).
 */

export interface PlannedWrite {
  readonly path: string;
  readonly before: string | null;
  readonly after: string;
  readonly changes: readonly ValueChange[];
}

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

function join(folder: string, name: string): string {
  return `${folder.replace(/\/+$/, '')}/${name}`;
}

/** The files the delivery's format names (a Flux folder: every YAML file below it, at `ref`). */
export async function targetFiles(delivery: GitOpsDelivery, repo: ConfigRepository, ref: string): Promise<string[]> {
  const { format, path } = delivery;
  switch (format.type) {
    case 'kustomize': {
      for (const name of KUSTOMIZATION_FILES) {
        if ((await repo.readFile(ref, join(path, name))) !== null) return [join(path, name)];
      }
      throw new WriteBackError(`${repo.label} has no kustomization.yaml in ${path} on ${delivery.branch}`);
    }
    case 'helm':
      return [path];
    case 'flux':
      if ((await repo.readFile(ref, path)) !== null) return [path];
      return (await repo.listFiles(ref, path)).filter((f) => /\.ya?ml$/.test(f));
    case 'argocdSource':
      return [join(path, `.argocd-source-${delivery.application ?? delivery.controller.name}.yaml`)];
  }
}

/** What the delivery writes at `ref`: only the files that change. */
export async function planWrites(
  delivery: GitOpsDelivery,
  repo: ConfigRepository,
  ref: string,
  image: ImageUpdate,
): Promise<PlannedWrite[]> {
  const { format } = delivery;
  const planned: PlannedWrite[] = [];
  let marked = 0;
  for (const path of await targetFiles(delivery, repo, ref)) {
    const before = await repo.readFile(ref, path);
    if (before === null && format.type !== 'argocdSource') {
      throw new WriteBackError(`${repo.label} has no ${path} on ${delivery.branch}`);
    }
    const text = before ?? '';
    let result: { after: string; changes: readonly ValueChange[] };
    if (format.type === 'kustomize') result = writeKustomization(text, format.image ?? image.repository, image);
    else if (format.type === 'helm') result = writeHelmValues(text, format, image, path);
    else if (format.type === 'argocdSource')
      result = writeArgoCdSource(before, format.image ?? image.repository, image);
    else {
      try {
        result = writeFluxMarkers(text, format.policy, image, path);
      } catch (error) {
        if (error instanceof WriteBackError && /has no \{/.test(error.message)) continue;
        throw error;
      }
    }
    marked += 1;
    if (result.changes.length > 0) planned.push({ path, before, after: result.after, changes: result.changes });
  }
  if (format.type === 'flux' && marked === 0) {
    throw new WriteBackError(`no file in ${delivery.path} has a {"$imagepolicy": "${format.policy}"} marker`);
  }
  return planned;
}

export const TRAILERS = {
  execution: 'Stepline-Execution',
  environment: 'Stepline-Environment',
  action: 'Stepline-Action',
} as const;

export interface MessageContext {
  readonly environment: string;
  readonly executionName: string;
  readonly sourceRepository: string;
  readonly sourceCommit: string;
  readonly runLink: string | null;
}

function trailers(context: MessageContext, action: 'deliver' | 'revert'): string {
  return [
    `${TRAILERS.execution}: ${context.executionName}`,
    `${TRAILERS.environment}: ${context.environment}`,
    `${TRAILERS.action}: ${action}`,
  ].join('\n');
}

const shorten = (v: string | null) => (v === null ? 'nothing' : v.replace(/(sha256:[0-9a-f]{12})[0-9a-f]{52}/g, '$1…'));

/** The write's subject line: the environment, the image, and what its reference was before. */
export function deliverSubject(context: MessageContext, image: ImageUpdate, writes: readonly PlannedWrite[]): string {
  const name = image.repository.split('/').slice(-1)[0];
  const from = writes[0]?.changes[0]?.from ?? null;
  return `deploy(${context.environment}): ${name} ${shorten(from)} → ${shorten(image.digest)}`;
}

/** The commit message of a write: what changed from what to what, the source commit and the run's link. */
export function deliverMessage(context: MessageContext, image: ImageUpdate, writes: readonly PlannedWrite[]): string {
  const lines = writes.flatMap((w) => w.changes.map((c) => `- ${w.path}: ${c.field}: ${c.from ?? '(none)'} → ${c.to}`));
  return [
    deliverSubject(context, image, writes),
    '',
    `Stepline sets ${image.repository}@${image.digest} in ${context.environment}, built from ${context.sourceRepository}@${context.sourceCommit}.`,
    '',
    ...lines,
    '',
    `Run: ${context.runLink ?? context.executionName}`,
    '',
    trailers(context, 'deliver'),
  ].join('\n');
}

export function revertMessage(context: MessageContext, subject: string, reverted: string, reason: string): string {
  return [
    `Revert "${subject}"`,
    '',
    `This reverts commit ${reverted}: ${reason}`,
    '',
    `Run: ${context.runLink ?? context.executionName}`,
    '',
    trailers(context, 'revert'),
  ].join('\n');
}

/**
 * The branch of a pull request: one per run, environment and attempt, never shared. A run redriven after its pull
 * request was closed unmerged (or merged and reverted) opens its next attempt on a new branch, `-attempt-<n>` from
 * the second on (ADR 0111); a revert's branch is its attempt's with `-revert`.
 */
export function changeBranch(environment: string, executionName: string, revert = false, attempt = 1): string {
  return `stepline/${environment}/${executionName}${attempt > 1 ? `-attempt-${attempt}` : ''}${revert ? '-revert' : ''}`;
}
