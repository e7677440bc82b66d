// The CSV toolkit: detection, naming, type inference and schema matching, all pure functions over a sample.
export * from './errors';
export * from './table-name';
export * from './encoding';
export * from './values';
export * from './parse';
export * from './header';
export * from './dialect';
export * from './types';
export * from './schema-match';
export * from './plan';
export * from './copy-compat';
export * from './record-boundaries';
export * from './table-suggestions';
