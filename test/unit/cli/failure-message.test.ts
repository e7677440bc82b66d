// What a failed command prints: the Temporal client's error and the reason the server gave.
import { describe, expect, it } from 'vitest';
import { ServiceError } from '@temporalio/client';
import { failureMessage } from '../../../src/cli/failure-message';

describe('failureMessage', () => {
  it('adds the gRPC reason a Temporal ServiceError wraps', () => {
    const grpc = Object.assign(new Error('3 INVALID_ARGUMENT: Namespace default has no mapping defined for search attribute SyncTrigger'), {
      code: 3, details: 'Namespace default has no mapping defined for search attribute SyncTrigger',
    });
    expect(failureMessage(new ServiceError('Failed to create schedule', { cause: grpc }))).toBe(
      'Failed to create schedule: Namespace default has no mapping defined for search attribute SyncTrigger',
    );
  });

  it('leaves other errors as they are, and does not repeat a reason already in the message', () => {
    expect(failureMessage(new Error('no such file'))).toBe('no such file');
    expect(failureMessage(new Error('x: why', { cause: { details: 'why' } }))).toBe('x: why');
    expect(failureMessage('plain')).toBe('plain');
  });
});
