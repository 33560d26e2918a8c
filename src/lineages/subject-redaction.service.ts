// Who else asked to be forgotten is personal data. Texts written by the workflows (status and
// gate reasons, re-forget notes) name dataset people by id; a REQUESTER's view of them replaces
// every dataset person of the lineage other than the requester's own.
import { Injectable } from '@nestjs/common';
import { DatasetSubjectRepository } from './persistence/dataset-subject.repository';

export type Redactor = (text: string | null) => string | null;

export const HIDDEN_PERSON = '[another person]';

/** Candidate ids in free text: runs between separators, also without trailing sentence punctuation. */
const TOKEN = /[^\s,;:()[\]{}"'<>=]+/g;

function tokensOf(text: string): string[] {
  return (text.match(TOKEN) ?? []).flatMap((t) => [t, t.replace(/[.!?]+$/, '')]);
}

/** Replaces each token that is one of `hidden`; the rest of the text is kept byte for byte. */
export function redactTokens(text: string, hidden: ReadonlySet<string>): string {
  if (hidden.size === 0) return text;
  return text.replace(TOKEN, (token) => {
    if (hidden.has(token)) return HIDDEN_PERSON;
    const bare = token.replace(/[.!?]+$/, '');
    return hidden.has(bare) ? HIDDEN_PERSON + token.slice(bare.length) : token;
  });
}

@Injectable()
export class SubjectRedaction {
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
