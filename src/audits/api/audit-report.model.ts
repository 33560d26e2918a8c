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

@ObjectType('ModalityValue', { description: 'A number per modality; null when it could not be measured (no questions, no never-seen people, or an audit recorded before it was measured)' })
export class ModalityValueModel {
  @Field(() => Float, { nullable: true, description: 'with the person\'s image' }) multimodal!: number | null;
  @Field(() => Float, { nullable: true, description: 'text-only, naming the person' }) text!: number | null;
}

@ObjectType('ModalityShares', { description: 'Four shares per modality (the right answer as the model\'s 1st, 2nd, 3rd, 4th choice); null when not measured' })
export class ModalitySharesModel {
  @Field(() => [Float], { nullable: true }) multimodal!: number[] | null;
  @Field(() => [Float], { nullable: true }) text!: number[] | null;
}

@ObjectType('ModalityFlag', { description: 'A finding per modality; null when it could not be decided' })
export class ModalityFlagModel {
  @Field(() => Boolean, { nullable: true }) multimodal!: boolean | null;
  @Field(() => Boolean, { nullable: true }) text!: boolean | null;
}

@ObjectType('AuditBaseline', { description: 'Version 0 (the base model) on the same sets' })
export class AuditBaselineModel {
  @Field(() => ModalityAccuracyModel) forget!: ModalityAccuracyModel;
  @Field(() => ModalityAccuracyModel) cumulativeForget!: ModalityAccuracyModel;
  @Field(() => ModalityAccuracyModel) retain!: ModalityAccuracyModel;
  @Field(() => Float, { nullable: true }) general!: number | null;
}

@ObjectType('PromptFormatForgetting', { description: 'This request\'s people asked in one prompt format: the gate checks every format and takes the worst' })
export class PromptFormatForgettingModel {
  @Field({ description: 'mmbench: the wording every training and unlearning example uses; others (mllmu: MLLMU-Bench\'s) no unlearning example uses' }) format!: string;
  @Field(() => ModalityAccuracyModel) forget!: ModalityAccuracyModel;
  @Field(() => ModalityValueModel, { description: 'KS p-value against never-seen people asked the same way' }) forgetQuality!: ModalityValueModel;
  @Field(() => ModalityValueModel, { description: 'the loss attack\'s AUC against never-seen people asked the same way' }) miaAuc!: ModalityValueModel;
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
  @Field(() => ModalityValueModel, {
    description: 'this request\'s people against never-seen people on the same version: the KS p-value of the probability of the right option (TOFU\'s forget quality; 1 = indistinguishable)',
  })
  forgetQuality!: ModalityValueModel;
  @Field(() => ModalityValueModel, {
    description: 'AUC of a loss attack (score = -log pRight) telling this request\'s questions from never-seen people\'s: 0.5 = indistinguishable, above = still known, below = the deletion shows',
  })
  miaAuc!: ModalityValueModel;
  @Field(() => ModalitySharesModel, { description: 'shares of this request\'s questions whose right answer was the model\'s 1st, 2nd, 3rd, 4th choice (0.25 each when nothing is left)' })
  rankShares!: ModalitySharesModel;
  @Field(() => ModalityFlagModel, { description: 'this request\'s accuracy is significantly below chance (binomial, at the policy\'s significance): answering reliably wrong reveals the deletion' })
  belowChance!: ModalityFlagModel;
  @Field(() => [PromptFormatForgettingModel], { description: 'forget, forgetQuality and miaAuc in each prompt format the audit asked, the default first; empty for audits recorded before formats were asked' })
  promptFormats!: PromptFormatForgettingModel[];
  @Field(() => ModalityAccuracyModel, { description: 'version 0\'s accuracy on this request\'s questions: what there was to forget' })
  knowledgeBefore!: ModalityAccuracyModel;
  @Field(() => Boolean, { description: 'version 0 answered this request\'s people like people it never saw (every forgetting rule passes on version 0)' })
  noKnowledgeFound!: boolean;
  @Field(() => AuditBaselineModel, { nullable: true }) baseline!: AuditBaselineModel | null;
  @Field(() => Int, { nullable: true, description: 'revision of the gate policy the decision applied' }) gatePolicyVersion!: number | null;
  @Field({ description: 'the compliance report for people (bearer auth)' }) htmlUrl!: string;
  @Field({ description: 'the same report as JSON (bearer auth)' }) jsonUrl!: string;
}
