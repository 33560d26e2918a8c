import { Field, GraphQLISODateTime, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { connectionOf, type Connection } from '../../common/page-info.model';
import type { WebhookEventType } from '../domain/notification-events';

/** The CloudEvents types as GraphQL enum values: lethe.request.needs_review is REQUEST_NEEDS_REVIEW. */
export enum WebhookEvent {
  REQUEST_COMPLETED = 'REQUEST_COMPLETED',
  REQUEST_NEEDS_REVIEW = 'REQUEST_NEEDS_REVIEW',
  REQUEST_FAILED = 'REQUEST_FAILED',
  REQUEST_REOPENED = 'REQUEST_REOPENED',
  REQUEST_DUE_SOON = 'REQUEST_DUE_SOON',
  REQUEST_OVERDUE = 'REQUEST_OVERDUE',
  VERSION_PROMOTED = 'VERSION_PROMOTED',
  VERSION_ROLLED_BACK = 'VERSION_ROLLED_BACK',
}
registerEnumType(WebhookEvent, { name: 'WebhookEvent', description: 'An event a webhook subscribes to; its CloudEvents type is lethe.<first word>.<rest>, e.g. REQUEST_NEEDS_REVIEW is lethe.request.needs_review' });

export function eventTypeOf(event: WebhookEvent): WebhookEventType {
  return `lethe.${event.toLowerCase().replace('_', '.')}` as WebhookEventType;
}

export function enumOf(type: WebhookEventType): WebhookEvent {
  return type.slice('lethe.'.length).replace('.', '_').toUpperCase() as WebhookEvent;
}

@ObjectType('Webhook')
export class WebhookModel {
  @Field(() => ID) id!: string;
  @Field() url!: string;
  @Field(() => [WebhookEvent]) events!: WebhookEvent[];
  @Field(() => String, { nullable: true, description: 'only this lineage\'s events; null: every lineage' }) lineage!: string | null;
  @Field(() => String, { nullable: true, description: 'The signing secret: only in createWebhook\'s response (it is stored encrypted), null elsewhere. See docs/webhooks.md.' }) secret!: string | null;
  @Field() createdBy!: string;
  @Field(() => GraphQLISODateTime) createdAt!: Date;
  @Field(() => GraphQLISODateTime, { nullable: true }) deletedAt!: Date | null;
}

export enum WebhookDeliveryStatus {
  PENDING = 'PENDING',
  DELIVERED = 'DELIVERED',
  FAILED = 'FAILED',
}
registerEnumType(WebhookDeliveryStatus, { name: 'WebhookDeliveryStatus', description: 'PENDING: being attempted; DELIVERED: the receiver answered 2xx; FAILED: given up after the last attempt' });

@ObjectType('WebhookDelivery', { description: 'One event to one webhook, and how its attempts went' })
export class WebhookDeliveryModel {
  @Field(() => ID) id!: string;
  @Field({ description: 'the CloudEvent id (the same on every attempt)' }) eventId!: string;
  @Field(() => WebhookEvent) event!: WebhookEvent;
  @Field(() => WebhookDeliveryStatus) status!: WebhookDeliveryStatus;
  @Field(() => String, { nullable: true }) statusReason!: string | null;
  @Field(() => GraphQLISODateTime) createdAt!: Date;
  @Field(() => GraphQLISODateTime, { nullable: true }) finishedAt!: Date | null;
  @Field(() => Int) attempts!: number;
  @Field(() => GraphQLISODateTime, { nullable: true }) lastAttemptAt!: Date | null;
  @Field(() => Int, { nullable: true, description: 'the HTTP status of the last attempt; null when it got no answer' }) lastStatusCode!: number | null;
  @Field(() => String, { nullable: true }) lastError!: string | null;
}

export const WebhookDeliveryConnection = connectionOf(WebhookDeliveryModel, 'WebhookDelivery');
export type WebhookDeliveryConnection = Connection<WebhookDeliveryModel>;

export const WebhookConnection = connectionOf(WebhookModel, 'Webhook');
export type WebhookConnection = Connection<WebhookModel>;
