import { describe, expect, it } from "vitest";
import { isSetupCode, setupCode } from "./setup-code";

describe("setup code", () => {
  const secret = "x".repeat(40);

  it("is twelve unambiguous characters in three groups, the same for the same secret", () => {
    expect(setupCode(secret)).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(setupCode(secret)).toBe(setupCode(secret));
    expect(setupCode("y".repeat(40))).not.toBe(setupCode(secret));
  });

  it("is accepted however it is typed, and nothing else is", () => {
    const code = setupCode(secret);
    expect(isSetupCode(secret, code)).toBe(true);
    expect(isSetupCode(secret, code.toLowerCase().replaceAll("-", " "))).toBe(true);
    expect(isSetupCode(secret, code.replaceAll("-", ""))).toBe(true);
    expect(isSetupCode(secret, "")).toBe(false);
    expect(isSetupCode(secret, code.slice(0, -1))).toBe(false);
    expect(isSetupCode("y".repeat(40), code)).toBe(false);
  });
});
