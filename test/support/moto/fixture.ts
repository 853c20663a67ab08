import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type MotoClients, motoClients } from './clients';
import { TemplateResolver } from './resolver';
import { createStandIns, type StandIns } from './resources';
import { type MotoServer, startMoto } from './server';
import { type CfnResource, type CfnTemplate, synthesizedTemplate } from './template';

/**
 * One moto server for a test file, and before each test an empty one holding the resources the synthesized
 * template declares (or those `select` picks, with the resources they refer to).
 *
 *   const moto = useMoto({ select: (id, r) => r.Type === 'AWS::DynamoDB::Table' });
 *   it('...', async () => { const table = moto().standIns.RunCoordinationState203F1E95!.ref; ... });
 */
export interface MotoWorld {
  readonly server: MotoServer;
  readonly clients: MotoClients;
  readonly template: CfnTemplate;
  /** Resolves the template's intrinsics against this test's resources (function environments, policies). */
  readonly resolver: TemplateResolver;
  /** The resources created for this test, by logical id. */
  readonly standIns: StandIns;
}

export interface UseMotoOptions {
  readonly select?: (logicalId: string, resource: CfnResource) => boolean;
  /** @default the Stepline app as synthesized from this checkout (`synthesizedTemplate`) */
  readonly template?: () => Promise<CfnTemplate>;
}

/** Synthesis takes 7 s on an idle machine and several times that on a busy one; moto starts in about 1 s. */
const SETUP_TIMEOUT_MS = 180_000;
const RESET_TIMEOUT_MS = 60_000;

export function useMoto(options: UseMotoOptions = {}): () => MotoWorld {
  let server: MotoServer | undefined;
  let clients: MotoClients | undefined;
  let template: CfnTemplate | undefined;
  let world: MotoWorld | undefined;

  beforeAll(async () => {
    // One after the other: synthesis holds the event loop, which would count in the server's start time.
    server = await startMoto();
    template = await (options.template ?? synthesizedTemplate)();
    clients = motoClients(server.endpoint);
  }, SETUP_TIMEOUT_MS);

  beforeEach(async () => {
    world = undefined;
    await server!.reset();
    const resolver = new TemplateResolver(template!);
    const standIns = await createStandIns(template!, {
      clients: clients!,
      resolver,
      ...(options.select ? { select: options.select } : {}),
    });
    world = { server: server!, clients: clients!, template: template!, resolver, standIns };
  }, RESET_TIMEOUT_MS);

  afterAll(async () => {
    clients?.destroy();
    await server?.stop();
  });

  return () => {
    if (!world) throw new Error('useMoto(): the moto world exists only inside a test');
    return world;
  };
}

/** The one stand-in of `type` (a template declares one coordination table, one parking queue...). */
export function onlyOfType(standIns: StandIns, type: string, logicalIdPrefix = ''): StandIns[string] {
  const found = Object.values(standIns).filter((s) => s.type === type && s.logicalId.startsWith(logicalIdPrefix));
  if (found.length !== 1) {
    throw new Error(
      `expected one ${type} ${logicalIdPrefix}*, found ${found.map((s) => s.logicalId).join(', ') || 'none'}`,
    );
  }
  return found[0]!;
}
