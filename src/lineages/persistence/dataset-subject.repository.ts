import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Db, one, sql } from '../../database/sql';
import { DatasetSubject, Knowledge } from '../domain/lineage';

export interface SubjectFilter {
  search: string | null;
  knowledge: readonly Knowledge[];
}

/** The filter's condition, with the search pattern and the knowledge list at parameters $search and $knowledge. */
const matches = (search: number, knowledge: number) => `($${search}::text IS NULL OR id ILIKE $${search} OR name ILIKE $${search}) AND knowledge = ANY($${knowledge}::text[])`;

/** ILIKE pattern for "contains": the search's own % _ and \\ match themselves. */
function likePattern(search: string | null): string | null {
  return search === null ? null : `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

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

  /** Keyset page ordered by id, of the people whose id or name contains `filter.search` (any case) and whose knowledge is one of `filter.knowledge`. */
  async page(lineage: string, first: number, afterId: string | null, filter: SubjectFilter): Promise<DatasetSubject[]> {
    const { rows } = await sql<DatasetSubject>(
      this.dataSource.manager,
      `SELECT lineage, id, name, knowledge FROM dataset_subjects WHERE lineage = $1 AND ($2::text IS NULL OR id > $2) AND ${matches(4, 5)} ORDER BY id LIMIT $3`,
      [lineage, afterId, first, likePattern(filter.search), filter.knowledge],
    );
    return rows;
  }

  async count(lineage: string, filter: SubjectFilter): Promise<number> {
    const row = await one<{ n: string }>(this.dataSource.manager, `SELECT count(*) AS n FROM dataset_subjects WHERE lineage = $1 AND ${matches(2, 3)}`, [lineage, likePattern(filter.search), filter.knowledge]);
    return Number(row!.n);
  }

  /** Which of these candidates are ids of people in the lineage's dataset. */
  async existingIds(lineage: string, candidates: string[]): Promise<string[]> {
    if (candidates.length === 0) return [];
    const { rows } = await sql<{ id: string }>(this.dataSource.manager, 'SELECT id FROM dataset_subjects WHERE lineage = $1 AND id = ANY($2::text[])', [lineage, candidates]);
    return rows.map((r) => r.id);
  }
}
