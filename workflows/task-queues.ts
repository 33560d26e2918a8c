/**
 * Task queues of the lineage workflow's activities. Defined here because workflow code imports
 * only relative workflow files; src/orchestration re-exports them for the workers and clients.
 */
export const CONTROL_TASK_QUEUE = 'control';
export const AUDIT_TASK_QUEUE = 'audit';
export const GPU_TASK_QUEUE = 'gpu';
