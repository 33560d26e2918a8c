// Regenerates schema.gql from the running app: `node dist/test/support/write-schema.js`.
import * as fs from 'node:fs';
import { printAppSchema, SCHEMA_FILE } from '../../src/app.module';
import { startTestApp } from './app';
import { RecordingQueue, recordingQueueModule } from './recording-queue';

async function main(): Promise<void> {
  const test = await startTestApp({ orchestration: recordingQueueModule(new RecordingQueue()) });
  try {
    fs.writeFileSync(SCHEMA_FILE, printAppSchema(test.app));
    console.log(`wrote ${SCHEMA_FILE}`);
  } finally {
    await test.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
