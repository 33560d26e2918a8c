import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Db, one, sql } from '../../database/sql';
import { DatasetSubject } from '../domain/lineage';

@Injectable()
export class DatasetSubjectRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insertMany(tx: Db, subjects: DatasetSubject[]): Promise<void> {
    if (subjects.length === 0) return;
    await sql(
      tx,
      `INSERT INTO dataset_subjects (lineage, id, name, knowledge)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])`,
      [subjects.map((s) => s.lineage), subjects.map((s) => s.id), subjects.map((s) => s.name), subjects.map((s) => s.knowledge)],
    );
  }

  /** Keyset page ordered by id. */
  async page(lineage: string, first: number, afterId: string | null): Promise<DatasetSubject[]> {
    const { rows } = await sql<DatasetSubject>(
      this.dataSource.manager,
      'SELECT lineage, id, name, knowledge FROM dataset_subjects WHERE lineage = $1 AND ($2::text IS NULL OR id > $2) ORDER BY id LIMIT $3',
      [lineage, afterId, first],
    );
    return rows;
  }

  async count(lineage: string): Promise<number> {
    const row = await one<{ n: string }>(this.dataSource.manager, 'SELECT count(*) AS n FROM dataset_subjects WHERE lineage = $1', [lineage]);
    return Number(row!.n);
  }

  /** Which of these candidates are ids of people in the lineage's dataset. */
  async existingIds(lineage: string, candidates: string[]): Promise<string[]> {
    if (candidates.length === 0) return [];
    const { rows } = await sql<{ id: string }>(this.dataSource.manager, 'SELECT id FROM dataset_subjects WHERE lineage = $1 AND id = ANY($2::text[])', [lineage, candidates]);
    return rows.map((r) => r.id);
  }
}
