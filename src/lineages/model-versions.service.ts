import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Db } from '../database/sql';
import { EventLog } from '../events/event-log.service';
import { LineageError, ModelLineage, ModelVersion } from './domain/lineage';
import { assertCanReject, planPromotion, planRollback } from './domain/version-rules';
import { AuditResult, AuditResultRepository } from './persistence/audit-result.repository';
import { LineageRepository } from './persistence/lineage.repository';
import { ModelVersionRepository } from './persistence/model-version.repository';

export interface NewCandidate {
  lineage: string;
  /** The version it was trained from; null = from the base (cumulative strategy). */
  parentNumber: number | null;
  adapterUri: string;
  adapterSha256: string;
  method: string;
  hyperParameters: Record<string, unknown>;
  requestIds: string[];
  /** Dataset subjects its re-forget passes trained on (see ModelVersion); empty or absent without re-forgetting. */
  reforgottenSubjectIds?: string[];
  actor: string;
  /** Non-personal extras for the event (attempt, loss curve summary...). */
  details?: Record<string, unknown>;
}

export interface AuditRecord {
  lineage: string;
  versionNumber: number;
  /** One row per request; an empty list records one row for the version alone. */
  requestIds: string[];
  attempt: number;
  metrics: unknown;
  decision: string;
  reasons: string[];
  actor: string;
}

/**
 * Model version lifecycle: candidates, audit results, promotion, rejection and rollback. Each
 * operation holds the lineage row lock, so they serialise per lineage. Promotion, rejection and
 * rollback run in the caller's transaction: the requests a version carries move in the same one
 * (requests/request-outcomes.service.ts), and this feature knows nothing of requests.
 */
