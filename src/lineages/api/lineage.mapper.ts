import { DatasetSubject, ModelLineage, ModelVersion } from '../domain/lineage';
import { DatasetSubjectModel, KnowledgeEnum, ModelLineageModel, ModelVersionModel, StrategyEnum, VersionStatusEnum } from './lineage.model';

export function toLineageModel(lineage: ModelLineage): ModelLineageModel {
  return {
    name: lineage.name,
    baseModelPath: lineage.baseModel.path,
    baseModelId: lineage.baseModel.id,
    datasetPath: lineage.datasetPath,
    strategy: lineage.strategy as StrategyEnum,
    method: lineage.method,
    hyperParameters: lineage.hyperParameters,
    lora: lineage.lora,
    batchingWindowSeconds: lineage.batchingWindowSeconds,
    reforgetPasses: lineage.reforgetPasses,
    reforgetAboveAccuracy: lineage.reforgetAboveAccuracy,
    gatePolicy: lineage.gatePolicy,
    gatePolicyVersion: lineage.gatePolicyVersion,
    championVersion: lineage.championVersion,
    createdAt: lineage.createdAt,
  };
}

export function toVersionModel(version: ModelVersion): ModelVersionModel {
  return { ...version, status: version.status as VersionStatusEnum };
}

export function toSubjectModel(subject: DatasetSubject): DatasetSubjectModel {
  return { id: subject.id, name: subject.name, knowledge: subject.knowledge as KnowledgeEnum };
}
