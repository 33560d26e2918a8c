import path from 'node:path';

/** The compiled workflows entry (dist/workflows/index.js) that workers bundle. */
export const LINEAGE_WORKFLOWS_PATH = path.resolve(__dirname, '../../workflows/index.js');
