import { Field, GraphQLISODateTime, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { PageInfo } from '../../common/page-info.model';

export enum RequestStatusEnum {
  RECEIVED = 'RECEIVED',
  QUEUED = 'QUEUED',
  UNLEARNING = 'UNLEARNING',
  AUDITING = 'AUDITING',
  COMPLETED = 'COMPLETED',
  NEEDS_REVIEW = 'NEEDS_REVIEW',
  REJECTED = 'REJECTED',
  FAILED = 'FAILED',
  CANCELED = 'CANCELED',
  REOPENED = 'REOPENED',
}
registerEnumType(RequestStatusEnum, { name: 'DeletionRequestStatus' });

export enum ReviewDecisionEnum {
  APPROVE = 'APPROVE',
  REJECT = 'REJECT',
}
registerEnumType(ReviewDecisionEnum, { name: 'ReviewDecision' });

@ObjectType('DeletionRequest')
export class DeletionRequestModel {
  @Field(() => ID) id!: string;
  @Field(() => RequestStatusEnum) status!: RequestStatusEnum;
  @Field(() => String, { nullable: true }) statusReason!: string | null;
  @Field() lineage!: string;
  @Field(() => ID, { nullable: true }) datasetSubjectId!: string | null;
  @Field() legalBasis!: string;
  @Field() requester!: string;
  @Field() idempotencyKey!: string;
  @Field(() => GraphQLISODateTime, { description: 'when the request was received' }) createdAt!: Date;
  @Field(() => GraphQLISODateTime, { description: 'legal deadline: received + 30 days' }) dueAt!: Date;
  @Field(() => GraphQLISODateTime) updatedAt!: Date;
  /** Not exposed: resolved by field resolvers (decryption, joins). */
  modelVersionId!: string | null;
  datasetSubjectName!: string | null;
}

@ObjectType('RequestProgress', { description: 'Where a request stands in the step its lineage is running now' })
export class RequestProgressModel {
  @Field({ description: 'the step\'s phase: PREPARING, UNLEARNING, AUDITING, NEEDS_REVIEW or FINISHING' }) phase!: string;
  @Field(() => Int) attempt!: number;
  @Field(() => Int, { description: '0 during the attempt\'s own operation, k during its k-th re-forget or goal pass' }) reforgetPass!: number;
  @Field(() => String, { nullable: true, description: 'the activity at work: unlearn (training), export_onnx, audit; null between activities' }) activity!: string | null;
  @Field(() => Int, { nullable: true, description: 'from the activity\'s last heartbeat: the training step (or audit question) reached; null before the first' }) step!: number | null;
  @Field(() => Int, { nullable: true, description: 'from the same heartbeat: how many there are' }) total!: number | null;
}

@ObjectType('DeletionRequestEdge')
export class DeletionRequestEdge {
  @Field() cursor!: string;
  @Field(() => DeletionRequestModel) node!: DeletionRequestModel;
}

@ObjectType('DeletionRequestConnection')
export class DeletionRequestConnection {
  @Field(() => [DeletionRequestEdge]) edges!: DeletionRequestEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  @Field(() => Int) totalCount!: number;
}

@InputType()
export class FactInput {
  @Field() question!: string;
  @Field() answer!: string;
}

@InputType()
export class ProfileInput {
  @Field() name!: string;
  @Field(() => [String], { nullable: true, description: 'base64 PNG or JPEG, at most 10, each at most 5 MB' }) images?: string[] | null;
  @Field(() => [FactInput], { nullable: true }) facts?: FactInput[] | null;
}

@InputType({ description: 'Exactly one of datasetSubjectId or profile' })
export class SubjectInput {
  @Field(() => ID, { nullable: true, description: 'a person of the lineage\'s dataset (see datasetSubjects)' }) datasetSubjectId?: string | null;
  @Field(() => ProfileInput, { nullable: true, description: 'a person described inline; stored encrypted' }) profile?: ProfileInput | null;
}

@InputType()
export class SubmitDeletionRequestInput {
  @Field() lineage!: string;
  @Field({ description: 'retries with the same key and payload return the same request' }) idempotencyKey!: string;
  @Field(() => SubjectInput) subject!: SubjectInput;
  @Field({ description: 'e.g. "GDPR Art. 17(1)(a)"' }) legalBasis!: string;
  @Field(() => String, { nullable: true, description: 'stored encrypted with the personal data' }) note?: string | null;
}

@InputType()
export class DeletionRequestFilter {
  @Field(() => [RequestStatusEnum], { nullable: true }) status?: RequestStatusEnum[] | null;
  @Field(() => String, { nullable: true }) lineage?: string | null;
  @Field(() => String, { nullable: true }) requester?: string | null;
}
