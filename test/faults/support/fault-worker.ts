// The fault suite's worker process: what `refdata worker` runs, with one difference: its database passes through the
// phase holds of holds.ts when FAULT_HOLD_DIR is set, so a test can stop a load at an exact phase, inject a fault
// there and let it go on. Prints "worker ready" once polling.
import { runWorkerProcess } from '../../support/worker-main';
import { withHolds } from './holds';

const holdDir = process.env.FAULT_HOLD_DIR;
runWorkerProcess('fault-worker', (db) => (holdDir ? withHolds(db, holdDir) : db));
