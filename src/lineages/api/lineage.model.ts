import { Field, Float, GraphQLISODateTime, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { GraphQLJSON } from '../../common/json.scalar';
import { PageInfo } from '../../common/page-info.model';
import { LOADABLE_TARGETS } from '../domain/serving-kind';
import { DEFAULT_LORA, DEFAULT_METHOD, DEFAULT_PROFILE_RETENTION_DAYS, DEFAULT_REFORGET_ABOVE_ACCURACY, DEFAULT_REFORGET_PASSES, DEFAULT_SERVING_KIND, EXPERIMENTAL_KNOBS, MAX_PROFILE_RETENTION_DAYS, MAX_REFORGET_PASSES, UNLEARNING_DEFAULTS } from '../domain/lineage';

const REFORGET_ABOVE_DESCRIPTION = 'A re-forget pass takes the forgotten dataset people whose audited accuracy is above this in either modality (PULSE asks for at most 0.4 a person; a lower value also re-forgets people at the edge of it).';
const PROFILE_RETENTION_DESCRIPTION = 'Days a completed inline profile stays encrypted on a SEQUENTIAL lineage so that a rollback past its version can unlearn the person again; when they end it is purged (an event in the chain) and such a rollback is refused. 0: purged at completion.';
const REFORGET_PASSES_DESCRIPTION = `After a candidate's audit, up to this many more unlearning passes on the forgotten dataset people the audit still finds above reforgetAboveAccuracy in either modality; the last is gated, unless it fails the gate where the one it continues passed. 0: none.`;

export enum StrategyEnum {
  SEQUENTIAL = 'SEQUENTIAL',
  CUMULATIVE = 'CUMULATIVE',
}
registerEnumType(StrategyEnum, { name: 'UnlearningStrategy', description: 'SEQUENTIAL continues the champion adapter; CUMULATIVE retrains from the base on every forget set so far' });

export enum ServingKindEnum {
  ONNX_RUNTIME = 'ONNX_RUNTIME',
  VLLM = 'VLLM',
  TRANSFORMERS = 'TRANSFORMERS',
}
const SERVING_KIND_DESCRIPTION = 'The model server the lineage\'s adapters are made for, which bounds the LoRA targets: ' +
  Object.entries(LOADABLE_TARGETS).map(([kind, targets]) => `${kind} loads ${targets.join(' or ')}`).join('; ') +
  '. ONNX_RUNTIME is the service\'s own /v1/chat/completions (docs/serving.md).';
registerEnumType(ServingKindEnum, { name: 'ServingKind', description: SERVING_KIND_DESCRIPTION });

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
export enum UnlearnMethodEnum {
  ga = 'ga',
  ga_klr = 'ga_klr',
  npo = 'npo',
  graddiff = 'graddiff',
  neverseen_kd = 'neverseen_kd',
}
registerEnumType(UnlearnMethodEnum, { name: 'UnlearningMethod', description: 'ga: gradient ascent; ga_klr: gradient ascent with a KL to the model on the retained people; npo: negative preference optimisation; graddiff: gradient difference; neverseen_kd: the forgotten person answered as the starting model answers the same questions about a never-seen person (KL to that teacher), with a KL to the model on the retained people' });

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
  @Field(() => String, { nullable: true, description: 'a REQUESTER sees other people of the dataset replaced by "[another person]"' }) statusReason!: string | null;
  @Field(() => String, { nullable: true, description: 'server path: OPERATORs only (null for other roles and for version 0, the base model)' }) adapterUri!: string | null;
  @Field(() => String, { nullable: true }) adapterSha256!: string | null;
  @Field(() => String, { nullable: true }) method!: string | null;
  @Field(() => GraphQLJSON, { nullable: true, description: 'null for a REQUESTER' }) hyperParameters!: Record<string, unknown> | null;
  @Field(() => [String], { description: 'dataset subjects that the re-forget passes leading to this version trained on (see ModelLineage.reforgetPasses); empty without re-forgetting. A REQUESTER sees only its own person among them' }) reforgottenSubjectIds!: string[];
  @Field(() => Int, { description: 'how many dataset subjects the re-forget passes leading to this version trained on' }) reforgottenSubjectCount!: number;
  @Field(() => [ID], { description: 'the requests this version carried out; a REQUESTER sees only the request it reached the version through' }) requestIds!: string[];
  @Field(() => Int, { description: 'how many requests this version carried out' }) requestCount!: number;
  @Field(() => GraphQLISODateTime) createdAt!: Date;
}

