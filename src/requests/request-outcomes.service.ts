import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Db } from '../database/sql';
import { ModelVersion } from '../lineages/domain/lineage';
import { ModelVersionsService } from '../lineages/model-versions.service';
import { DeletionRequest } from './domain/deletion-request';
import { RequestError } from './domain/request-error';
import { AWAITING_DECISION, RequestStatus } from './domain/request-status';
import { ForgetSets } from './forget-sets.service';
import { DeletionRequestRepository } from './persistence/deletion-request.repository';
import { RequestLifecycle } from './request-lifecycle.service';

/**
 * What a decision on a model version does to the requests it carries, in the same transaction as
 * the decision: promotion completes them, rejection ends them (or leaves them for another attempt),
 * a rollback reopens the ones it undoes.
 */
/** What a rollback would do; see RequestOutcomes.previewRollback. */
export interface RollbackPreview {
  rolledBack: ModelVersion[];
  reopened: DeletionRequest[];
  conflict: string | null;
}

@Injectable()
export class RequestOutcomes {
  constructor(
    private readonly dataSource: DataSource,
    private readonly versions: ModelVersionsService,
    private readonly requests: DeletionRequestRepository,
    private readonly lifecycle: RequestLifecycle,
    private readonly forgetSets: ForgetSets,
  ) {}

  /** Promotes the candidate; the requests it carried (AUDITING or NEEDS_REVIEW) become COMPLETED with it. Returns their ids. */
  promote(lineage: string, number: number, actor: string, reason: string | null): Promise<string[]> {
    return this.dataSource.transaction(async (tx) => {
      const promoted = await this.versions.promote(tx, lineage, number, actor, reason);
      return this.lifecycle.transitionWhere(tx, promoted.requestIds, AWAITING_DECISION, 'COMPLETED', {
        actor,
        reason: reason ?? `carried out by version ${number}`,
        modelVersionId: promoted.id,
        data: { version: number },
      });
    });
  }

  /** Rejects the candidate; its requests move to `requestStatus` when given (else they stay for another attempt). */
  async reject(lineage: string, number: number, reason: string, actor: string, requestStatus: Extract<RequestStatus, 'REJECTED' | 'FAILED'> | null): Promise<void> {
    await this.dataSource.transaction(async (tx) => {
      const rejected = await this.versions.reject(tx, lineage, number, reason, actor);
      if (requestStatus) {
        await this.lifecycle.transitionWhere(tx, rejected.requestIds, ['UNLEARNING', ...AWAITING_DECISION], requestStatus, { actor, reason, data: { version: number } });
      }
    });
  }

  /**
   * What a rollback to `toVersion` would do, without changing anything: the versions it rolls back,
   * the COMPLETED requests it would reopen, and the conflict that would refuse it (null when none).
   * The API checks a rollback with it before asking the workflow, and operators preview with it.
   */
  async previewRollback(lineage: string, toVersion: number): Promise<RollbackPreview> {
    const rolledBack = await this.versions.rollbackTargets(lineage, toVersion);
    const reopened = await this.requests.listCompletedByVersions(this.dataSource.manager, rolledBack.map((v) => v.id));
    return { rolledBack, reopened, conflict: await this.unrecoverable(reopened, toVersion) };
  }

  /** Checks a rollback without changing anything (the API calls it before asking the workflow). */
  async validateRollback(lineage: string, toVersion: number): Promise<void> {
    const { conflict } = await this.previewRollback(lineage, toVersion);
    if (conflict) throw new RequestError('CONFLICT', conflict, 'toVersion');
  }

  /**
   * Moves the champion back to `toVersion` and REOPENS the COMPLETED requests the later versions
   * carried out: the duty to forget survives a rollback. Returns the reopened ids, oldest first,
   * for the workflow to queue again.
   */
  rollback(lineage: string, toVersion: number, reason: string, actor: string): Promise<string[]> {
    return this.dataSource.transaction((tx) =>
      this.versions.rollback(tx, lineage, toVersion, reason, actor, async (rolledBack) => {
        const undone = await this.requests.listCompletedByVersions(tx, rolledBack.map((v) => v.id));
        const conflict = await this.unrecoverable(undone, toVersion, tx);
        if (conflict) throw new RequestError('CONFLICT', conflict, 'toVersion');
        for (const request of undone) {
          await this.lifecycle.transition(tx, request.id, 'REOPENED', { actor, reason: `rollback to version ${toVersion}: ${reason}`, data: { version: toVersion } });
        }
        return undone.map((r) => r.id);
      }),
    );
  }

  /**
   * Retention purges an inline profile when a sequential step completes it: such a person could
   * not be unlearned again after a rollback, so the rollback is refused. Returns why, or null.
   */
  private async unrecoverable(undone: DeletionRequest[], toVersion: number, db?: Db): Promise<string | null> {
    const inline = undone.filter((r) => r.datasetSubjectId === null);
    const purged = (await this.forgetSets.loadMany(inline.map((r) => r.id), db)).filter((f) => f.content === null);
    if (purged.length === 0) return null;
    return `rolling back to version ${toVersion} would undo request(s) ${purged.map((f) => f.requestId).join(', ')}, whose personal data was purged at completion; they could not be unlearned again`;
  }
}
