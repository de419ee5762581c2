import { Column, Entity, PrimaryGeneratedColumn, Unique } from "typeorm";
import type { ActionTypeDefinition } from "../../domain/action-types/action-type";

/** A user-defined (owner `Custom`) action type. */
@Entity({ name: "custom_action_types" })
@Unique("custom_action_types_key", ["category", "provider", "version"])
export class CustomActionTypeEntity {
  @PrimaryGeneratedColumn("uuid")
  id!: string;

  @Column({ type: "text" })
  category!: string;

  @Column({ type: "text" })
  provider!: string;

  @Column({ type: "text" })
  version!: string;

  @Column({ type: "jsonb" })
  definition!: ActionTypeDefinition;

  @Column({ name: "created_by", type: "text" })
  createdBy!: string;

  @Column({ name: "created_at", type: "timestamptz" })
  createdAt!: Date;
}
