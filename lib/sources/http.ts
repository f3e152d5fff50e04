import { Invalid } from "../errors";

/** The request's JSON body; a missing or malformed body is a 400, not a 500. */
export async function readJsonBody(request: Request): Promise<unknown> {
  const text = await request.text();
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Invalid("The request body must be JSON.");
  }
}
