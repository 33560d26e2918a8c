// What the API needs from the orchestration: the RequestQueue port, implemented on Temporal.
import { Module } from '@nestjs/common';
import type { Client } from '@temporalio/client';
import { REQUEST_QUEUE } from '../requests/domain/request-queue.port';
import { TEMPORAL_CLIENT, TemporalModule } from '../temporal/temporal.module';
import { TemporalRequestQueue } from './temporal-request-queue';

@Module({
  imports: [TemporalModule],
  providers: [
    {
      provide: REQUEST_QUEUE,
      inject: [TEMPORAL_CLIENT],
      useFactory: (client: Client) => new TemporalRequestQueue(client),
    },
  ],
  exports: [REQUEST_QUEUE],
})
export class OrchestrationModule {}
