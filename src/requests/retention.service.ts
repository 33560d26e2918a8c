import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LineagesService } from '../lineages/lineages.service';
import { ModelVersionsService } from '../lineages/model-versions.service';
import { keptForRollbackUntil, RetentionOutcome, shouldPurge } from './domain/retention';
import { ForgetSets } from './forget-sets.service';
import { DeletionRequestRepository } from './persistence/deletion-request.repository';

/** Applies the retention rules (domain/retention.ts): to the requests a step just finished, and when a rollback window ends. */
@Injectable()
export class Retention {
  private readonly logger = new Logger('Retention');

  constructor(
    private readonly dataSource: DataSource,
    private readonly lineages: LineagesService,
    private readonly versions: ModelVersionsService,
    private readonly requests: DeletionRequestRepository,
    private readonly forgetSets: ForgetSets,
  ) {}

  /**
   * Purges the personal data of those of `requestIds` that reached `outcome` and need it no more, and marks until when
   * a completed inline profile is kept for a rollback; returns the purged ids. `rollbackCanUndo`: false when version 0
   * carried the requests out (nothing was trained; no rollback reaches it).
   */
  async purgeFinished(lineageName: string, outcome: RetentionOutcome, requestIds: readonly string[], actor: string, { rollbackCanUndo = true } = {}): Promise<string[]> {
    const lineage = await this.lineages.get(lineageName);
    const purged: string[] = [];
    for (const id of requestIds) {
      const request = await this.requests.findById(id);
      if (!request || request.status !== outcome) continue;
      if (shouldPurge(outcome, request, lineage, rollbackCanUndo)) {
        await this.forgetSets.purge(id, actor, `retention: request ${outcome} on a ${lineage.strategy} lineage`);
        purged.push(id);
        continue;
      }
      const until = outcome === 'COMPLETED' ? keptForRollbackUntil(request, new Date(), lineage) : null;
      if (until) await this.forgetSets.keepForRollback(id, until, actor, `retention: kept encrypted for the lineage's ${lineage.profileRetentionDays}-day rollback window, so that a rollback can unlearn the person again`);
    }
    return purged;
  }

  /**
   * Purges the completed inline profiles whose rollback window ended by `now`; returns their ids. Each purge holds its
   * lineage as a rollback does and checks the request again under it, so a rollback never reopens a request whose
   * profile is gone; a request a rollback reopened meanwhile keeps its profile, as does one completed again since (a new window).
   */
  async purgeEndedRollbackWindows(now: Date, actor: string): Promise<string[]> {
    const purged: string[] = [];
    for (const id of await this.forgetSets.keptUntil(now)) {
      const request = await this.requests.findById(id);
      if (!request) continue;
      const done = await this.dataSource.transaction(async (tx) => {
        const lineage = await this.versions.lockLineage(tx, request.lineage);
        const current = await this.requests.findByIdForUpdate(tx, id);
        if (current?.status !== 'COMPLETED') return false;
        return this.forgetSets.purgeIn(tx, id, actor, `retention: the ${lineage.profileRetentionDays}-day rollback window after completion ended; a rollback past this request is refused from now on`, now);
      });
      if (done) purged.push(id);
    }
    if (purged.length > 0) this.logger.log(`purged ${purged.length} inline profile(s) whose rollback window ended`);
    return purged;
  }
}
