// The Prometheus side of the operational metrics: one registry per app, every value read from the
// database when scraped (collect()), so every API replica answers the same figures.
import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MetricObjectWithValues, MetricValueWithName } from 'prom-client';
import { COMPLETION_BUCKETS_SECONDS, DurationHistogram, PHASE_BUCKETS_SECONDS } from '../domain/operational-metrics';
import { OperationsService } from '../operations.service';

type HistogramLabel = 'lineage' | 'le';
type HistogramObject = MetricObjectWithValues<MetricValueWithName<HistogramLabel>>;

/**
 * A histogram whose buckets the database has already counted: prom-client's Histogram only counts
 * observations one by one, so get() is replaced by the aggregate (same exposition format).
 */
class AggregatedHistogram extends Histogram<HistogramLabel> {
  constructor(
    private readonly metricName: string,
    private readonly helpText: string,
    private readonly bounds: readonly number[],
    private readonly read: () => Promise<DurationHistogram[]>,
    registry: Registry,
  ) {
    super({ name: metricName, help: helpText, labelNames: ['lineage'], buckets: [...bounds], registers: [registry] });
  }

  override get(): Promise<HistogramObject> {
    return this.aggregate();
  }

  /** What the registry calls when it writes the text format (prom-client's own calls it from get()). */
  getForPromString(): Promise<HistogramObject> {
    return this.aggregate();
  }

  private async aggregate(): Promise<HistogramObject> {
    const values: MetricValueWithName<HistogramLabel>[] = [];
    for (const h of await this.read()) {
      this.bounds.forEach((le, i) => values.push({ metricName: `${this.metricName}_bucket`, labels: { lineage: h.lineage, le: String(le) }, value: h.cumulativeCounts[i] ?? 0 }));
      values.push({ metricName: `${this.metricName}_bucket`, labels: { lineage: h.lineage, le: '+Inf' }, value: h.count });
      values.push({ metricName: `${this.metricName}_sum`, labels: { lineage: h.lineage }, value: h.sumSeconds });
      values.push({ metricName: `${this.metricName}_count`, labels: { lineage: h.lineage }, value: h.count });
    }
    // The shape prom-client's Histogram returns (its `type` is the string "histogram" at run time).
    return { name: this.metricName, help: this.helpText, type: 'histogram', aggregator: 'sum', values } as unknown as HistogramObject;
  }
}

/** Only lineage names, statuses, event types and counts: no subject, requester, request id or webhook URL is ever a label. */
@Injectable()
export class PrometheusMetrics {
  readonly registry = new Registry();

  constructor(operations: OperationsService) {
    const registry = this.registry;
    new Gauge({
      name: 'lethe_deletion_requests',
      help: 'Deletion requests by lineage and status',
      labelNames: ['lineage', 'status'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const c of await operations.statusCounts()) this.set({ lineage: c.lineage, status: c.status }, c.count);
      },
    });
    new Gauge({
      name: 'lethe_queue_depth',
      help: 'Deletion requests waiting for their lineage (RECEIVED or QUEUED)',
      labelNames: ['lineage'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const q of await operations.queues()) this.set({ lineage: q.lineage }, q.depth);
      },
    });
    new Gauge({
      name: 'lethe_queue_oldest_age_seconds',
      help: 'Age of the oldest deletion request waiting for its lineage (RECEIVED or QUEUED); 0 when none waits',
      labelNames: ['lineage'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const q of await operations.queues()) this.set({ lineage: q.lineage }, q.oldestAgeSeconds);
      },
    });
    new Gauge({
      name: 'lethe_deletion_requests_due_soon',
      help: `Deletion requests not in a final state that fall due within ${operations.dueSoonDays} days (LETHE_DUE_SOON_DAYS)`,
      labelNames: ['lineage'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const d of await operations.deadlines()) this.set({ lineage: d.lineage }, d.dueSoon);
      },
    });
    new Gauge({
      name: 'lethe_deletion_requests_overdue',
      help: 'Deletion requests not in a final state past their due date',
      labelNames: ['lineage'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const d of await operations.deadlines()) this.set({ lineage: d.lineage }, d.overdue);
      },
    });
    new Counter({
      name: 'lethe_webhook_failed_attempts_total',
      help: 'Webhook delivery attempts the receiver did not take (no 2xx answer, or no answer), by event type',
      labelNames: ['event_type'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const w of await operations.webhookDeliveries()) this.inc({ event_type: w.eventType }, w.failedAttempts);
      },
    });
    new Gauge({
      name: 'lethe_webhook_deliveries',
      help: 'Webhook deliveries by event type and outcome: PENDING (still being attempted), DELIVERED, FAILED (given up after the last attempt)',
      labelNames: ['event_type', 'status'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const w of await operations.webhookDeliveries()) {
          this.set({ event_type: w.eventType, status: 'PENDING' }, w.pending);
          this.set({ event_type: w.eventType, status: 'DELIVERED' }, w.delivered);
          this.set({ event_type: w.eventType, status: 'FAILED' }, w.failed);
        }
      },
    });
    new AggregatedHistogram(
      'lethe_deletion_request_completion_seconds',
      'Receipt to completion of the deletion requests now COMPLETED',
      COMPLETION_BUCKETS_SECONDS,
      () => operations.completionDurations(),
      registry,
    );
    new AggregatedHistogram(
      'lethe_request_training_seconds',
      'Time deletion requests spent in UNLEARNING (training), from the event log',
      PHASE_BUCKETS_SECONDS,
      () => operations.phaseDurations('UNLEARNING'),
      registry,
    );
    new AggregatedHistogram(
      'lethe_request_audit_seconds',
      'Time deletion requests spent in AUDITING (audit), from the event log',
      PHASE_BUCKETS_SECONDS,
      () => operations.phaseDurations('AUDITING'),
      registry,
    );
  }

  /** The text exposition format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
