// How reporting services refuse a request: a code and message for `{error:{code,message}}` and the HTTP status to send.

export class ReportingError extends Error {
  override readonly name = 'ReportingError';
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus: 400 | 403 | 404 | 409 | 503,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new ReportingError('NOT_FOUND', `no ${what}`, 404);
export const badRequest = (code: string, message: string) => new ReportingError(code, message, 400);
export const conflict = (code: string, message: string) => new ReportingError(code, message, 409);
export const forbidden = (message: string) => new ReportingError('FORBIDDEN', message, 403);
