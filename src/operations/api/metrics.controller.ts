import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Roles } from '../../auth/api/auth.decorators';
import { PrometheusMetrics } from './prometheus-metrics';

/**
 * Prometheus text format. For OPERATOR and AUDITOR tokens (a scraper is given an AUDITOR token:
 * read-only); the figures carry no personal data, only lineage names, statuses and counts.
 */
@Controller()
export class MetricsController {
  constructor(private readonly metrics: PrometheusMetrics) {}

  @Get('metrics')
  @Roles('OPERATOR', 'AUDITOR')
  async scrape(@Res({ passthrough: true }) res: Response): Promise<string> {
    const text = await this.metrics.text();
    res.type(this.metrics.contentType);
    return text;
  }
}
