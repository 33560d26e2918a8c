// Handing the champion to an external model server (SERVING and OPERATOR tokens; docs/serving.md):
//   GET /models/:lineage/champion                                   manifest: version, base model, LoRA, adapter sha256 and URLs
//   GET /models/:lineage/versions/:n/adapter.safetensors             the peft weights (also .../adapter_model.safetensors)
//   GET /models/:lineage/versions/:n/adapter_config.json             the peft config beside them (base model named by its id)
// Files carry their sha256 (header Lethe-Adapter-Sha256 for the weights, Repr-Digest for every file).
import { Controller, Get, Param, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppErrorHttpFilter } from '../../audits/api/app-error-http.filter';
import { Roles } from '../../auth/api/auth.decorators';
import { servedByHeaders } from '../domain/chat-response';
import { ServingError } from '../domain/serving-error';
import { AdapterFile, ServingService } from '../serving.service';

/** URL file name -> file of the adapter directory; adapter.safetensors is the short name the clients use. */
const FILES: Record<string, AdapterFile> = {
  'adapter.safetensors': 'adapter_model.safetensors',
  'adapter_model.safetensors': 'adapter_model.safetensors',
  'adapter_config.json': 'adapter_config.json',
};

@Controller('models')
@UseFilters(AppErrorHttpFilter)
export class ChampionController {
  constructor(private readonly serving: ServingService) {}

  @Get(':lineage/champion')
  @Roles('SERVING', 'OPERATOR')
  async champion(@Param('lineage') lineage: string, @Req() request: Request, @Res() response: Response): Promise<void> {
    const manifest = await this.serving.championManifest(lineage, `${request.protocol}://${request.get('host')}`);
    response.set({ ...servedByHeaders(manifest), 'Cache-Control': 'no-store' }).json(manifest);
  }

  @Get(':lineage/versions/:version/:file')
  @Roles('SERVING', 'OPERATOR')
  async adapter(@Param('lineage') lineage: string, @Param('version') version: string, @Param('file') file: string, @Res() response: Response): Promise<void> {
    const adapterFile = FILES[file];
    if (!adapterFile) throw new ServingError('NOT_FOUND', `no file ${JSON.stringify(file)} (${Object.keys(FILES).join(', ')})`, 'file');
    if (!/^\d{1,9}$/.test(version)) throw new ServingError('NOT_FOUND', `no version ${JSON.stringify(version)}`, 'version');
    const found = await this.serving.adapterFile(lineage, Number(version), adapterFile);
    const headers: Record<string, string> = {
      'Repr-Digest': `sha-256=:${Buffer.from(found.sha256, 'hex').toString('base64')}:`,
      'Content-Type': adapterFile.endsWith('.json') ? 'application/json' : 'application/octet-stream',
      'Content-Disposition': `attachment; filename="${adapterFile}"`,
    };
    if (adapterFile === 'adapter_model.safetensors') Object.assign(headers, servedByHeaders(found.servedBy));
    response.set(headers);
    if (found.bytes) response.send(found.bytes);
    else response.sendFile(found.path!, { dotfiles: 'allow' });
  }
}
