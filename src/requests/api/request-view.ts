// The one place that decides what each role sees of a deletion request, its history and the version
// that carried it out. AUDITORs and OPERATORs see everything; a REQUESTER (who reads only its own
// requests) sees texts written by the workflows with every other dataset person of the lineage
// replaced, because who else asked to be forgotten is personal data.
import { Injectable } from '@nestjs/common';
import { canSeeEverything, type Principal } from '../../auth/domain/principal';
import { EventModel } from '../../events/api/event.model';
import type { LoggedEvent } from '../../events/domain/event';
import { RequesterScope, toVersionModel } from '../../lineages/api/lineage.mapper';
import { ModelVersionModel } from '../../lineages/api/lineage.model';
import type { ModelVersion } from '../../lineages/domain/lineage';
import type { Redactor } from '../../common/subject-redaction';
import { SubjectRedaction } from '../../lineages/subject-redaction.service';
import { DeletionRequest } from '../domain/deletion-request';
import { DeletionRequestModel, RequestStatusEnum } from './deletion-request.model';

const unchanged: Redactor = (text) => text;

function stringsOf(data: Record<string, unknown>): string[] {
  return Object.values(data).filter((v): v is string => typeof v === 'string');
}

@Injectable()
export class RequestViews {
  constructor(private readonly redaction: SubjectRedaction) {}

  private redactorFor(request: Pick<DeletionRequestModel, 'lineage' | 'datasetSubjectId'>, principal: Principal, texts: Array<string | null>): Promise<Redactor> {
    if (canSeeEverything(principal) || texts.every((t) => !t)) return Promise.resolve(unchanged);
    return this.redaction.redactorFor(request.lineage, [request.datasetSubjectId], texts);
  }

  async request(request: DeletionRequest, principal: Principal): Promise<DeletionRequestModel> {
    const redact = await this.redactorFor(request, principal, [request.statusReason]);
    return {
      id: request.id,
      status: request.status as RequestStatusEnum,
      statusReason: redact(request.statusReason),
      lineage: request.lineage,
      datasetSubjectId: request.datasetSubjectId,
      legalBasis: request.legalBasis,
      requester: request.requester,
      idempotencyKey: request.idempotencyKey,
      createdAt: request.receivedAt,
      dueAt: request.dueAt,
      updatedAt: request.updatedAt,
      modelVersionId: request.modelVersionId,
      datasetSubjectName: request.datasetSubjectName,
    };
  }

  async events(request: DeletionRequestModel, events: LoggedEvent[], principal: Principal): Promise<EventModel[]> {
    const redact = await this.redactorFor(request, principal, events.flatMap((e) => [e.reason, ...stringsOf(e.data)]));
    if (redact === unchanged) return events;
    return events.map((e) => ({
      ...e,
      reason: redact(e.reason),
      data: Object.fromEntries(Object.entries(e.data).map(([k, v]) => [k, typeof v === 'string' ? redact(v) : v])),
    }));
  }

  async version(request: DeletionRequestModel, version: ModelVersion, principal: Principal): Promise<ModelVersionModel> {
    const scope: RequesterScope = {
      requestId: request.id,
      datasetSubjectId: request.datasetSubjectId,
      redact: await this.redactorFor(request, principal, [version.statusReason]),
    };
    return toVersionModel(version, principal, scope);
  }
}
