// One typed error for the audits feature. It derives from the service's AppError, so the one
// GraphQL error mapping (src/common/graphql-errors.ts) and the report routes answer with a client
// code; `reason` keeps the audit's own code for logs, tests and the activity's fail-closed result.
import { AppError, ErrorCode } from '../../common/errors';

export type AuditErrorCode =
  | 'INVALID_GATE_POLICY' // a gate policy document does not validate; `field` names the path
  | 'INVALID_AUDIT_INPUT' // the activity input is malformed; `field` names the path
  | 'SCORING_INCOMPLETE' // the scorer returned no score (or a non-finite one) for some item
  | 'PROFILE_NOT_PROBED' // an inline profile yields no probe question (no image, no fact with distractors of its kind)
  | 'REPORT_NOT_FOUND'; // no request / version / audit to report on

const CLIENT_CODE: Record<AuditErrorCode, ErrorCode> = {
  INVALID_GATE_POLICY: 'BAD_USER_INPUT',
  INVALID_AUDIT_INPUT: 'BAD_USER_INPUT',
  // The scored artifact disagrees with the eval set; it only reaches a client through a report.
  SCORING_INCOMPLETE: 'CONFLICT',
  // The requester's profile gives the audit nothing to ask; an operator reviews it.
  PROFILE_NOT_PROBED: 'CONFLICT',
  REPORT_NOT_FOUND: 'NOT_FOUND',
};

export class AuditError extends AppError {
  constructor(
    readonly reason: AuditErrorCode,
    message: string,
    field?: string,
  ) {
    super(CLIENT_CODE[reason], message, field);
  }
}
