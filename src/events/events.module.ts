import { Global, Module } from '@nestjs/common';
import { EventsResolver } from './api/events.resolver';
import { EventLog } from './event-log.service';
import { EventLogRepository } from './persistence/event-log.repository';

@Global()
@Module({ providers: [EventLogRepository, EventLog, EventsResolver], exports: [EventLog] })
export class EventsModule {}
