import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { canSeeEverything, Principal, actorOf } from '../auth/domain/principal';
import { AuthError, InputError } from '../common/errors';
import { DataCipher } from '../common/crypto';
import { APP_CONFIG, AppConfig } from '../config/config';
import { ModelLineage } from '../lineages/domain/lineage';
import { LineagesService } from '../lineages/lineages.service';
import { DeletionRequest, dueDate } from './domain/deletion-request';
import { ForgetSetContent } from './domain/forget-set';
import { assertImagesDecode } from './domain/image-check';
import { RequestError } from './domain/request-error';
import { REQUEST_QUEUE, RequestQueue, ReviewDecision, StepProgress } from './domain/request-queue.port';
import { CANCELABLE, IN_STEP, RequestStatus } from './domain/request-status';
import { SubmissionInput, validateSubmission } from './domain/submission';
import { ForgetSets } from './forget-sets.service';
import { DeletionRequestRepository, NewDeletionRequest, RequestCursor, RequestFilter } from './persistence/deletion-request.repository';
import { RequestLifecycle } from './request-lifecycle.service';
import { RequestOutcomes, RollbackPreview } from './request-outcomes.service';
import { IntakeWriter } from './intake-writer.service';
import { RequestQueuer } from './request-queuer.service';

function reasonText(reason: string, field = 'reason'): string {
  const trimmed = reason.trim();
  if (trimmed.length === 0 || trimmed.length > 2000) throw new InputError(field, 'must be 1 to 2000 characters');
  return trimmed;
}

/**
 * Intake and the requester/operator actions on deletion requests.
 *
 * Durability choice: a submission is committed as RECEIVED (request, encrypted forget set and
 * event in one transaction, shared with concurrent submissions: IntakeWriter) and answered as soon as that commits; the outbox reconciler
 * (RequestQueuer) queues it on the lineage workflow and records QUEUED, within milliseconds, or
 * within a second of Temporal answering again after an outage. Nothing stored is stranded, and
 * nothing is queued twice (the queue is idempotent per request id).
 */
