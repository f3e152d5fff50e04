import fs from "node:fs";
import path from "node:path";

/** The app's own route tree, walked on disk, for the tests that call every route (a new route cannot be missed). */

export const APP = path.resolve(import.meta.dirname, "../../app");
export const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
export type Method = (typeof METHODS)[number];

export type Handler = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;

/** Every `file` under `dir`. */
export function walk(dir: string, file: "route.ts" | "page.tsx"): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...walk(full, file));
    else if (entry.name === file) found.push(full);
  }
  return found;
}

/** A route file's URL pattern: `app/api/x/[id]/route.ts` is `/api/x/[id]`. */
export function urlPattern(file: string): string {
  const route = path
    .relative(APP, path.dirname(file))
    .split(path.sep)
    // Route groups `(name)` are not part of the URL.
    .filter((segment) => segment !== "" && !/^\(.*\)$/.test(segment));
  return `/${route.join("/")}`;
}

/** A concrete URL for a pattern: every dynamic segment is an id that does not exist. */
export function sampleUrl(pattern: string): string {
  return `http://localhost${pattern.replace(/\[[^\]]+\]/g, "00000000-0000-4000-8000-000000000000")}`;
}

export function sampleParams(pattern: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [, name] of pattern.matchAll(/\[([^\].]+)\]/g))
    if (name) params[name] = "00000000-0000-4000-8000-000000000000";
  return params;
}

export type ApiRoute = { method: Method; pattern: string; handler: Handler };

/** Every /api route and method of the app, imported (call after the store is started: routes read the env). */
export async function apiRoutes(): Promise<ApiRoute[]> {
  const routes: ApiRoute[] = [];
  for (const file of walk(path.join(APP, "api"), "route.ts")) {
    const exported = (await import(file)) as Record<string, unknown>;
    for (const method of METHODS) {
      const handler = exported[method];
      if (typeof handler === "function")
        routes.push({ method, pattern: urlPattern(file), handler: handler as Handler });
    }
  }
  return routes;
}
