// One Lambda execution environment for the AWS-composition suite: loads a built bundle from the task root
// ($LAMBDA_TASK_ROOT, the asset folder the template points at) with the function's environment, then answers
// invocations sent by the parent over IPC, one at a time, as the Node.js runtime does: the handler's result, or
// its error as { errorType, errorMessage, trace }. An error while loading the module is reported on every invoke.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [moduleName, exportName] = (() => {
  const handler = process.env._HANDLER ?? 'index.handler';
  const dot = handler.lastIndexOf('.');
  return [handler.slice(0, dot), handler.slice(dot + 1)];
})();

function errorOf(error) {
  const e = error instanceof Error ? error : new Error(String(error));
  return {
    errorType: e.name && e.name !== 'Error' ? e.name : (e.constructor?.name ?? 'Error'),
    errorMessage: e.message,
    trace: String(e.stack ?? '')
      .split('\n')
      .slice(0, 20),
  };
}

async function load() {
  const root = process.env.LAMBDA_TASK_ROOT;
  for (const extension of ['.mjs', '.js', '.cjs']) {
    try {
      const module = await import(pathToFileURL(join(root, `${moduleName}${extension}`)).href);
      const handler = module[exportName] ?? module.default?.[exportName];
      if (typeof handler !== 'function') {
        throw Object.assign(new Error(`${moduleName}.${exportName} is undefined or not exported`), {
          name: 'Runtime.HandlerNotFound',
        });
      }
      return handler;
    } catch (error) {
      if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes(`${moduleName}${extension}`))
        continue;
      throw error;
    }
  }
  throw Object.assign(new Error(`Cannot find module '${moduleName}'`), { name: 'Runtime.ImportModuleError' });
}

const loaded = load().then(
  (handler) => ({ handler }),
  (error) => ({ error: errorOf(error) }),
);

process.on('message', async (message) => {
  if (message?.type !== 'invoke') return;
  const { id, event, context: fields, deadline } = message;
  const init = await loaded;
  if (init.error) {
    process.send({ type: 'result', id, ok: false, error: init.error });
    return;
  }
  const context = {
    ...fields,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
  try {
    const payload = await init.handler(event, context);
    process.send({ type: 'result', id, ok: true, payload: payload === undefined ? null : payload });
  } catch (error) {
    process.send({ type: 'result', id, ok: false, error: errorOf(error) });
  }
});

process.send({ type: 'ready' });
