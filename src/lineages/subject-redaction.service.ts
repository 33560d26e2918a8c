// The lineages feature's implementation of the redaction port: which tokens of a text are this
// lineage's dataset people.
import { Injectable } from '@nestjs/common';
import { Redactor, redactTokens, SubjectRedactionPort, tokensOf } from '../common/subject-redaction';
import { DatasetSubjectRepository } from './persistence/dataset-subject.repository';

@Injectable()
export class SubjectRedaction implements SubjectRedactionPort {
  constructor(private readonly subjects: DatasetSubjectRepository) {}

  /** A redactor for these texts: one lookup of the tokens they contain, then pure replacement. */
  async redactorFor(lineage: string, ownSubjectIds: Iterable<string | null>, texts: Iterable<string | null | undefined>): Promise<Redactor> {
    const tokens = new Set<string>();
    for (const text of texts) if (text) for (const token of tokensOf(text)) tokens.add(token);
    const own = new Set(ownSubjectIds);
    const hidden = new Set((await this.subjects.existingIds(lineage, [...tokens])).filter((id) => !own.has(id)));
    return (text) => (text === null ? null : redactTokens(text, hidden));
  }
}
