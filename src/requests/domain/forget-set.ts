import type { ImageFormat } from './image-check';

export interface ForgetSetImage {
  format: ImageFormat;
  width: number;
  height: number;
  /** The image bytes, base64. */
  data: string;
}

/** The personal data of one request. Stored only encrypted; decrypted for the unlearning step. */
export interface ForgetSetContent {
  name: string;
  datasetSubjectId: string | null;
  images: ForgetSetImage[];
  facts: Array<{ question: string; answer: string }>;
  note: string | null;
}

export interface ForgetSet {
  requestId: string;
  /** null once purged. */
  content: ForgetSetContent | null;
  digest: string;
  purgedAt: Date | null;
}
