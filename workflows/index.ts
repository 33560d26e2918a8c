// Entry point the worker bundles (Worker.create({ workflowsPath })).
export { lineageWorkflow } from './lineage.workflow';
export { deadlineSweepWorkflow, webhookDeliveryWorkflow } from './notifications.workflow';
