import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Db, sql } from '../../database/sql';
import { REQUEST_STATUSES, RequestStatus } from '../../requests/domain/request-status';
import type { DeadlineState, DurationHistogram, QueueState, StatusCount, StepPhase, WebhookDeliveryState } from '../domain/operational-metrics';

interface HistogramRow {
  lineage: string;
  cumulative: string[];
  count: string;
  sum: number | null;
}

function toHistogram(row: HistogramRow): DurationHistogram {
  return { lineage: row.lineage, cumulativeCounts: row.cumulative.map(Number), count: Number(row.count), sumSeconds: row.sum ?? 0 };
}

/**
 * Buckets `durations` (a query yielding lineage, seconds) per lineage, in the database: what comes
 * back is one row per lineage, whatever the number of requests behind it.
 */
const HISTOGRAM = (durations: string, boundsParam: string) => `
  WITH d AS (${durations}),
  per_bound AS (
    SELECT d.lineage, b.i, count(*) FILTER (WHERE d.seconds <= b.le) AS n, count(*) AS count, sum(d.seconds) AS sum
    FROM d CROSS JOIN unnest(${boundsParam}::float8[]) WITH ORDINALITY AS b(le, i)
    GROUP BY d.lineage, b.i
  )
  SELECT lineage, array_agg(n ORDER BY i) AS cumulative, min(count) AS count, min(sum) AS sum
  FROM per_bound GROUP BY lineage ORDER BY lineage`;

/** Aggregates over the requests and the event log for /metrics; read at each scrape, nothing cached. */
@Injectable()
export class OperationsRepository {
  constructor(private readonly dataSource: DataSource) {}

  private get db(): Db {
    return this.dataSource.manager;
  }

  /** A round trip, for readiness. */
  async ping(): Promise<void> {
    await sql(this.db, 'SELECT 1');
  }

  /** Every lineage x every status, zero included (a series that disappears reads as "no data", not 0). */
  async countByStatus(): Promise<StatusCount[]> {
    const { rows } = await sql<{ lineage: string; status: RequestStatus; count: string }>(
      this.db,
      `SELECT l.name AS lineage, s.status, count(r.id) AS count
       FROM model_lineages l
       CROSS JOIN unnest($1::text[]) AS s(status)
       LEFT JOIN deletion_requests r ON r.lineage = l.name AND r.status = s.status
       GROUP BY l.name, s.status
       ORDER BY l.name, s.status`,
      [REQUEST_STATUSES],
    );
    return rows.map((r) => ({ lineage: r.lineage, status: r.status, count: Number(r.count) }));
  }

  async queues(statuses: readonly RequestStatus[]): Promise<QueueState[]> {
    const { rows } = await sql<{ lineage: string; depth: string; oldest_age: number | null }>(
      this.db,
      `SELECT l.name AS lineage, count(r.id) AS depth,
              extract(epoch FROM now() - min(r.received_at))::float8 AS oldest_age
       FROM model_lineages l
       LEFT JOIN deletion_requests r ON r.lineage = l.name AND r.status = ANY($1::text[])
       GROUP BY l.name
       ORDER BY l.name`,
      [statuses],
    );
    return rows.map((r) => ({ lineage: r.lineage, depth: Number(r.depth), oldestAgeSeconds: Math.max(0, r.oldest_age ?? 0) }));
  }

  async deadlines(openStatuses: readonly RequestStatus[], dueSoonWindowSeconds: number): Promise<DeadlineState[]> {
    const { rows } = await sql<{ lineage: string; due_soon: string; overdue: string }>(
      this.db,
      `SELECT l.name AS lineage,
              count(r.id) FILTER (WHERE r.due_at >= now() AND r.due_at < now() + make_interval(secs => $2)) AS due_soon,
              count(r.id) FILTER (WHERE r.due_at < now()) AS overdue
       FROM model_lineages l
       LEFT JOIN deletion_requests r ON r.lineage = l.name AND r.status = ANY($1::text[])
       GROUP BY l.name
       ORDER BY l.name`,
      [openStatuses, dueSoonWindowSeconds],
    );
    return rows.map((r) => ({ lineage: r.lineage, dueSoon: Number(r.due_soon), overdue: Number(r.overdue) }));
  }

  /**
   * Receipt to completion of the requests now COMPLETED: the row's updated_at is the moment it
   * became COMPLETED (nothing updates a completed request but a rollback, which reopens it).
   */
  async completionDurations(bounds: readonly number[]): Promise<DurationHistogram[]> {
    const durations = `SELECT lineage, extract(epoch FROM updated_at - received_at)::float8 AS seconds
                       FROM deletion_requests WHERE status = 'COMPLETED'`;
    const { rows } = await sql<HistogramRow>(this.db, HISTOGRAM(durations, '$1'), [bounds]);
    return rows.map(toHistogram);
  }

  /**
   * Time requests spent in `phase`, from the event log: from the status change into it to the next
   * status change of the same request (a retry that goes AUDITING -> UNLEARNING counts each visit).
   * A request still in the phase is not counted until it leaves.
   */
  async phaseDurations(phase: StepPhase, bounds: readonly number[]): Promise<DurationHistogram[]> {
    const durations = `
      SELECT r.lineage, extract(epoch FROM p.left_at - p.occurred_at)::float8 AS seconds
      FROM (
        SELECT e.entity_id, e.data->>'to' AS status, e.occurred_at,
               lead(e.occurred_at) OVER (PARTITION BY e.entity_id ORDER BY e.seq) AS left_at
        FROM event_log e
        WHERE e.entity_type = 'request' AND e.type = 'request.status_changed'
      ) p
      JOIN deletion_requests r ON r.id::text = p.entity_id
      WHERE p.status = $2 AND p.left_at IS NOT NULL`;
    const { rows } = await sql<HistogramRow>(this.db, HISTOGRAM(durations, '$1'), [bounds, phase]);
    return rows.map(toHistogram);
  }

  /** Every event type, zero included; attempts and deliveries are counted in the database. */
  async webhookDeliveries(eventTypes: readonly string[]): Promise<WebhookDeliveryState[]> {
    const { rows } = await sql<{ event_type: string; failed_attempts: string; pending: string; delivered: string; failed: string }>(
      this.db,
      `SELECT t.event_type,
              coalesce(a.failed_attempts, 0) AS failed_attempts,
              count(d.id) FILTER (WHERE d.status = 'PENDING') AS pending,
              count(d.id) FILTER (WHERE d.status = 'DELIVERED') AS delivered,
              count(d.id) FILTER (WHERE d.status = 'FAILED') AS failed
       FROM unnest($1::text[]) AS t(event_type)
       LEFT JOIN webhook_deliveries d ON d.event_type = t.event_type
       LEFT JOIN (
         SELECT d2.event_type, count(*) AS failed_attempts
         FROM webhook_attempts a2 JOIN webhook_deliveries d2 ON d2.id = a2.delivery_id
         WHERE NOT a2.succeeded GROUP BY d2.event_type
       ) a ON a.event_type = t.event_type
       GROUP BY t.event_type, a.failed_attempts
       ORDER BY t.event_type`,
      [eventTypes],
    );
    return rows.map((r) => ({ eventType: r.event_type, failedAttempts: Number(r.failed_attempts), pending: Number(r.pending), delivered: Number(r.delivered), failed: Number(r.failed) }));
  }
}
