export { loadMonitorConfig, monitorEnvSchema, type MonitorServiceConfig } from './config.ts';
export {
  eventNotification,
  ID_HEADER,
  metricsText,
  monitorSubjects,
  orgsOf,
  startMonitor,
  type MonitorStatus,
  type MonitorSubjects,
  type RunningMonitor,
} from './server.ts';
