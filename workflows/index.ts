// Every workflow the worker registers.
export * from './file-lifecycle';
export * from './instrument-sync';
export * from './cleanup';
export * from './delivery';
export * from './distribution';
export * from './channel-probe';
export * from './reference-config-check';
export * from './intraday-deltas';
export * from './subscription-release';
