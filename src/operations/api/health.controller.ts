import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Public } from '../../auth/api/auth.decorators';
import { DependencyState, OperationsService } from '../operations.service';

/** Probes for orchestrators: no authentication, and nothing beyond ok / not ready per dependency. */
@Controller()
export class HealthController {
  constructor(private readonly operations: OperationsService) {}

  /** Liveness plus a database round trip. */
  @Get('healthz')
  @Public()
  async health(): Promise<{ status: 'ok' }> {
    await this.operations.databaseRoundTrip();
    return { status: 'ok' };
  }

  /** Ready to serve: the database answers and Temporal is reachable; else 503 naming what is not. */
  @Get('readyz')
  @Public()
  async ready(@Res({ passthrough: true }) res: Response): Promise<{ status: 'ok' | 'not ready'; database: DependencyState; temporal: DependencyState }> {
    const readiness = await this.operations.readiness();
    res.status(readiness.ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: readiness.ready ? 'ok' : 'not ready', database: readiness.database, temporal: readiness.temporal };
  }
}
