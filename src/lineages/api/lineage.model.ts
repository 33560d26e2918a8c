import { Field, Float, GraphQLISODateTime, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { GraphQLJSON } from '../../common/json.scalar';
import { PageInfo } from '../../common/page-info.model';
import { DEFAULT_REFORGET_ABOVE_ACCURACY, DEFAULT_REFORGET_PASSES, MAX_REFORGET_PASSES } from '../domain/lineage';

const REFORGET_ABOVE_DESCRIPTION = 'A re-forget pass takes the forgotten dataset people whose audited accuracy is above this in either modality (PULSE asks for at most 0.4 a person; a lower value also re-forgets people at the edge of it).';
const REFORGET_PASSES_DESCRIPTION = `After a candidate's audit, up to this many more unlearning passes on the forgotten dataset people the audit still finds above reforgetAboveAccuracy in either modality; the last is gated, unless it fails the gate where the one it continues passed. 0: none.`;

export enum StrategyEnum {
  SEQUENTIAL = 'SEQUENTIAL',
  CUMULATIVE = 'CUMULATIVE',
}
registerEnumType(StrategyEnum, { name: 'UnlearningStrategy', description: 'SEQUENTIAL continues the champion adapter; CUMULATIVE retrains from the base on every forget set so far' });

export enum VersionStatusEnum {
  CANDIDATE = 'CANDIDATE',
  PROMOTED = 'PROMOTED',
  REJECTED = 'REJECTED',
  ROLLED_BACK = 'ROLLED_BACK',
  SUPERSEDED = 'SUPERSEDED',
}
registerEnumType(VersionStatusEnum, { name: 'ModelVersionStatus' });

export enum KnowledgeEnum {
  FINETUNED = 'FINETUNED',
  PRETRAINED = 'PRETRAINED',
  NEVER_SEEN = 'NEVER_SEEN',
}
registerEnumType(KnowledgeEnum, {
  name: 'SubjectKnowledge',
  description: 'Whether the model learned the person in fine-tuning or in pre-training, or was never trained on them (NEVER_SEEN: the reference a forgotten person is compared with)',
  valuesMap: {
    FINETUNED: { description: 'learned in fine-tuning' },
    PRETRAINED: { description: 'learned in pre-training' },
    NEVER_SEEN: { description: 'trained on by no phase: the model should answer their questions at chance' },
  },
});

@ObjectType('ModelVersion')
export class ModelVersionModel {
  @Field(() => ID) id!: string;
  @Field() lineage!: string;
  @Field(() => Int) number!: number;
  @Field(() => Int, { nullable: true, description: 'version it was trained from; null for the base and cumulative retrains' }) parentNumber!: number | null;
  @Field(() => VersionStatusEnum) status!: VersionStatusEnum;
  @Field(() => String, { nullable: true }) statusReason!: string | null;
  @Field(() => String, { nullable: true, description: 'null for version 0 (the base model)' }) adapterUri!: string | null;
  @Field(() => String, { nullable: true }) adapterSha256!: string | null;
  @Field(() => String, { nullable: true }) method!: string | null;
  @Field(() => GraphQLJSON, { nullable: true }) hyperParameters!: Record<string, unknown> | null;
  @Field(() => [String], { description: 'dataset subjects that the re-forget passes leading to this version trained on (see ModelLineage.reforgetPasses); empty without re-forgetting' }) reforgottenSubjectIds!: string[];
  @Field(() => [ID]) requestIds!: string[];
  @Field(() => GraphQLISODateTime) createdAt!: Date;
}

@ObjectType('ModelLineage')
export class ModelLineageModel {
  @Field() name!: string;
  @Field() baseModelPath!: string;
  @Field() baseModelId!: string;
  @Field() datasetPath!: string;
  @Field(() => StrategyEnum) strategy!: StrategyEnum;
  @Field() method!: string;
  @Field(() => GraphQLJSON) hyperParameters!: unknown;
  @Field(() => GraphQLJSON) lora!: unknown;
  @Field(() => Int) batchingWindowSeconds!: number;
  @Field(() => Int, { description: REFORGET_PASSES_DESCRIPTION }) reforgetPasses!: number;
  @Field(() => Float, { description: REFORGET_ABOVE_DESCRIPTION }) reforgetAboveAccuracy!: number;
  @Field(() => GraphQLJSON) gatePolicy!: unknown;
  @Field(() => Int) gatePolicyVersion!: number;
  @Field(() => Int, { nullable: true }) championVersion!: number | null;
  @Field(() => GraphQLISODateTime) createdAt!: Date;
}

@ObjectType('DatasetSubject')
export class DatasetSubjectModel {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field(() => KnowledgeEnum) knowledge!: KnowledgeEnum;
}

@ObjectType('DatasetSubjectEdge')
export class DatasetSubjectEdge {
  @Field() cursor!: string;
  @Field(() => DatasetSubjectModel) node!: DatasetSubjectModel;
}

@ObjectType('DatasetSubjectConnection')
export class DatasetSubjectConnection {
  @Field(() => [DatasetSubjectEdge]) edges!: DatasetSubjectEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  @Field(() => Int) totalCount!: number;
}

@InputType()
export class CreateModelLineageInput {
  @Field({ description: 'lowercase letters, digits, ".", "_", "-"' }) name!: string;
  @Field(() => String, { nullable: true, description: 'llava-hf model directory; defaults to LETHE_MODEL_DIR' }) baseModelPath?: string | null;
  @Field(() => String, { nullable: true }) baseModelId?: string | null;
  @Field(() => String, { nullable: true, description: 'dataset directory with lethe/subjects.json; defaults to LETHE_DATASET_DIR' }) datasetPath?: string | null;
  @Field(() => StrategyEnum, { nullable: true }) strategy?: StrategyEnum | null;
  @Field(() => String, { nullable: true, description: 'ga | ga_klr | npo | graddiff' }) method?: string | null;
  @Field(() => GraphQLJSON, { nullable: true, description: '{learningRate, epochs, batchSize, maxSteps?, npoBeta?, klWeight?, retainWeight?, ascentFloor?, ascentObjective? ("logProb" | "logOdds"), klReference? ("start" | "base"), holdForgottenWeight?, generalKlWeight?}, merged over the defaults; generalKlWeight defaults to 1 when the dataset has general training questions (lethe/train/general.jsonl), else it is off' }) hyperParameters?: unknown;
  @Field(() => GraphQLJSON, { nullable: true, description: '{rank, alpha, dropout, targets: "llm" | "projector+llm" | [suffixes]}' }) lora?: unknown;
  @Field(() => Int, { nullable: true }) batchingWindowSeconds?: number | null;
  @Field(() => Int, { nullable: true, description: `${REFORGET_PASSES_DESCRIPTION} Default ${DEFAULT_REFORGET_PASSES}, at most ${MAX_REFORGET_PASSES}.` }) reforgetPasses?: number | null;
  @Field(() => Float, { nullable: true, description: `${REFORGET_ABOVE_DESCRIPTION} Default ${DEFAULT_REFORGET_ABOVE_ACCURACY}, from 0 up to (not including) 1.` }) reforgetAboveAccuracy?: number | null;
  @Field(() => GraphQLJSON, { nullable: true, description: 'gate policy document; omitted fields take the defaults' }) gatePolicy?: unknown;
}
