import { builtinRegistry } from "../action-types/builtins";
import { action, actionType, gitSource, pipeline, stage } from "./validation/__tests__/harness";
import {
  maskConfiguration,
  maskDocumentSecrets,
  restoreMaskedSecrets,
  SECRET_MASK,
  secretProperties,
  textMasker,
} from "./secrets";

const webhook = actionType("Invoke", "Webhook");
const doc = () =>
  pipeline({
    stages: [
      stage("Source", [gitSource()]),
      stage("Notify", [
        action("Ping", webhook, { configuration: { Url: "https://hooks.example/x", Secret: "s3cret" } }),
        action("Plain", webhook, { configuration: { Url: "https://hooks.example/y" } }),
      ]),
    ],
  });

describe("secret configuration values", () => {
  it("knows the secret properties of a type", () => {
    expect([...secretProperties(builtinRegistry.find(webhook))]).toEqual(["Secret"]);
    expect(secretProperties(undefined).size).toBe(0);
  });

  it("masks secret values only, and returns the same object when there is nothing to mask", () => {
    const secrets = new Set(["Secret"]);
    expect(maskConfiguration({ Url: "u", Secret: "s" }, secrets)).toEqual({ Url: "u", Secret: SECRET_MASK });
    const plain = { Url: "u" };
    expect(maskConfiguration(plain, secrets)).toBe(plain);
    expect(maskConfiguration(null, secrets)).toBeNull();
  });

  it("masks a document's secrets in a copy, leaving the original and the other actions as they are", () => {
    const original = doc();
    const masked = maskDocumentSecrets(original, builtinRegistry);
    expect(masked.stages[1]!.actions[0]!.configuration).toEqual({
      Url: "https://hooks.example/x",
      Secret: SECRET_MASK,
    });
    expect(masked.stages[1]!.actions[1]).toBe(original.stages[1]!.actions[1]);
    expect(masked.stages[0]).toBe(original.stages[0]);
    expect(original.stages[1]!.actions[0]!.configuration.Secret).toBe("s3cret");
    const none = pipeline();
    expect(maskDocumentSecrets(none, builtinRegistry)).toBe(none);
  });

  it("restores what the mask stands for from the previous version, and a changed secret wins", () => {
    const previous = doc();
    const masked = maskDocumentSecrets(previous, builtinRegistry);
    expect(restoreMaskedSecrets(masked, previous, builtinRegistry)).toEqual(previous);
    const changed = doc();
    changed.stages[1]!.actions[0]!.configuration.Secret = "n3w";
    expect(
      restoreMaskedSecrets(changed, previous, builtinRegistry).stages[1]!.actions[0]!.configuration.Secret,
    ).toBe("n3w");
    expect(restoreMaskedSecrets(masked, null, builtinRegistry)).toBe(masked);
  });

  it("masks secret values in text: every occurrence, each line of a multi-line one, not short ones", () => {
    const secrets = new Set(["Token", "Key", "Pin"]);
    const mask = textMasker(
      { Token: "abcd1234", Key: "line-one\n  line-two  ", Pin: "42", Url: "visible" },
      secrets,
    );
    expect(mask("token abcd1234 and abcd1234")).toBe("token **** and ****");
    expect(mask("line-two alone; visible stays")).toBe("**** alone; visible stays");
    expect(mask("pin 42")).toBe("pin 42");
    const none = textMasker({ Url: "x" }, secrets);
    expect(none("abcd1234")).toBe("abcd1234");
  });
});
