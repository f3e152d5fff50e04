import { describe, expect, it } from "vitest";
import { z } from "zod";
import { AppError, Conflict, Forbidden, Invalid, NotFound, Unauthorized } from "../errors";
import { InsufficientPrivilege, PasswordUnreadable, SourceUnreachable } from "../sources/errors";
import { toErrorResponse, type ErrorBody } from "./errors";

async function answer(error: unknown): Promise<{ status: number; body: ErrorBody }> {
  const response = toErrorResponse(error);
  return { status: response.status, body: (await response.json()) as ErrorBody };
}

describe("toErrorResponse", () => {
  it("answers each domain error with its code's status and the envelope", async () => {
    const cases: [AppError, number][] = [
      [new Invalid("Bad port.", [{ path: "port", message: "Bad port." }]), 400],
      [new Unauthorized(), 401],
      [new Forbidden(), 403],
      [new NotFound("Database"), 404],
      [new Conflict("Already connected."), 409],
      [new SourceUnreachable("No answer from db:5432.", "Check the host."), 422],
      [new InsufficientPrivilege("No REPLICATION."), 422],
      [new PasswordUnreadable(), 422],
    ];
    for (const [error, status] of cases) {
      const { status: answered, body } = await answer(error);
      expect(answered, error.code).toBe(status);
      expect(body.error).toEqual({ code: error.code, message: error.message, details: error.details });
    }
    expect((await answer(new NotFound("Change"))).body.error.message).toBe("Change not found.");
    expect((await answer(new SourceUnreachable("x", "the fix"))).body.error.details).toEqual({ fix: "the fix" });
  });

  it("answers a zod error with 400 and a message per field", async () => {
    const parsed = z.object({ port: z.number() }).safeParse({ port: "x" });
    const { status, body } = await answer(parsed.error);
    expect(status).toBe(400);
    expect(body.error.code).toBe("invalid");
    expect(body.error.details).toEqual([{ path: "port", message: expect.any(String) }]);
  });

  it("hides anything else behind a generic message with an id", async () => {
    const { status, body } = await answer(new Error("password=hunter2 leaked"));
    expect(status).toBe(500);
    expect(body.error.code).toBe("internal");
    expect(body.error.message).not.toContain("hunter2");
    expect(body.error.message).toContain(body.error.id);
  });
});