@Injectable()
export class ModelVersionsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly lineages: LineageRepository,
    private readonly versions: ModelVersionRepository,
    private readonly audits: AuditResultRepository,
    private readonly eventLog: EventLog,
  ) {}

  /** Holds the lineage's row for the rest of `tx`: promotion, rollback and the purge of what a rollback needs serialise on it. */
  async lockLineage(tx: Db, name: string): Promise<ModelLineage> {
    const lineage = await this.lineages.findForUpdate(tx, name);
    if (!lineage) throw new LineageError('NOT_FOUND', `no lineage ${name}`, 'lineage');
    return lineage;
  }

  private async version(lineage: string, number: number, db: Db): Promise<ModelVersion> {
    const version = await this.versions.findByNumber(lineage, number, db);
    if (!version) throw new LineageError('NOT_FOUND', `lineage ${lineage} has no version ${number}`, 'version');
    return version;
  }

  listVersions(lineage: string): Promise<ModelVersion[]> {
    return this.versions.listByLineage(lineage);
  }

  findVersion(lineage: string, number: number): Promise<ModelVersion | null> {
    return this.versions.findByNumber(lineage, number);
  }

  findVersionById(id: string): Promise<ModelVersion | null> {
    return this.versions.findById(id);
  }

  auditResultsOfVersion(versionId: string): Promise<AuditResult[]> {
    return this.audits.listByVersion(versionId);
  }

  async createCandidate(candidate: NewCandidate): Promise<ModelVersion> {
    return this.dataSource.transaction(async (tx) => {
      await this.lockLineage(tx, candidate.lineage);
      if (candidate.parentNumber !== null) await this.version(candidate.lineage, candidate.parentNumber, tx);
      const created = await this.versions.insert(tx, {
        lineage: candidate.lineage,
        number: await this.versions.nextNumber(tx, candidate.lineage),
        parentNumber: candidate.parentNumber,
        adapterUri: candidate.adapterUri,
        adapterSha256: candidate.adapterSha256,
        method: candidate.method,
        hyperParameters: candidate.hyperParameters,
        requestIds: candidate.requestIds,
        reforgottenSubjectIds: candidate.reforgottenSubjectIds ?? [],
        status: 'CANDIDATE',
      });
      await this.eventLog.append(tx, {
        actor: candidate.actor,
        type: 'version.created',
        entityType: 'version',
        entityId: `${candidate.lineage}#${created.number}`,
        data: { parent: candidate.parentNumber, adapterUri: candidate.adapterUri, adapterSha256: candidate.adapterSha256, method: candidate.method, hyperParameters: candidate.hyperParameters, requestIds: candidate.requestIds, reforgottenSubjectIds: candidate.reforgottenSubjectIds ?? [], ...candidate.details },
      });
      return created;
    });
  }

  async recordAudit(record: AuditRecord): Promise<AuditResult[]> {
    return this.dataSource.transaction(async (tx) => {
      const version = await this.version(record.lineage, record.versionNumber, tx);
      const targets: Array<string | null> = record.requestIds.length ? record.requestIds : [null];
      const results: AuditResult[] = [];
      for (const requestId of targets) {
        results.push(await this.audits.insert(tx, { versionId: version.id, requestId, attempt: record.attempt, metrics: record.metrics, decision: record.decision, reasons: record.reasons }));
      }
      await this.eventLog.append(tx, {
        actor: record.actor,
        type: 'version.audited',
        entityType: 'version',
        entityId: `${record.lineage}#${version.number}`,
        data: { decision: record.decision, reasons: record.reasons, attempt: record.attempt, requestIds: record.requestIds },
      });
      return results;
    });
  }

  /**
   * Makes a candidate the champion, inside the caller's transaction: the previous champion becomes
   * SUPERSEDED. Returns the promoted version (the caller completes the requests it carried).
   */
  async promote(tx: Db, lineageName: string, number: number, actor: string, reason: string | null): Promise<ModelVersion> {
    const lineage = await this.lockLineage(tx, lineageName);
    const all = await this.versions.listByLineage(lineageName, tx);
    const { promote, supersede } = planPromotion(all, lineage.championVersion, number);
    if (supersede) await this.versions.setStatus(tx, supersede.id, 'SUPERSEDED', `superseded by version ${number}`);
    await this.versions.setStatus(tx, promote.id, 'PROMOTED', reason);
    await this.lineages.setChampion(tx, lineageName, number);
    await this.eventLog.append(tx, {
      actor,
      type: 'version.promoted',
      entityType: 'version',
      entityId: `${lineageName}#${number}`,
      reason,
      data: { previousChampion: lineage.championVersion, adapterSha256: promote.adapterSha256 },
    });
    return promote;
  }

  /** Rejects a candidate inside the caller's transaction; returns it as rejected. */
  async reject(tx: Db, lineageName: string, number: number, reason: string, actor: string): Promise<ModelVersion> {
    await this.lockLineage(tx, lineageName);
    const version = await this.version(lineageName, number, tx);
    assertCanReject(version);
    await this.versions.setStatus(tx, version.id, 'REJECTED', reason);
    await this.eventLog.append(tx, { actor, type: 'version.rejected', entityType: 'version', entityId: `${lineageName}#${number}`, reason });
    return (await this.versions.findById(version.id, tx))!;
  }

  /** Records that a version's adapter files were deleted (they held what it was trained on, personal data included). */
  async recordAdapterDeleted(lineageName: string, number: number, actor: string, reason: string): Promise<void> {
    await this.dataSource.transaction((tx) => this.eventLog.append(tx, { actor, type: 'version.adapter_deleted', entityType: 'version', entityId: `${lineageName}#${number}`, reason }));
  }

  /** The versions a rollback to `toVersion` would undo, checked without changing anything. */
  async rollbackTargets(lineageName: string, toVersion: number, db: Db = this.dataSource.manager): Promise<ModelVersion[]> {
    const lineage = await this.lineages.find(lineageName, db);
    if (!lineage) throw new LineageError('NOT_FOUND', `no lineage ${lineageName}`, 'lineage');
    return planRollback(await this.versions.listByLineage(lineageName, db), lineage.championVersion, toVersion).rollBack;
  }

  /**
   * Moves the champion back to `toVersion` inside the caller's transaction and marks every later
   * version ROLLED_BACK. `undo` answers for the requests those versions carried out (it may refuse
   * by throwing); its ids go into the event and are returned.
   */
  async rollback(
    tx: Db,
    lineageName: string,
    toVersion: number,
    reason: string,
    actor: string,
    undo: (rolledBack: ModelVersion[]) => Promise<string[]>,
  ): Promise<string[]> {
    const lineage = await this.lockLineage(tx, lineageName);
    const all = await this.versions.listByLineage(lineageName, tx);
    const { target, rollBack } = planRollback(all, lineage.championVersion, toVersion);
    for (const version of rollBack) await this.versions.setStatus(tx, version.id, 'ROLLED_BACK', reason);
    await this.versions.setStatus(tx, target.id, 'PROMOTED', reason);
    await this.lineages.setChampion(tx, lineageName, toVersion);
    const reopened = await undo(rollBack);
    await this.eventLog.append(tx, {
      actor,
      type: 'lineage.rolled_back',
      entityType: 'lineage',
      entityId: lineageName,
      reason,
      data: { from: lineage.championVersion, to: toVersion, adapterSha256: target.adapterSha256, rolledBack: rollBack.map((v) => v.number), reopened },
    });
    return reopened;
  }
}
