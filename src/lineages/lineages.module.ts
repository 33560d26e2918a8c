import { Module } from '@nestjs/common';
import { LineagesResolver } from './api/lineages.resolver';
import { LineagesService } from './lineages.service';
import { ModelVersionsService } from './model-versions.service';
import { AuditResultRepository } from './persistence/audit-result.repository';
import { DatasetSubjectRepository } from './persistence/dataset-subject.repository';
import { LineageRepository } from './persistence/lineage.repository';
import { ModelVersionRepository } from './persistence/model-version.repository';
import { SUBJECT_REDACTION } from '../common/subject-redaction';
import { SubjectRedaction } from './subject-redaction.service';

/** Lineages, their versions, audit results and dataset subjects. Knows nothing of requests: those build on it. */
@Module({
  providers: [LineageRepository, ModelVersionRepository, AuditResultRepository, DatasetSubjectRepository, LineagesService, ModelVersionsService, SubjectRedaction, { provide: SUBJECT_REDACTION, useExisting: SubjectRedaction }, LineagesResolver],
  exports: [LineagesService, ModelVersionsService, SubjectRedaction, SUBJECT_REDACTION],
})
export class LineagesModule {}
