import { AppError, ErrorCode } from '../../common/errors';

export class RequestError extends AppError {
  constructor(code: ErrorCode, message: string, field?: string) {
    super(code, message, field);
  }
}