@ObjectType('ModelLineage')
export class ModelLineageModel {
  @Field() name!: string;
  @Field(() => String, { nullable: true, description: 'server path: OPERATORs only (null for other roles)' }) baseModelPath!: string | null;
  @Field() baseModelId!: string;
  @Field(() => String, { nullable: true, description: 'server path: OPERATORs only (null for other roles)' }) datasetPath!: string | null;
  @Field(() => StrategyEnum) strategy!: StrategyEnum;
  @Field() method!: string;
  @Field(() => GraphQLJSON) hyperParameters!: unknown;
  @Field(() => GraphQLJSON) lora!: unknown;
  @Field(() => ServingKindEnum) servingKind!: ServingKindEnum;
  @Field(() => Int) batchingWindowSeconds!: number;
  @Field(() => Int, { description: REFORGET_PASSES_DESCRIPTION }) reforgetPasses!: number;
  @Field(() => Float, { description: REFORGET_ABOVE_DESCRIPTION }) reforgetAboveAccuracy!: number;
  @Field(() => Int, { description: PROFILE_RETENTION_DESCRIPTION }) profileRetentionDays!: number;
  @Field(() => GraphQLJSON) gatePolicy!: unknown;
  @Field(() => Int) gatePolicyVersion!: number;
  @Field(() => Int, { nullable: true }) championVersion!: number | null;
  @Field(() => GraphQLISODateTime) createdAt!: Date;
}

@ObjectType('ModelLineageSummary', { description: 'A lineage in the list; open it with modelLineage (AUDITORs, OPERATORs) for the rest' })
export class ModelLineageSummaryModel {
  @Field() name!: string;
  @Field(() => String, { nullable: true, description: 'null for a REQUESTER' }) baseModelId!: string | null;
  @Field(() => Int, { nullable: true, description: 'null for a REQUESTER' }) championVersion!: number | null;
  @Field(() => GraphQLISODateTime, { nullable: true, description: 'null for a REQUESTER' }) createdAt!: Date | null;
}

@ObjectType()
export class ModelLineageSummaryEdge {
  @Field() cursor!: string;
  @Field(() => ModelLineageSummaryModel) node!: ModelLineageSummaryModel;
}

