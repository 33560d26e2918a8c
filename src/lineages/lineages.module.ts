import { Module } from '@nestjs/common';
import { RequestsStoreModule } from '../requests/requests-store.module';
import { LineagesService } from './lineages.service';
import { ModelVersionsService } from './model-versions.service';
import { AuditResultRepository } from './persistence/audit-result.repository';
import { DatasetSubjectRepository } from './persistence/dataset-subject.repository';
import { LineageRepository } from './persistence/lineage.repository';
import { ModelVersionRepository } from './persistence/model-version.repository';
import { SubjectRedaction } from './subject-redaction.service';

/** Lineages, versions, audit results and dataset subjects, without the API: what the orchestration activities and audits import. */
@Module({
  imports: [RequestsStoreModule],
  providers: [LineageRepository, ModelVersionRepository, AuditResultRepository, DatasetSubjectRepository, LineagesService, ModelVersionsService, SubjectRedaction],
  exports: [LineagesService, SubjectRedaction, ModelVersionsService, LineageRepository, ModelVersionRepository, AuditResultRepository, DatasetSubjectRepository, RequestsStoreModule],
})
export class LineagesModule {}
