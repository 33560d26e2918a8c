import { Field, Float, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';

export enum GateDecisionEnum {
  PASS = 'PASS',
  FAIL = 'FAIL',
  REVIEW = 'REVIEW',
}
registerEnumType(GateDecisionEnum, {
  name: 'GateDecision',
  description: 'The promotion gate\'s verdict on an audited model version',
  valuesMap: {
    PASS: { description: 'every gate check passed: the version is promoted' },
    FAIL: { description: 'a gate check failed: another attempt follows while the retry budget lasts, else the request fails' },
    REVIEW: { description: 'the gate cannot decide (missing numbers, a failed audit, no valid policy): a person approves or rejects' },
  },
});

@ObjectType('ModalityAccuracy', { description: 'Accuracy (0..1) per modality; null when the set had no questions' })
export class ModalityAccuracyModel {
  @Field(() => Float, { nullable: true, description: 'with the person\'s image' }) multimodal!: number | null;
  @Field(() => Float, { nullable: true, description: 'text-only, naming the person' }) text!: number | null;
}

@ObjectType('AuditBaseline', { description: 'Version 0 (the base model) on the same sets' })
export class AuditBaselineModel {
  @Field(() => ModalityAccuracyModel) forget!: ModalityAccuracyModel;
  @Field(() => ModalityAccuracyModel) cumulativeForget!: ModalityAccuracyModel;
  @Field(() => ModalityAccuracyModel) retain!: ModalityAccuracyModel;
  @Field(() => Float, { nullable: true }) general!: number | null;
}

@ObjectType('AuditReport', { description: 'The PULSE audit of the version that carried out (or last attempted) a deletion request' })
export class AuditReportModel {
  @Field(() => ID) requestId!: string;
  @Field() lineage!: string;
  @Field(() => Int) versionNumber!: number;
  @Field(() => Int) attempt!: number;
  @Field(() => GateDecisionEnum) decision!: GateDecisionEnum;
  @Field(() => [String]) reasons!: string[];
  @Field(() => ModalityAccuracyModel, { description: 'this request\'s subjects (lower is better)' }) forget!: ModalityAccuracyModel;
  @Field(() => ModalityAccuracyModel, { description: 'every subject the lineage ever forgot, still forgotten' }) cumulativeForget!: ModalityAccuracyModel;
  @Field(() => ModalityAccuracyModel, { description: 'people not forgotten (higher is better)' }) retain!: ModalityAccuracyModel;
  @Field(() => Float, { nullable: true, description: 'the MMBench-layout general set' }) general!: number | null;
  @Field(() => AuditBaselineModel, { nullable: true }) baseline!: AuditBaselineModel | null;
  @Field(() => Int, { nullable: true, description: 'revision of the gate policy the decision applied' }) gatePolicyVersion!: number | null;
  @Field({ description: 'the compliance report for people (bearer auth)' }) htmlUrl!: string;
  @Field({ description: 'the same report as JSON (bearer auth)' }) jsonUrl!: string;
}