@ObjectType()
export class ModelLineageSummaryConnection {
  @Field(() => [ModelLineageSummaryEdge]) edges!: ModelLineageSummaryEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  @Field(() => Int) totalCount!: number;
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

const MAX = UNLEARNING_DEFAULTS.maxima;

@InputType({ description: `Merged over the chosen method's defaults (contracts/unlearning-defaults.json); the default method ${DEFAULT_METHOD} uses ${JSON.stringify(UNLEARNING_DEFAULTS.methods[DEFAULT_METHOD])}` })
export class HyperParametersInput {
  @Field(() => Float, { nullable: true, description: `above 0, at most ${MAX.hyperParameters.learningRate}` }) learningRate?: number | null;
  @Field(() => Int, { nullable: true, description: `1 to ${MAX.hyperParameters.epochs}` }) epochs?: number | null;
  @Field(() => Int, { nullable: true, description: `1 to ${MAX.hyperParameters.batchSize}` }) batchSize?: number | null;
  @Field(() => Float, { nullable: true, description: `npo: the preference temperature; above 0, at most ${MAX.hyperParameters.npoBeta}` }) npoBeta?: number | null;
  @Field(() => Float, { nullable: true, description: `ga_klr, neverseen_kd: weight of the KL on the retained people; 0 to ${MAX.hyperParameters.klWeight}` }) klWeight?: number | null;
  @Field(() => Float, { nullable: true, description: `graddiff: weight of the retain loss; 0 to ${MAX.hyperParameters.retainWeight}` }) retainWeight?: number | null;
  @Field(() => Float, { nullable: true, description: 'probability below which a forget token is no longer ascended (ga, ga_klr, graddiff); from 0 up to (not including) 1; 0 = plain gradient ascent' }) ascentFloor?: number | null;
  @Field(() => Float, { nullable: true, description: `weight of a KL that holds the people of earlier requests where the version that forgot them had them; 0 (off) to ${MAX.hyperParameters.holdForgottenWeight}` }) holdForgottenWeight?: number | null;
  @Field(() => Float, { nullable: true, description: `weight of a KL to version 0 on the dataset's general training questions (lethe/train/general.jsonl); 0 (off) to ${MAX.hyperParameters.generalKlWeight}; defaults to ${UNLEARNING_DEFAULTS.generalKlWeightWithGeneralQuestions} when the dataset has them, else off` }) generalKlWeight?: number | null;
}

@InputType({ description: `LoRA adapter settings, merged over ${JSON.stringify(DEFAULT_LORA)}` })
export class LoraInput {
  @Field(() => Int, { nullable: true, description: `1 to ${MAX.lora.rank}` }) rank?: number | null;
  @Field(() => Float, { nullable: true, description: `above 0, at most ${MAX.lora.alpha}` }) alpha?: number | null;
  @Field(() => Float, { nullable: true, description: `0 to ${MAX.lora.dropout}` }) dropout?: number | null;
  @Field(() => String, { nullable: true, description: 'the modules that get adapters: "llm" (the language model) or "projector+llm" (also the vision projector)' }) targets?: string | null;
}

@InputType()
export class CreateModelLineageInput {
  @Field({ description: 'lowercase letters, digits, ".", "_", "-"' }) name!: string;
  @Field(() => String, { nullable: true, description: 'llava-hf model directory; defaults to LETHE_MODEL_DIR' }) baseModelPath?: string | null;
  @Field(() => String, { nullable: true }) baseModelId?: string | null;
  @Field(() => String, { nullable: true, description: 'dataset directory with lethe/subjects.json; defaults to LETHE_DATASET_DIR' }) datasetPath?: string | null;
  @Field(() => StrategyEnum, { nullable: true }) strategy?: StrategyEnum | null;
  @Field(() => UnlearnMethodEnum, { nullable: true, description: `default ${DEFAULT_METHOD}` }) method?: UnlearnMethodEnum | null;
  @Field(() => HyperParametersInput, { nullable: true }) hyperParameters?: HyperParametersInput | null;
  @Field(() => LoraInput, { nullable: true }) lora?: LoraInput | null;
  @Field(() => ServingKindEnum, { nullable: true, description: `default ${DEFAULT_SERVING_KIND}; a lineage whose lora.targets it cannot load is refused` }) servingKind?: ServingKindEnum | null;
  @Field(() => GraphQLJSON, { nullable: true, description: `UNSUPPORTED research knobs for benchmarks, merged into the hyper-parameters: {${EXPERIMENTAL_KNOBS.join(', ')}}. They may change or go without notice; production lineages leave this out.` }) experimental?: unknown;
  @Field(() => Int, { nullable: true }) batchingWindowSeconds?: number | null;
  @Field(() => Int, { nullable: true, description: `${REFORGET_PASSES_DESCRIPTION} Default ${DEFAULT_REFORGET_PASSES}, at most ${MAX_REFORGET_PASSES}.` }) reforgetPasses?: number | null;
  @Field(() => Float, { nullable: true, description: `${REFORGET_ABOVE_DESCRIPTION} Default ${DEFAULT_REFORGET_ABOVE_ACCURACY}, from 0 up to (not including) 1.` }) reforgetAboveAccuracy?: number | null;
  @Field(() => Int, { nullable: true, description: `${PROFILE_RETENTION_DESCRIPTION} Default ${DEFAULT_PROFILE_RETENTION_DAYS}, at most ${MAX_PROFILE_RETENTION_DAYS}.` }) profileRetentionDays?: number | null;
  @Field(() => GraphQLJSON, { nullable: true, description: 'gate policy document; omitted fields take the defaults' }) gatePolicy?: unknown;
}
