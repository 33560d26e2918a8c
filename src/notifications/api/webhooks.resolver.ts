import { Args, ID, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import { CurrentPrincipal, Roles } from '../../auth/api/auth.decorators';
import { actorOf, type Principal } from '../../auth/domain/principal';
import { pageByCreation } from '../../common/pagination';
import type { WebhookEventType } from '../domain/notification-events';
import type { WebhookSubscription } from '../domain/webhook';
import { WebhooksService } from '../webhooks.service';
import type { DeliveryRecord } from '../persistence/webhook.repository';
import { enumOf, eventTypeOf, WebhookConnection, WebhookDeliveryConnection, WebhookDeliveryModel, WebhookDeliveryStatus, WebhookEvent, WebhookModel } from './webhook.model';

function toDeliveryModel(delivery: DeliveryRecord): WebhookDeliveryModel {
  return { ...delivery, event: enumOf(delivery.eventType as WebhookEventType), status: delivery.status as WebhookDeliveryStatus };
}

function toModel(subscription: WebhookSubscription, secret: string | null = null): WebhookModel {
  return { ...subscription, events: subscription.eventTypes.map(enumOf), secret };
}


/** Webhook subscriptions: operators only (a subscription learns of every request's progress). */
@Resolver()
export class WebhooksResolver {
  constructor(private readonly service: WebhooksService) {}

  @Mutation(() => WebhookModel, { description: 'Subscribes a URL to signed CloudEvents; the response carries the signing secret, shown only here' })
  @Roles('OPERATOR')
  async createWebhook(
    @Args('url') url: string,
    @Args('events', { type: () => [WebhookEvent] }) events: WebhookEvent[],
    @CurrentPrincipal() principal: Principal,
    @Args('lineage', { type: () => String, nullable: true, description: 'only this lineage\'s events; omitted: every lineage' }) lineage?: string | null,
  ): Promise<WebhookModel> {
    const { subscription, secret } = await this.service.create({ url, events: events.map(eventTypeOf), lineage }, actorOf(principal));
    return toModel(subscription, secret);
  }

  @Mutation(() => WebhookModel, { description: 'No delivery is attempted after this; the deliveries made stay on record' })
  @Roles('OPERATOR')
  async deleteWebhook(@Args('id', { type: () => ID }) id: string, @CurrentPrincipal() principal: Principal): Promise<WebhookModel> {
    return toModel(await this.service.delete(id, actorOf(principal)));
  }

  @Query(() => WebhookConnection, { description: 'The live webhook subscriptions, oldest first (never their secrets)' })
  @Roles('OPERATOR')
  async webhooks(
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { type: () => String, nullable: true }) after?: string,
  ): Promise<WebhookConnection> {
    return pageByCreation(first, after, (limit, position) => this.service.list(limit, position), () => this.service.count(), (s) => toModel(s));
  }

  @Query(() => WebhookDeliveryConnection, { description: 'A webhook\'s deliveries, oldest first, with the outcome of their attempts (a deleted webhook\'s too)' })
  @Roles('OPERATOR')
  async webhookDeliveries(
    @Args('webhookId', { type: () => ID }) webhookId: string,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { type: () => String, nullable: true }) after?: string,
  ): Promise<WebhookDeliveryConnection> {
    const deliveries = await this.service.deliveriesOf(webhookId);
    return pageByCreation(first, after, deliveries.list, deliveries.count, toDeliveryModel);
  }
}
