import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Approval-needed e-mails to the approvers (docs/notifications.md): a delivery goes either to a
 * target or to one user, the user allowed to approve, at the address their account had when the
 * approval started waiting. A user gets one per approval however many rules matched it.
 */
export class ApproverNotifications1767400000000 implements MigrationInterface {
  name = "ApproverNotifications1767400000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE notification_deliveries ALTER COLUMN target_id DROP NOT NULL`);
    await q.query(`ALTER TABLE notification_deliveries ADD COLUMN recipient text`);
    await q.query(`ALTER TABLE notification_deliveries ADD COLUMN recipient_email text`);
    await q.query(`
      ALTER TABLE notification_deliveries ADD CONSTRAINT notification_deliveries_one_destination
        CHECK ((target_id IS NULL) <> (recipient IS NULL) AND (recipient IS NULL) = (recipient_email IS NULL))`);
    await q.query(`
      CREATE UNIQUE INDEX notification_deliveries_recipient_once ON notification_deliveries (event_key, recipient)
        WHERE recipient IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM notification_deliveries WHERE target_id IS NULL`);
    await q.query(`DROP INDEX notification_deliveries_recipient_once`);
    await q.query(
      `ALTER TABLE notification_deliveries DROP CONSTRAINT notification_deliveries_one_destination`,
    );
    await q.query(`ALTER TABLE notification_deliveries DROP COLUMN recipient_email`);
    await q.query(`ALTER TABLE notification_deliveries DROP COLUMN recipient`);
    await q.query(`ALTER TABLE notification_deliveries ALTER COLUMN target_id SET NOT NULL`);
  }
}
