import { Controller, Get } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Public } from './auth/api/auth.decorators';

@Controller()
export class HealthController {
  constructor(private readonly dataSource: DataSource) {}

  /** Liveness plus a database round trip; no authentication, no details beyond ok. */
  @Get('healthz')
  @Public()
  async health(): Promise<{ status: 'ok' }> {
    await this.dataSource.query('SELECT 1');
    return { status: 'ok' };
  }
}
