import type { DataSource } from "typeorm";
import type { Logger } from "../logger";
import {
  approverEmailContent,
  dashboardLink,
  emailContent,
  retryDelayMs,
  signature,
  slackBody,
  teamsBody,
  webhookBody,
  type Notification,
} from "../domain/notifications/messages";
import type { NatsLink } from "../messaging/nats";
import type { ClaimedDelivery, DeliveryRow, NotificationStore } from "../persistence/notification-store";
import { dispatchInbox } from "./dispatcher";
import type { NotificationSettings } from "./settings";
import { EmailTransport, HttpTransport, NatsTransport, type AttemptOutcome } from "./transports";

const IDLE_MS = 500;
const BATCH = 100;
/** Deliveries in flight per server copy, all targets together. */
const MAX_IN_FLIGHT = 64;
/** How often a copy fails deliveries that ran out of time while their target's circuit was open. */
const EXPIRY_MS = 1000;
/**
 * The shortest time between two looks that kicks asked for. Every engine commit kicks (it may have
 * put events in the inbox), and each look is four statements: under load, looking once per commit
 * was a quarter of all the statements the server sent (bench/RESULTS.md). Kicks within this time
 * are served by one look; a notification leaves at most this much later.
 */
export const KICK_SPACING_MS = 100;
/**
 * The concurrency key of approvers' e-mails (they have no target): together they get the slots of
 * one target, on the SMTP server the e-mail targets use.
 */
const APPROVERS = "approvers";
const slotOf = (delivery: { targetId: string | null }) => delivery.targetId ?? APPROVERS;

export type DeliveryListener = (delivery: DeliveryRow) => void;

/**
 * Every server copy runs one: it dispatches the inbox into deliveries, claims due deliveries
 * (leased, SKIP LOCKED: each is sent by one copy in the normal case, again by another if its
 * sender died), sends them with a time limit, at most `concurrencyPerTarget` at once per target,
 * and records each attempt: success, or a retry after an exponential, jittered delay until
 * `retryForMs` has passed, and the target's circuit breaker. Every change of a delivery is
 * announced on `<prefix>.server.notifications` for `notificationDeliveries` subscribers of all
 * copies.
 */
export class DeliveryWorker {
  private readonly http: HttpTransport;
  private readonly email: EmailTransport;
  private readonly natsOut: NatsTransport;
  private readonly inFlight = new Map<string, number>();
  private readonly waiting = new Map<string, ClaimedDelivery[]>();
  private readonly sends = new Set<Promise<void>>();
  private readonly listeners = new Set<DeliveryListener>();
  private readonly changesSubject: string;
  private running = false;
  private pending = false;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private subscription: { unsubscribe(): void } | null = null;
  private lastExpiry = 0;

  constructor(
    private readonly db: DataSource,
    private readonly store: NotificationStore,
    private readonly nats: NatsLink,
    prefix: string,
    private readonly settings: NotificationSettings,
    private readonly logger: Logger,
  ) {
    this.http = new HttpTransport(settings.caFile, settings.allowPrivate);
    this.email = new EmailTransport(settings.smtpUrl, settings.smtpFrom, settings.timeoutMs);
    this.natsOut = new NatsTransport(nats, `${prefix}_notify`);
    this.changesSubject = `${prefix}.server.notifications`;
  }

