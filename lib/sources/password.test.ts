import { describe, expect, it } from "vitest";
import { encryptSecret } from "../crypto/secrets";
import { decryptSourcePassword } from "./password";

describe("decryptSourcePassword", () => {
  const secret = "s".repeat(40);

  it("returns the password stored with this secret", () => {
    expect(decryptSourcePassword(encryptSecret("pa ss", secret), secret)).toBe("pa ss");
  });

  it("says what to do when the password was stored with another secret", () => {
    const stored = encryptSecret("pa ss", "o".repeat(40));
    expect(() => decryptSourcePassword(stored, secret)).toThrow(
      expect.objectContaining({
        code: "password_unreadable",
        message: expect.stringMatching(/RETRACE_SECRET/),
      }),
    );
  });
});
