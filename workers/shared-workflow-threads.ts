// One workflow thread for all the Workers of a process. The SDK gives every Worker (one per task queue here) its own
// pool of workflow threads, each a V8 isolate holding the workflow bundle: ~25 MB apiece, five of them in a worker
// that polls every queue. Workflow code is small and quick between awaits (the heavy work is in activities, on the
// main thread), so one thread keeps up with all the queues, as it kept up with each.
import { Worker } from '@temporalio/worker';

type CreateCreator = (typeof Worker)['createWorkflowCreator'];
type WorkflowCreator = Awaited<ReturnType<CreateCreator>>;

/**
 * A Worker class whose instances share one workflow creator (and so its threads). `createWorkflowCreator` is the SDK's
 * protected extension point; the first Worker's options build the pool, which is destroyed when the last Worker using
 * it is. Every Worker sharing it must run the same bundle with the same activities (startWorker's do).
 */
export function workerSharingWorkflowThreads(): typeof Worker {
  let shared: Promise<WorkflowCreator> | null = null;
  let users = 0;
  return class SharedThreadsWorker extends Worker {
    protected static override async createWorkflowCreator(...args: Parameters<CreateCreator>): Promise<WorkflowCreator> {
      shared ??= Worker.createWorkflowCreator(...args);
      shared.catch(() => (shared = null));
      const creator = await shared;
      users += 1;
      let destroyed = false;
      return {
        createWorkflow: (options) => creator.createWorkflow(options),
        destroy: async () => {
          if (destroyed) return;
          destroyed = true;
          users -= 1;
          if (users === 0) {
            shared = null;
            await creator.destroy();
          }
        },
      };
    }
  };
}
