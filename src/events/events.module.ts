import { Global, Module } from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import { StorableTextPipe } from './api/storable-text.pipe';
import { chainKeyProvider } from './chain-key';
import { EventLog } from './event-log.service';
import { EventLogRepository } from './persistence/event-log.repository';

@Global()
@Module({ providers: [chainKeyProvider, EventLogRepository, EventLog, { provide: APP_PIPE, useClass: StorableTextPipe }], exports: [EventLog] })
export class EventsModule {}
