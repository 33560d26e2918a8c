// The TypeScript worker side of the orchestration: the lineage and notification workflows and the
// bookkeeping and webhook-delivery activities on queue `control`, the audit activity (src/audits) on queue `audit`. At start it
// sweeps forget-set files no running step owns (a crash's leftovers), then the workers start; they
// drain before the application's connections close.
import { BeforeApplicationShutdown, Inject, Logger, Module, OnApplicationBootstrap } from '@nestjs/common';
import type { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createRuntimeAuditActivities } from '../audits/application/runtime-audit-activities';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { LineagesService } from '../lineages/lineages.service';
import { ModelVersionsService } from '../lineages/model-versions.service';
import { ForgetSets } from '../requests/forget-sets.service';
import { RequestLifecycle } from '../requests/request-lifecycle.service';
import { RequestOutcomes } from '../requests/request-outcomes.service';
import { RequestsModule } from '../requests/requests.module';
import { RequestDeadlines } from '../requests/request-deadlines.service';
import { createNotificationActivities } from '../notifications/notification-activities';
import { NotificationsModule } from '../notifications/notifications.module';
import { WebhookDeliveries } from '../notifications/webhook-delivery.service';
import { Retention } from '../requests/retention.service';
import { TEMPORAL_CLIENT, TEMPORAL_ENDPOINT, TemporalModule } from '../temporal/temporal.module';
import type { TemporalEndpoint } from '../temporal/temporal-endpoint';
import { RunningWorkers } from '../temporal/workers';
import { AUDIT_TASK_QUEUE, CONTROL_TASK_QUEUE } from './activity-types';
import { createControlActivities, createControlPlane } from './control-activities';
import { loadOrchestrationSettings } from './orchestration-settings';
import { OrchestrationModule } from './orchestration.module';
import { TemporalGpuPresence } from './temporal-gpu-presence';
import { LINEAGE_WORKFLOWS_PATH } from './workflows-path';

export const CONTROL_PLANE = Symbol('CONTROL_PLANE');
type ControlPlane = ReturnType<typeof createControlPlane>;

@Module({
  imports: [TemporalModule, RequestsModule.withQueue(OrchestrationModule, { queueStoredRequests: false, sweepRetention: false }), NotificationsModule.forWorker()],
  providers: [
    {
      provide: CONTROL_PLANE,
      inject: [APP_CONFIG, TEMPORAL_CLIENT, LineagesService, ModelVersionsService, RequestLifecycle, RequestOutcomes, Retention, ForgetSets],
      useFactory: (
        config: AppConfig,
        client: Client,
        lineages: LineagesService,
        versions: ModelVersionsService,
        lifecycle: RequestLifecycle,
        outcomes: RequestOutcomes,
        retention: Retention,
        forgetSets: ForgetSets,
      ): ControlPlane => {
        const logger = new Logger('ControlActivities');
        const { maxAttempts, reviewTimeoutMs, gpuHeartbeatTimeoutMs } = loadOrchestrationSettings();
        return createControlPlane(
          { lineages, versions, lifecycle, outcomes, retention, forgetSets, gpu: new TemporalGpuPresence(client), log: (message) => logger.log(message) },
          { artifactsDir: config.artifactsDir, maxAttempts, reviewTimeoutMs, gpuHeartbeatTimeoutMs },
        );
      },
    },
  ],
})
export class OrchestrationWorkerModule implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('TemporalWorkers');
  private connection: NativeConnection | null = null;
  private workers: RunningWorkers | null = null;

  constructor(
    @Inject(TEMPORAL_ENDPOINT) private readonly endpoint: TemporalEndpoint,
    @Inject(CONTROL_PLANE) private readonly controlPlane: ControlPlane,
    private readonly deliveries: WebhookDeliveries,
    private readonly deadlines: RequestDeadlines,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const swept = await this.controlPlane.files.sweep((owner) => this.controlPlane.planner.stillRuns(owner));
    if (swept.length) this.logger.log(`removed ${swept.length} forget-set director${swept.length === 1 ? 'y' : 'ies'} no running step owns`);
    this.connection = await NativeConnection.connect({ address: this.endpoint.address });
    const auditLogger = new Logger('Audit');
    this.workers = await RunningWorkers.start(this.connection, this.endpoint.namespace, [
      {
        taskQueue: CONTROL_TASK_QUEUE,
        workflowsPath: LINEAGE_WORKFLOWS_PATH,
        activities: { ...createControlActivities(this.controlPlane), ...createNotificationActivities({ deliveries: this.deliveries, deadlines: this.deadlines }) },
      },
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
