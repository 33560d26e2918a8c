import { Module } from '@nestjs/common';
import { LineagesModule } from '../lineages/lineages.module';
import { ChampionController } from './api/champion.controller';
import { ChatController } from './api/chat.controller';
import { ServingService } from './serving.service';

/** The champion answers (OpenAI-compatible /v1) and is handed to external model servers (/models). */
@Module({
  imports: [LineagesModule],
  controllers: [ChatController, ChampionController],
  providers: [ServingService],
})
export class ServingModule {}
