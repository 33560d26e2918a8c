import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { canSeeEverything, Principal, actorOf } from '../auth/domain/principal';
import { AuthError, InputError } from '../common/errors';
import { DataCipher } from '../common/crypto';
import { APP_CONFIG, AppConfig } from '../config/config';
import { EventLog } from '../events/event-log.service';
import { ModelLineage } from '../lineages/domain/lineage';
import { LineagesService } from '../lineages/lineages.service';
import { DeletionRequest, dueDate } from './domain/deletion-request';
import { ForgetSetContent } from './domain/forget-set';
import { assertImagesDecode } from './domain/image-check';
import { RequestError } from './domain/request-error';
import { REQUEST_QUEUE, RequestQueue, ReviewDecision } from './domain/request-queue.port';
import { CANCELABLE, RequestStatus } from './domain/request-status';
import { SubmissionInput, validateSubmission } from './domain/submission';
import { ForgetSets } from './forget-sets.service';
import { DeletionRequestRepository, RequestCursor, RequestFilter } from './persistence/deletion-request.repository';
import { RequestLifecycle } from './request-lifecycle.service';
import { RequestOutcomes } from './request-outcomes.service';

const SYSTEM_ACTOR = 'system';

function reasonText(reason: string, field = 'reason'): string {
  const trimmed = reason.trim();
  if (trimmed.length === 0 || trimmed.length > 2000) throw new InputError(field, 'must be 1 to 2000 characters');
  return trimmed;
}

/**
 * Intake and the requester/operator actions on deletion requests.
 *
 * Durability choice: a submission is committed as RECEIVED (request, encrypted forget set and
 * event in one transaction) BEFORE it is enqueued on the lineage workflow, then marked QUEUED.
 * If the enqueue fails the call fails, and the request stays RECEIVED: a retry with the same
 * idempotency key enqueues it, and so does the recovery pass at every start. So nothing is lost
 * and nothing is queued twice (the queue is idempotent per request id).
 */
@Injectable()
export class RequestsService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Requests');

  constructor(
    private readonly dataSource: DataSource,
    private readonly requests: DeletionRequestRepository,
    private readonly lifecycle: RequestLifecycle,
    private readonly forgetSets: ForgetSets,
    private readonly lineages: LineagesService,
    private readonly outcomes: RequestOutcomes,
    private readonly cipher: DataCipher,
    private readonly eventLog: EventLog,
    @Inject(REQUEST_QUEUE) private readonly queue: RequestQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async submit(input: SubmissionInput, principal: Principal): Promise<DeletionRequest> {
    const submission = validateSubmission(input);
    const digest = this.cipher.digest(submission.canonicalPayload);
    for (;;) {
      const existing = await this.requests.findByIdempotencyKey(principal.owner, submission.idempotencyKey);
      if (existing) {
        if (existing.payloadDigest !== digest) {
          throw new RequestError('CONFLICT', 'was already used for a different request', 'input.idempotencyKey');
        }
        return this.ensureQueued(existing);
      }
      if (!(await this.lineages.find(submission.lineage))) throw new RequestError('NOT_FOUND', `no lineage ${submission.lineage}`, 'input.lineage');
      let content: ForgetSetContent;
      if (submission.subject.kind === 'dataset') {
        const subject = await this.lineages.findSubject(submission.lineage, submission.subject.datasetSubjectId);
        if (!subject) throw new RequestError('NOT_FOUND', `lineage ${submission.lineage} has no dataset subject ${submission.subject.datasetSubjectId}`, 'input.subject.datasetSubjectId');
        content = { name: subject.name, datasetSubjectId: subject.id, images: [], facts: [], note: submission.note };
      } else {
        const { name, images, facts } = submission.subject;
        await assertImagesDecode(images, 'input.subject.profile.images');
        content = { name, datasetSubjectId: null, images, facts, note: submission.note };
      }
      const receivedAt = new Date();
      const id = randomUUID();
      const inserted = await this.dataSource.transaction(async (tx) => {
        const fresh = await this.requests.insertIfAbsent(tx, {
          id,
          requester: principal.owner,
          idempotencyKey: submission.idempotencyKey,
          payloadDigest: digest,
          lineage: submission.lineage,
          datasetSubjectId: content.datasetSubjectId,
          legalBasis: submission.legalBasis,
          status: 'RECEIVED',
          receivedAt,
          dueAt: dueDate(receivedAt, this.config.dueDays),
        });
        if (!fresh) return false;
        await this.forgetSets.store(tx, id, content);
        await this.eventLog.append(tx, {
          actor: actorOf(principal),
          type: 'request.received',
          entityType: 'request',
          entityId: id,
          data: { lineage: submission.lineage, subjectKind: submission.subject.kind, legalBasis: submission.legalBasis, images: content.images.length, facts: content.facts.length },
        });
        return true;
      });
      // Lost a race with a concurrent duplicate: loop to answer as a retry of the winner.
      if (inserted) return this.ensureQueued((await this.requests.findById(id))!);
    }
  }

  /** Enqueues a RECEIVED request and records QUEUED (unless the workflow already moved it on). */
  private async ensureQueued(request: DeletionRequest): Promise<DeletionRequest> {
    if (request.status !== 'RECEIVED') return request;
    await this.queue.enqueue(request.lineage, request.id);
    return this.dataSource.transaction(async (tx) => {
      const current = (await this.requests.findByIdForUpdate(tx, request.id))!;
      if (current.status !== 'RECEIVED') return current;
      return this.lifecycle.transition(tx, request.id, 'QUEUED', { actor: SYSTEM_ACTOR, reason: `queued on lineage ${request.lineage}` });
    });
  }

  /** Recovery: requests committed but never enqueued (the queue was down, or the process died). */
  async onApplicationBootstrap(): Promise<void> {
    const stranded = await this.requests.listByStatus('RECEIVED');
    for (const request of stranded) {
      try {
        await this.ensureQueued(request);
      } catch (err) {
        this.logger.error(`could not enqueue stranded request ${request.id}: ${(err as Error).message}`);
      }
    }
    if (stranded.length) this.logger.log(`recovery: ${stranded.length} RECEIVED request(s) re-enqueued`);
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
    if (!(await this.queue.cancel(request.lineage, request.id))) {
      throw new RequestError('CONFLICT', 'unlearning has already started', 'id');
    }
    // Nothing will use a canceled request's personal data again: it goes with the cancel (domain/retention.ts).
    return this.dataSource.transaction(async (tx) => {
      const canceled = await this.lifecycle.transition(tx, id, 'CANCELED', { actor: actorOf(principal), reason: why });
      await this.forgetSets.purgeIn(tx, id, actorOf(principal), 'retention: request CANCELED');
      return canceled;
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

  /** An operator's rollback of a lineage; the workflow carries it out once its running step ends. */
  async rollback(lineage: string, toVersion: number, reason: string, principal: Principal): Promise<ModelLineage> {
    const why = reasonText(reason);
    // Checked here first so a bad call fails fast with a field error, before any workflow starts.
    await this.outcomes.validateRollback(lineage, toVersion);
    await this.queue.rollback(lineage, toVersion, why, actorOf(principal));
    return this.lineages.get(lineage);
  }
}
