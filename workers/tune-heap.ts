// Imported first by the entry points (bin/refdata, test/support/worker-process.ts): sizes the V8 heap before the
// other modules load and allocate (workers/heap.ts).
import { heapGrowthPercentOf, tuneHeap } from './heap';

tuneHeap(heapGrowthPercentOf(process.env));
