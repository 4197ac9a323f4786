export { ALERT_CODES, SEVERITY, alertSchema, formatAlert, makeAlert } from './alerts.ts';
export type { Alert, AlertCode, Severity } from './alerts.ts';
export { judgeConsistency, openLogCheckpoint } from './checkpoints.ts';
export type { ConsistencyVerdict, LogCheckpoint, OpenResult, TreeHead } from './checkpoints.ts';
export { MonitorError, isMonitorError } from './errors.ts';
export type { MonitorErrorCode } from './errors.ts';
export {
  checkClaimSignature,
  evidenceFromJson,
  readEvidence,
  readReceipts,
  receiptsFromJson,
} from './evidence.ts';
export type { ClaimedEvent, ClaimedReceipt, EvidenceItem, SignatureVerdict } from './evidence.ts';
export { LedgerClient, fetchWitnessCheckpoint } from './http.ts';
export { logKeysFileSchema, parseLogKeysFile } from './log-keys.ts';
export type { HttpOptions, ServedEntry } from './http.ts';
export { Monitor } from './monitor.ts';
export type {
  EvidenceReport,
  MonitorEvents,
  MonitorOptions,
  PollResult,
  ReceiptReport,
  WatchedOrg,
  WitnessReport,
} from './monitor.ts';
export {
  alertNotificationSchema,
  deliver,
  eventNotification,
  eventNotificationSchema,
  notificationSchema,
  orgsOf,
  outboxItemSchema,
} from './notify.ts';
export type {
  DeliveryResult,
  EventNotification,
  OrgNotification,
  OutboxItem,
  WebhookOptions,
} from './notify.ts';
export { LogReplay } from './replay.ts';
export type {
  EntryCheck,
  EntryFailure,
  LeafVerdict,
  ReplayOptions,
  ReplayState,
  VerifiedEntry,
} from './replay.ts';
export { STATE_FORMAT, initialState, loadState, monitorStateSchema, parseState, saveState } from './state.ts';
export type { HeadState, MonitorState } from './state.ts';
