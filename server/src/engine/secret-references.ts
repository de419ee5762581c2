/**
 * `{{resolve:secret:NAME}}` references in a pipeline document (a secret of the pipeline's own
 * account), checked when it is saved
 * (create, update, editStages, import, importInstallation): each names a secret of the store, and
 * the saving principal is allowed sluice:GetSecretValue on it (auth/authorization.ts, the one
 * checker). A reference the principal may not use is refused FORBIDDEN, with the fields in
 * `validationErrors` (the name is not looked up then: whether that secret exists stays unknown);
 * one to a secret that does not exist is a document error with its field path. Values are
 * resolved only when a job is run, for the agent that runs it (messaging/agent-gateway.ts).
 */
import type { EntityManager } from "typeorm";
import { isEnvelope } from "@sluice/protocol";
import { authorizeAction } from "../auth/authorization";
import { actingAccount, type Principal } from "../auth/principal";
import { DomainError, ValidationError, type ValidationIssue } from "../domain/errors";
import type { PipelineDocument } from "../domain/pipeline/document";
import { documentReferences, malformedReferences } from "../domain/secrets/references";
import type { SecretStore } from "../persistence/secret-store";
import type { SecretVault } from "../persistence/secret-vault";

export class SecretReferences {
  constructor(
    private readonly secrets: SecretStore,
    private readonly vault: SecretVault,
  ) {}

  /**
   * Throws unless every reference of `document` is allowed and names a secret. `base` prefixes the
   * paths (`archive.pipelines[0].versions[2].document`). Secret values restored from their
   * envelope are opened in memory to be looked at: a reference hidden in one counts too.
   */
  async check(m: EntityManager, document: PipelineDocument, principal: Principal, base = ""): Promise<void> {
    const at = (path: string) => (base ? `${base}.${path}` : path);
    const malformed = malformedReferences(document).map((issue) => ({ ...issue, path: at(issue.path) }));
    if (malformed.length > 0) throw new ValidationError(malformed);
    const references = await documentReferences(document, (value) =>
      isEnvelope(value) ? this.vault.decrypt(value, m) : Promise.resolve(value),
    );
    if (references.length === 0) return;
    const forbidden: ValidationIssue[] = [];
    const allowed: typeof references = [];
    for (const reference of references) {
      const decision = authorizeAction(principal, "sluice:GetSecretValue", {
        type: "secret",
        name: reference.name,
      });
      if (decision.ok) allowed.push(reference);
      else forbidden.push({ path: at(reference.path), message: decision.message });
    }
    if (forbidden.length > 0)
      throw new DomainError("FORBIDDEN", `${forbidden[0]!.message} (${forbidden[0]!.path})`, {
        validationErrors: forbidden,
      });
    // The secrets of the account the pipeline is saved in (the principal's acting account).
    const existing = await this.secrets.existing(
      actingAccount(principal),
      allowed.map((r) => r.name),
      m,
    );
    const unknown = allowed
      .filter((r) => !existing.has(r.name))
      .map((r) => ({
        path: at(r.path),
        message: `No secret is named "${r.name}": create it first (putSecret, sluice put-secret).`,
      }));
    if (unknown.length > 0) throw new ValidationError(unknown);
  }
}
