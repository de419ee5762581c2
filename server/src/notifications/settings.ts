/** The notification settings config.ts reads from the environment (docs/notifications.md). */
export interface NotificationSettings {
  /** Base of the links in messages: the dashboard's address (SLUICE_DASHBOARD_URL, else SLUICE_PUBLIC_URL). */
  dashboardUrl: string;
  /** `smtp://user:password@host:port` or `smtps://…`; unset: e-mail deliveries fail saying so. */
  smtpUrl: string | undefined;
  /** The From address of notification e-mails. */
  smtpFrom: string;
  /** PEM file of extra CA certificates trusted for https targets, besides the system's. */
  caFile: string | undefined;
  /** Accept http:// target URLs (off: https only). */
  allowHttp: boolean;
  /** Accept targets on loopback, private and link-local addresses (off: public hosts only). */
  allowPrivate: boolean;
  /** One attempt's time limit. */
  timeoutMs: number;
  /** First retry delay; doubles with each failure, with jitter, up to maxDelayMs. */
  retryBaseMs: number;
  retryMaxDelayMs: number;
  /** How long a delivery is retried before it is FAILED. */
  retryForMs: number;
  /** Attempts in flight per target and server copy. */
  concurrencyPerTarget: number;
  /** Failures in a row that open a target's circuit, and for how long it stays open. */
  circuitThreshold: number;
  circuitOpenMs: number;
}
