import { startRuntime } from '../../../local/runtime';

/**
 * A local runtime in a process of its own, for tests that need what only a separate process shows: its environment
 * as /proc shows it, a crash that must not happen, a `kill -9`. Options come as JSON in STEPLINE_TEST_OPTIONS; the
 * process prints one JSON line `{ url, port, pid, stateDir }` once it listens, and stops on SIGTERM.
 *
 * With `killAfter` (an event type and a state name), it kills itself with SIGKILL at the end of the event-loop turn
 * in which the execution history records that event of that state: a crash at the worst moment, without a timer.
 */

interface ChildOptions {
  readonly options: Record<string, unknown>;
  readonly killAfter?: { readonly type: string; readonly state: string };
  /** Mount the web console, as `stepline start` does. */
  readonly console?: boolean;
}

async function main(): Promise<void> {
  const given = JSON.parse(process.env['STEPLINE_TEST_OPTIONS'] ?? '{}') as ChildOptions;
  const web = given.console ? await import('../../../local/console') : null;
  let routes: { method: string; pattern: string }[] = [];
  const runtime = await startRuntime({
    // The runtime's own lines (failed requests among them) go to standard error, where the test reads them.
    log: (line) => process.stderr.write(`${line}\n`),
    ...given.options,
    extend: (router, started) => {
      if (web) web.mountConsole(router, web.createConsoleRoutes(web.runtimeConsoleSource(started)));
      routes = router.list();
    },
  });
  const kill = given.killAfter;
  if (kill) {
    runtime.events.on(
      'event',
      (event: { type: string; event?: { type?: string; stateExitedEventDetails?: unknown } }) => {
        const history = event.event as { type?: string; [k: string]: unknown } | undefined;
        if (event.type !== 'history' || history?.type !== kill.type) return;
        const details = Object.entries(history).find(([k]) => k.endsWith('EventDetails'))?.[1] as
          | { name?: string }
          | undefined;
        if (details?.name !== kill.state) return;
        setImmediate(() => process.kill(process.pid, 'SIGKILL'));
      },
    );
  }
  process.stdout.write(
    `${JSON.stringify({ url: runtime.url, port: runtime.port, pid: process.pid, stateDir: runtime.stateDir, routes })}\n`,
  );
  process.once('SIGTERM', () => {
    void runtime.stop().then(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`child runtime: ${(error as Error).message}\n`);
  process.exit(1);
});
