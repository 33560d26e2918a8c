// Who else asked to be forgotten is personal data. Texts written by the workflows (status and
// gate reasons, re-forget notes) name dataset people by id; a REQUESTER's view of them replaces
// every dataset person of the lineage other than the requester's own. The lookup of which tokens
// are dataset people belongs to lineages; features that only render texts depend on this port.
export type Redactor = (text: string | null) => string | null;

export const HIDDEN_PERSON = '[another person]';

/** Candidate ids in free text: runs between separators, also without trailing sentence punctuation. */
const TOKEN = /[^\s,;:()[\]{}"'<>=]+/g;

export function tokensOf(text: string): string[] {
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

/** Builds a redactor for some texts of a lineage, keeping the requester's own people. */
export interface SubjectRedactionPort {
  redactorFor(lineage: string, ownSubjectIds: Iterable<string | null>, texts: Iterable<string | null | undefined>): Promise<Redactor>;
}

/** Injection token of the SubjectRedactionPort (provided by the lineages feature). */
export const SUBJECT_REDACTION = Symbol('SUBJECT_REDACTION');
