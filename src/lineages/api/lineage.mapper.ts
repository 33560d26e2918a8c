// The one place that decides what each role sees of lineages and versions. Server paths are for
// OPERATORs; a REQUESTER reaches a version only through one of its own requests and sees only
// that request and its own person of the version, plus counts.
import { canSeeEverything, type Principal } from '../../auth/domain/principal';
import { DatasetSubject, ModelLineage, ModelVersion } from '../domain/lineage';
import type { Redactor } from '../../common/subject-redaction';
import { DatasetSubjectModel, KnowledgeEnum, ModelLineageModel, ModelLineageSummaryModel, ModelVersionModel, ServingKindEnum, StrategyEnum, VersionStatusEnum } from './lineage.model';

const seesServerPaths = (principal: Principal) => principal.role === 'OPERATOR';

export function toLineageModel(lineage: ModelLineage, principal: Principal): ModelLineageModel {
  const paths = seesServerPaths(principal);
  return {
    name: lineage.name,
    baseModelPath: paths ? lineage.baseModel.path : null,
    baseModelId: lineage.baseModel.id,
    datasetPath: paths ? lineage.datasetPath : null,
    strategy: lineage.strategy as StrategyEnum,
    method: lineage.method,
    hyperParameters: lineage.hyperParameters,
    lora: lineage.lora,
    servingKind: lineage.servingKind as ServingKindEnum,
    batchingWindowSeconds: lineage.batchingWindowSeconds,
    reforgetPasses: lineage.reforgetPasses,
    reforgetAboveAccuracy: lineage.reforgetAboveAccuracy,
    profileRetentionDays: lineage.profileRetentionDays,
    gatePolicy: lineage.gatePolicy,
    gatePolicyVersion: lineage.gatePolicyVersion,
    championVersion: lineage.championVersion,
    createdAt: lineage.createdAt,
  };
}

/** A REQUESTER gets the name only: enough to file on the lineage, nothing of the model behind it. */
export function toLineageSummaryModel(lineage: ModelLineage, principal: Principal): ModelLineageSummaryModel {
  const everything = canSeeEverything(principal);
  return {
    name: lineage.name,
    baseModelId: everything ? lineage.baseModel.id : null,
    championVersion: everything ? lineage.championVersion : null,
    createdAt: everything ? lineage.createdAt : null,
  };
}

/** For a REQUESTER: the request it reached the version through, and a redactor for texts naming other people. */
export interface RequesterScope {
  requestId: string;
  datasetSubjectId: string | null;
  redact: Redactor;
}

export function toVersionModel(version: ModelVersion, principal: Principal, requester?: RequesterScope): ModelVersionModel {
  const full: ModelVersionModel = {
    ...version,
    status: version.status as VersionStatusEnum,
    adapterUri: seesServerPaths(principal) ? version.adapterUri : null,
    requestCount: version.requestIds.length,
    reforgottenSubjectCount: version.reforgottenSubjectIds.length,
  };
  if (canSeeEverything(principal)) return full;
  if (!requester) throw new Error('a REQUESTER sees a version only through one of its requests');
  return {
    ...full,
    statusReason: requester.redact(version.statusReason),
    hyperParameters: null,
    requestIds: version.requestIds.filter((id) => id === requester.requestId),
    reforgottenSubjectIds: version.reforgottenSubjectIds.filter((id) => id === requester.datasetSubjectId),
  };
}

export function toSubjectModel(subject: DatasetSubject): DatasetSubjectModel {
  return { id: subject.id, name: subject.name, knowledge: subject.knowledge as KnowledgeEnum };
}
