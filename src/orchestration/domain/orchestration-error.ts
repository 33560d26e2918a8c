import { AppError, type ErrorCode } from '../../common/errors';

/** A lineage workflow refused a message (its update validator or handler said why). */
export class OrchestrationError extends AppError {}

const PASSED_THROUGH: ReadonlySet<string> = new Set<ErrorCode>(['BAD_USER_INPUT', 'NOT_FOUND', 'CONFLICT']);

/**
 * Maps a workflow's ApplicationFailure (type = error code, message = "<field>: <problem>") to an
 * OrchestrationError; returns null for anything else (an internal error).
 */
export function fromWorkflowFailure(type: string | undefined | null, message: string): OrchestrationError | null {
  if (!type || !PASSED_THROUGH.has(type)) return null;
  const match = /^([A-Za-z][\w.]*): (.*)$/s.exec(message);
  return match ? new OrchestrationError(type as ErrorCode, match[2], match[1]) : new OrchestrationError(type as ErrorCode, message);
}

/** An activity's refusal of its input: final, so the workflow does not retry it; `type` names it in the failure. */
export class ActivityRefusal extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = 'ActivityRefusal';
  }
}
