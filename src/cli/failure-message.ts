// What a command that failed prints. The Temporal client's errors say only what failed ("Failed to create schedule");
// why is in the gRPC error they wrap (`cause.details`), so that goes on the same line.
export function failureMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  const details = cause !== null && typeof cause === 'object' ? (cause as { details?: unknown }).details : undefined;
  return typeof details === 'string' && details && !err.message.includes(details) ? `${err.message}: ${details}` : err.message;
}
