import { Module } from '@nestjs/common';
import { LineagesResolver } from './api/lineages.resolver';
import { LineagesModule } from './lineages.module';

/** The GraphQL side of lineages (rollback goes through the lineage workflow, via REQUEST_QUEUE). */
@Module({ imports: [LineagesModule], providers: [LineagesResolver] })
export class LineagesApiModule {}
