/** The error codes clients see in `extensions.code`. */
export type ErrorCode = 'UNAUTHENTICATED' | 'FORBIDDEN' | 'BAD_USER_INPUT' | 'NOT_FOUND' | 'CONFLICT' | 'PAYLOAD_TOO_LARGE';

/**
 * Base of every expected error. Each feature derives its own class (RequestError, LineageError,
 * AuthError...) so a stack trace says where a rule lives; the GraphQL layer maps all of them in
 * one place (graphql-errors.ts). Anything else is an internal error.
 */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The input field at fault, as a dotted path from the argument (e.g. "input.subject.profile.images[2]"). */
    readonly field?: string,
  ) {
    super(field ? `${field}: ${message}` : message);
    this.name = new.target.name;
  }
}

export class AuthError extends AppError {}

export class InputError extends AppError {
  constructor(field: string, message: string) {
    super('BAD_USER_INPUT', message, field);
  }
}