  /** The subject a NATS target's messages go to. */
  natsSubjectOf(subject: string): string {
    return this.natsOut.subjectOf(subject);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Listens to deliveries announced by every copy (starts with NATS). */
  startListening(): void {
    const nc = this.nats.nats;
    if (!nc || this.subscription) return;
    this.subscription = nc.subscribe(this.changesSubject, {
      callback: (error, msg) => {
        if (error) return;
        try {
          const row = msg.json<DeliveryRow>();
          for (const listener of this.listeners) listener(row);
        } catch {
          // not ours
        }
      },
    });
  }

  onDelivery(listener: DeliveryListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** New events or deliveries were committed: look now instead of at the next poll. */
  kick(): void {
    this.pending = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.wake?.();
    await this.loop;
    await Promise.allSettled([...this.sends]);
    this.subscription?.unsubscribe();
    this.http.close();
    this.email.close();
  }

  /** Announces changed deliveries to every copy's subscribers. */
  async announce(ids: string[]): Promise<void> {
    const nc = this.nats.nats;
    if (ids.length === 0 || !nc || nc.isClosed()) return;
    for (const row of await this.store.findDeliveries(ids)) this.publishChange(row);
  }

  private publishChange(row: DeliveryRow): void {
    const nc = this.nats.nats;
    if (!nc || nc.isClosed()) return;
    try {
      nc.publish(this.changesSubject, JSON.stringify(row));
    } catch (error) {
      this.logger.debug({ err: (error as Error).message }, "delivery change not announced");
    }
  }

  private async run(): Promise<void> {
    let failures = 0;
    let lookedAt = 0;
    while (this.running) {
      this.pending = false;
      lookedAt = performance.now();
      let busy = false;
      try {
        const { taken, deliveryIds } = await dispatchInbox(this.db, this.store, {
          batch: BATCH,
          retryForMs: this.settings.retryForMs,
        });
        void this.announce(deliveryIds).catch(() => undefined);
        if (Date.now() - this.lastExpiry >= EXPIRY_MS) {
          this.lastExpiry = Date.now();
          void this.announce(await this.store.expire()).catch(() => undefined);
        }
        const claimed = await this.claim();
        busy = taken >= BATCH || claimed > 0;
        if (failures > 0) this.logger.info("notification delivery resumed");
        failures = 0;
      } catch (error) {
        if (failures++ === 0) {
          this.logger.warn({ err: (error as Error).message }, "notification delivery failed; retrying");
        }
      }
      if (!this.running) break;
      if (busy && this.freeSlots() > 0) continue;
      const sinceLook = performance.now() - lookedAt;
      const wait =
        failures > 0
          ? Math.min(5000, 100 * 2 ** failures)
          : this.pending
            ? KICK_SPACING_MS - sinceLook
            : IDLE_MS;
      if (wait <= 0) continue;
      await new Promise<void>((resolve) => {
        let timer = setTimeout(resolve, wait);
        // A kick ends the wait, but no sooner than KICK_SPACING_MS after the last look; stop() at once.
        this.wake = () => {
          clearTimeout(timer);
          const left = this.running ? KICK_SPACING_MS - (performance.now() - lookedAt) : 0;
          if (left <= 0) resolve();
          else timer = setTimeout(resolve, left);
        };
      });
      this.wake = null;
    }
  }

  private freeSlots(): number {
    return MAX_IN_FLIGHT - this.sends.size - [...this.waiting.values()].reduce((n, q) => n + q.length, 0);
  }

  /** Claims what this copy has room for and starts sending it; returns how many it claimed. */
  private async claim(): Promise<number> {
    const free = this.freeSlots();
    if (free <= 0) return 0;
    const limit = this.settings.concurrencyPerTarget;
    const full = [...this.inFlight].filter(([, n]) => n >= limit).map(([id]) => id);
    // Longer than one attempt can take (its time limit), with room for recording it.
    const leaseMs = 3 * this.settings.timeoutMs;
    const claimed = await this.store.claim(
      free,
      leaseMs,
      full.filter((id) => id !== APPROVERS),
      full.includes(APPROVERS),
    );
    for (const delivery of claimed) {
      const queue = this.waiting.get(slotOf(delivery)) ?? [];
      queue.push(delivery);
      this.waiting.set(slotOf(delivery), queue);
    }
    for (const slot of new Set(claimed.map(slotOf))) this.drain(slot);
    return claimed.length;
  }

  /** Starts the target's waiting deliveries while it has free slots (`targetId`: a slot, slotOf). */
  private drain(targetId: string): void {
    const queue = this.waiting.get(targetId) ?? [];
    while (queue.length > 0 && (this.inFlight.get(targetId) ?? 0) < this.settings.concurrencyPerTarget) {
      const delivery = queue.shift()!;
      this.inFlight.set(targetId, (this.inFlight.get(targetId) ?? 0) + 1);
      const send: Promise<void> = this.deliver(delivery)
        .catch((error: unknown) =>
          this.logger.error(
            { err: (error as Error).message, deliveryId: delivery.id },
            "delivery not recorded",
          ),
        )
        .finally(() => {
          this.sends.delete(send);
          const left = (this.inFlight.get(targetId) ?? 1) - 1;
          if (left > 0) this.inFlight.set(targetId, left);
          else this.inFlight.delete(targetId);
          this.drain(targetId);
          this.kick();
        });
      this.sends.add(send);
    }
    if (queue.length === 0) this.waiting.delete(targetId);
  }

  private async deliver(delivery: ClaimedDelivery): Promise<void> {
    const started = performance.now();
    let outcome: AttemptOutcome;
    try {
      outcome = await this.send(delivery);
    } catch (error) {
      outcome = { ok: false, statusCode: null, error: (error as Error).message.slice(0, 500) };
    }
    const latencyMs = Math.round(performance.now() - started);
    const retryInMs = outcome.ok
      ? null
      : retryDelayMs(
          delivery.attempts,
          this.settings.retryBaseMs,
          this.settings.retryMaxDelayMs,
          Math.random(),
        );
    const row = await this.store.recordAttempt(
      { id: delivery.id, targetId: delivery.targetId, attempt: delivery.attempts },
      { ...outcome, latencyMs },
      retryInMs === null ? null : { retryInMs },
      { threshold: this.settings.circuitThreshold, openMs: this.settings.circuitOpenMs },
    );
    if (!outcome.ok) {
      this.logger.info(
        {
          deliveryId: delivery.id,
          target: delivery.targetName,
          attempt: delivery.attempts,
          error: outcome.error,
        },
        row.status === "FAILED" ? "notification not delivered: giving up" : "notification attempt failed",
      );
      if (row.status === "PENDING" && retryInMs !== null) this.wakeAt(retryInMs);
    }
    this.publishChange(row);
  }

  /** Looks again when a retry is due (the idle poll would find it too, later). */
  private wakeAt(ms: number): void {
    const timer = setTimeout(() => this.kick(), ms + 5);
    timer.unref();
  }

  private send(delivery: ClaimedDelivery): Promise<AttemptOutcome> {
    const notification: Notification = { ...delivery.notification, id: delivery.id };
    const link = dashboardLink(this.settings.dashboardUrl, notification);
    const { target } = delivery;
    if (target === null) {
      // An approver's e-mail, at the address their account had when the approval started waiting.
      return this.email.send(
        delivery.recipientEmail ? [delivery.recipientEmail] : [],
        approverEmailContent(notification, link, delivery.recipient ?? ""),
        notification.id,
      );
    }
    const { settings } = target;
    const timeoutMs = this.settings.timeoutMs;
    switch (target.kind) {
      case "WEBHOOK": {
        const body = JSON.stringify(webhookBody(notification, link));
        const headers: Record<string, string> = {};
        for (const header of settings.headers ?? []) headers[header.name] = header.value;
        headers["user-agent"] = "Sluice-Notifications/1";
        headers["sluice-message-id"] = notification.id;
        headers["sluice-event"] = notification.type;
        if (settings.secret) {
          headers["sluice-signature"] = signature(settings.secret, Math.floor(Date.now() / 1000), body);
        }
        return this.http.post(settings.url!, body, headers, timeoutMs);
      }
      case "SLACK":
        return this.http.post(settings.url!, JSON.stringify(slackBody(notification, link)), {}, timeoutMs);
      case "TEAMS":
        return this.http.post(settings.url!, JSON.stringify(teamsBody(notification, link)), {}, timeoutMs);
      case "EMAIL":
        return this.email.send(
          settings.emailAddresses ?? [],
          emailContent(notification, link),
          notification.id,
        );
      case "NATS":
        return this.natsOut.publish(
          settings.subject!,
          JSON.stringify(webhookBody(notification, link)),
          notification.id,
          timeoutMs,
        );
    }
  }
}
