// The OpenAI-compatible model API (SERVING and OPERATOR tokens):
//   POST /v1/chat/completions   the lineage named by `model` answers with its champion; stream: true sends SSE chunks
//   GET  /v1/models             every lineage, with the version that answers now
//   GET  /v1/models/:model
// Every answer names the version and adapter sha256 that produced it, in headers and in the body (`lethe`).
import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, Logger, Param, Post, Res, UseFilters } from '@nestjs/common';
import type { Response } from 'express';
import { AppErrorHttpFilter } from '../../audits/api/app-error-http.filter';
import { Roles } from '../../auth/api/auth.decorators';
import { AppError } from '../../common/errors';
import { chunkBody, completionBody, ServedBy, servedByHeaders, usageChunkBody } from '../domain/chat-response';
import { ServingService } from '../serving.service';

function modelEntry(lineage: { name: string; createdAt: Date }, servedBy: ServedBy) {
  return { id: lineage.name, object: 'model', created: Math.floor(lineage.createdAt.getTime() / 1000), owned_by: 'lethe', lethe: servedBy };
}

@Controller('v1')
@UseFilters(AppErrorHttpFilter)
export class ChatController {
  private readonly logger = new Logger('Serving');

  constructor(private readonly serving: ServingService) {}

  @Get('models')
  @Roles('SERVING', 'OPERATOR')
  async models() {
    return { object: 'list', data: (await this.serving.models()).map(({ lineage, servedBy }) => modelEntry(lineage, servedBy)) };
  }

  @Get('models/:model')
  @Roles('SERVING', 'OPERATOR')
  async model(@Param('model') model: string) {
    const { lineage, servedBy } = await this.serving.model(model);
    return modelEntry(lineage, servedBy);
  }

  @Post('chat/completions')
  @Roles('SERVING', 'OPERATOR')
  async completions(@Body() body: unknown, @Res() response: Response): Promise<void> {
    const { request, answer } = await this.serving.prepareChat(body);
    const envelope = { id: `chatcmpl-${randomUUID()}`, created: Math.floor(Date.now() / 1000), servedBy: answer.servedBy, seed: request.seed };
    response.set({ ...servedByHeaders(answer.servedBy), 'Cache-Control': 'no-store' });
    if (!request.stream) {
      response.json(completionBody(envelope, await answer.run(), request.logprobs));
      return;
    }
    response.status(200).set({ 'Content-Type': 'text/event-stream', Connection: 'keep-alive' });
    response.flushHeaders();
    const send = (data: unknown) => response.write(`data: ${JSON.stringify(data)}\n\n`);
    send(chunkBody(envelope, { role: 'assistant', content: '' }));
    try {
      const generation = await answer.run((delta) => send(chunkBody(envelope, { content: delta })));
      send(chunkBody(envelope, {}, generation.finishReason));
      if (request.streamUsage) send(usageChunkBody(envelope, generation));
      response.write('data: [DONE]\n\n');
    } catch (e) {
      // The status line is gone: the error travels as an event, as OpenAI's streams send theirs.
      if (!(e instanceof AppError)) this.logger.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
      const error = e instanceof AppError ? { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) } : { code: 'INTERNAL_SERVER_ERROR', message: 'internal error' };
      send({ error });
    }
    response.end();
  }
}