@Injectable()
export class RequestsService {
  private readonly logger = new Logger('Requests');
  constructor(
    private readonly dataSource: DataSource,
    private readonly requests: DeletionRequestRepository,
    private readonly lifecycle: RequestLifecycle,
    private readonly forgetSets: ForgetSets,
    private readonly lineages: LineagesService,
    private readonly outcomes: RequestOutcomes,
    private readonly cipher: DataCipher,
    private readonly intake: IntakeWriter,
    private readonly queuer: RequestQueuer,
    @Inject(REQUEST_QUEUE) private readonly queue: RequestQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async submit(input: SubmissionInput, principal: Principal): Promise<DeletionRequest> {
    const submission = validateSubmission(input);
    const digest = this.cipher.digest(submission.canonicalPayload);
    for (;;) {
      const datasetSubjectId = submission.subject.kind === 'dataset' ? submission.subject.datasetSubjectId : null;
      const { existing, lineageExists, subjectName } = await this.requests.findForIntake(principal.owner, submission.idempotencyKey, submission.lineage, datasetSubjectId);
      if (existing) {
        if (existing.payloadDigest !== digest) {
          throw new RequestError('CONFLICT', 'was already used for a different request', 'input.idempotencyKey');
        }
        if (existing.status === 'RECEIVED') this.queuer.kick();
        return existing;
      }
      if (!lineageExists) throw new RequestError('NOT_FOUND', `no lineage ${submission.lineage}`, 'input.lineage');
      let content: ForgetSetContent;
      if (submission.subject.kind === 'dataset') {
        if (subjectName === null) throw new RequestError('NOT_FOUND', `lineage ${submission.lineage} has no dataset subject ${datasetSubjectId}`, 'input.subject.datasetSubjectId');
        content = { name: subjectName, datasetSubjectId, images: [], facts: [], note: submission.note };
      } else {
        const { name, images, facts } = submission.subject;
        await assertImagesDecode(images, 'input.subject.profile.images');
        content = { name, datasetSubjectId: null, images, facts, note: submission.note };
      }
      const receivedAt = new Date();
      const request: NewDeletionRequest = {
        id: randomUUID(),
        requester: principal.owner,
        idempotencyKey: submission.idempotencyKey,
        payloadDigest: digest,
        lineage: submission.lineage,
        datasetSubjectId: content.datasetSubjectId,
        legalBasis: submission.legalBasis,
        status: 'RECEIVED',
        receivedAt,
        dueAt: dueDate(receivedAt, this.config.dueDays),
      };
      const inserted = await this.intake.store({
        request,
        content,
        received: {
          actor: actorOf(principal),
          type: 'request.received',
          entityType: 'request',
          entityId: request.id,
          data: { lineage: submission.lineage, subjectKind: submission.subject.kind, legalBasis: submission.legalBasis, images: content.images.length, facts: content.facts.length },
        },
      });
      // Lost a race with a concurrent duplicate: loop to answer as a retry of the winner.
      if (inserted) {
        this.queuer.kick();
        // As stored: nothing else has touched the row yet (the kick above queues it later).
        return { ...request, datasetSubjectName: subjectName, statusReason: null, updatedAt: receivedAt, modelVersionId: null };
      }
    }
  }

  /** Reads one request; a REQUESTER only its own. */
  async get(id: string, principal: Principal): Promise<DeletionRequest> {
    const request = /^[0-9a-f-]{36}$/i.test(id) ? await this.requests.findById(id) : null;
    if (!request) throw new RequestError('NOT_FOUND', `no deletion request ${id}`, 'id');
    if (!canSeeEverything(principal) && request.requester !== principal.owner) {
      throw new AuthError('FORBIDDEN', 'a REQUESTER may only see its own requests');
    }
    return request;
  }

  async page(
    filter: { statuses?: RequestStatus[]; lineage?: string; requester?: string },
    first: number,
    after: RequestCursor | null,
    principal: Principal,
  ): Promise<{ requests: DeletionRequest[]; totalCount: number; hasNextPage: boolean }> {
    const scoped: RequestFilter = { ...filter };
    if (!canSeeEverything(principal)) {
      if (filter.requester !== undefined && filter.requester !== principal.owner) throw new AuthError('FORBIDDEN', 'a REQUESTER may only list its own requests');
      scoped.requester = principal.owner;
    }
    const page = await this.requests.page(scoped, first + 1, after);
    return { requests: page.slice(0, first), totalCount: await this.requests.count(scoped), hasNextPage: page.length > first };
  }

  /** Withdraws a request before unlearning starts (REQUESTER: its own; OPERATOR: any). */
  async cancel(id: string, reason: string, principal: Principal): Promise<DeletionRequest> {
    const why = reasonText(reason);
    const request = await this.get(id, principal);
    if (!CANCELABLE.includes(request.status)) {
      throw new RequestError('CONFLICT', `is ${request.status}; only ${CANCELABLE.join(', ')} requests can be canceled`, 'id');
    }
    // Not queued yet: canceled in the database alone. Should the queuer have enqueued it meanwhile,
    // the step skips it: a step begins only requests still waiting in the database.
    const unqueued = await this.cancelInTransaction(id, ['RECEIVED'], why, principal);
    if (unqueued) return unqueued;
    if (!(await this.queue.cancel(request.lineage, request.id))) {
      throw new RequestError('CONFLICT', 'unlearning has already started', 'id');
    }
    const canceled = await this.cancelInTransaction(id, CANCELABLE, why, principal);
    if (!canceled) throw new RequestError('CONFLICT', 'unlearning has already started', 'id');
    return canceled;
  }

  /** Cancels the request if it is in one of `from`; null when it is not. */
  private cancelInTransaction(id: string, from: readonly RequestStatus[], why: string, principal: Principal): Promise<DeletionRequest | null> {
    return this.dataSource.transaction(async (tx) => {
      const moved = await this.lifecycle.transitionWhere(tx, [id], from, 'CANCELED', { actor: actorOf(principal), reason: why });
      if (moved.length === 0) return null;
      // Nothing will use a canceled request's personal data again: it goes with the cancel (domain/retention.ts).
      await this.forgetSets.purgeIn(tx, id, actorOf(principal), 'retention: request CANCELED');
      return (await this.requests.findById(id, tx))!;
    });
  }

  /** An operator's decision on a request held for review by the gate. The workflow carries it out. */
  async review(id: string, decision: ReviewDecision, reason: string, principal: Principal): Promise<DeletionRequest> {
    const why = reasonText(reason);
    const request = await this.get(id, principal);
    if (request.status !== 'NEEDS_REVIEW') throw new RequestError('CONFLICT', `is ${request.status}, not NEEDS_REVIEW`, 'id');
    await this.queue.review(request.lineage, id, decision, why, actorOf(principal));
    return (await this.requests.findById(id))!;
  }

  /**
   * Where an UNLEARNING or AUDITING request stands in its running step. Best effort: the workflow answers for
   * itself, and while Temporal cannot be reached the request reads without its progress rather than failing.
   */
  async progress(request: Pick<DeletionRequest, 'id' | 'lineage' | 'status'>): Promise<StepProgress | null> {
    if (!IN_STEP.includes(request.status)) return null;
    try {
      return await this.queue.progress(request.lineage, request.id);
    } catch (err) {
      this.logger.warn(`progress of request ${request.id} on lineage ${request.lineage}: ${(err as Error).message}`);
      return null;
    }
  }

  /** What a rollback would do (versions, requests reopened, or the conflict), checked by the rollback's own rules. */
  previewRollback(lineage: string, toVersion: number): Promise<RollbackPreview> {
    return this.outcomes.previewRollback(lineage, toVersion);
  }

  /** An operator's rollback of a lineage; the workflow carries it out once its running step ends. */
  async rollback(lineage: string, toVersion: number, reason: string, principal: Principal): Promise<ModelLineage> {
    const why = reasonText(reason);
    // Checked here first so a bad call fails fast with a field error, before any workflow starts.
    await this.outcomes.validateRollback(lineage, toVersion);
    await this.queue.rollback(lineage, toVersion, why, actorOf(principal));
    return this.lineages.get(lineage);
  }
}
