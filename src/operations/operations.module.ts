import { Module } from '@nestjs/common';
import { HealthController } from './api/health.controller';
import { MetricsController } from './api/metrics.controller';
import { PrometheusMetrics } from './api/prometheus-metrics';
import { OperationsService } from './operations.service';
import { OperationsRepository } from './persistence/operations.repository';

/**
 * Running the service: /healthz and /readyz (unauthenticated probes) and /metrics (Prometheus,
 * OPERATOR or AUDITOR), every figure read from the database at scrape time.
 */
@Module({
  controllers: [HealthController, MetricsController],
  providers: [OperationsRepository, OperationsService, PrometheusMetrics],
})
export class OperationsModule {}
