import { AppError, ErrorCode } from '../../common/errors';

/** Serving's refusals: an unknown lineage or version, a version that may not be served, a runtime that cannot answer. */
export class ServingError extends AppError {
  constructor(code: ErrorCode, message: string, field?: string) {
    super(code, message, field);
  }
}
