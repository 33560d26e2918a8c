// The TypeScript worker side of the orchestration: the lineage workflows and the bookkeeping
// activities on queue `control`, the audit activity (src/audits) on queue `audit`. Workers start
// when the application starts and drain before its connections close.
import { BeforeApplicationShutdown, Inject, Logger, Module, OnApplicationBootstrap } from '@nestjs/common';
import { NativeConnection } from '@temporalio/worker';
import { createRuntimeAuditActivities } from '../audits/application/runtime-audit-activities';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { LineagesModule } from '../lineages/lineages.module';
import { LineagesService } from '../lineages/lineages.service';
import { ModelVersionsService } from '../lineages/model-versions.service';
import { ForgetSets } from '../requests/forget-sets.service';
import { DeletionRequestRepository } from '../requests/persistence/deletion-request.repository';
import { RequestLifecycle } from '../requests/request-lifecycle.service';
import { TEMPORAL_ENDPOINT, TemporalModule } from '../temporal/temporal.module';
import type { TemporalEndpoint } from '../temporal/temporal-endpoint';
import { RunningWorkers } from '../temporal/workers';
import { AUDIT_TASK_QUEUE, CONTROL_TASK_QUEUE, type ControlActivities } from './activity-types';
import { createControlActivities } from './control-activities';
import { loadOrchestrationSettings } from './orchestration-settings';
import { LINEAGE_WORKFLOWS_PATH } from './workflows-path';

export const CONTROL_ACTIVITIES = Symbol('CONTROL_ACTIVITIES');

@Module({
  imports: [TemporalModule, LineagesModule],
  providers: [
    {
      provide: CONTROL_ACTIVITIES,
      inject: [APP_CONFIG, LineagesService, ModelVersionsService, RequestLifecycle, DeletionRequestRepository, ForgetSets],
      useFactory: (
        config: AppConfig,
        lineages: LineagesService,
        versions: ModelVersionsService,
        lifecycle: RequestLifecycle,
        requests: DeletionRequestRepository,
        forgetSets: ForgetSets,
      ): ControlActivities => {
        const logger = new Logger('ControlActivities');
        return createControlActivities({
          lineages, versions, lifecycle, requests, forgetSets,
          artifactsDir: config.artifactsDir,
          ...loadOrchestrationSettings(),
          log: (message) => logger.log(message),
        });
      },
    },
  ],
  exports: [CONTROL_ACTIVITIES],
})
export class OrchestrationWorkerModule implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('TemporalWorkers');
  private connection: NativeConnection | null = null;
  private workers: RunningWorkers | null = null;

  constructor(
    @Inject(TEMPORAL_ENDPOINT) private readonly endpoint: TemporalEndpoint,
    @Inject(CONTROL_ACTIVITIES) private readonly controlActivities: ControlActivities,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.connection = await NativeConnection.connect({ address: this.endpoint.address });
    const auditLogger = new Logger('Audit');
    this.workers = await RunningWorkers.start(this.connection, this.endpoint.namespace, [
      { taskQueue: CONTROL_TASK_QUEUE, workflowsPath: LINEAGE_WORKFLOWS_PATH, activities: this.controlActivities },
      // One audit at a time: it holds the ONNX graphs in memory and uses every core.
      { taskQueue: AUDIT_TASK_QUEUE, activities: createRuntimeAuditActivities({ executionProvider: loadOrchestrationSettings().auditExecutionProvider, log: (m) => auditLogger.log(m) }), maxConcurrentActivityTaskExecutions: 1 },
    ]);
    this.workers.done().catch((err) => this.logger.error(`a Temporal worker stopped: ${(err as Error).message}`));
    this.logger.log(`workers polling ${CONTROL_TASK_QUEUE} and ${AUDIT_TASK_QUEUE} on ${this.endpoint.address}`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.workers?.shutdown();
    await this.connection?.close();
  }
}
