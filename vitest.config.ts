import path from "node:path";
import { defineConfig } from "vitest/config";

const alias = {
  "@": path.resolve(import.meta.dirname),
  // `server-only` guards web modules against client bundles; under test it is a no-op.
  "server-only": path.resolve(import.meta.dirname, "node_modules/server-only/empty.js"),
};

export default defineConfig({
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: "unit",
          include: ["lib/**/*.test.ts", "worker/**/*.test.ts", "sdk/**/*.test.ts", "bench/**/*.test.ts"],
          exclude: ["**/*.int.test.ts"],
        },
      },
      {
        resolve: { alias },
        test: {
          name: "integration",
          include: ["test/**/*.int.test.ts", "lib/**/*.int.test.ts", "worker/**/*.int.test.ts"],
          // The test servers are on 127.0.0.1; test/source-access.int.test.ts turns it off to test the refusal.
          env: { RETRACE_ALLOW_LOCAL_SOURCES: "true" },
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Each file starts its own PostgreSQL servers; two at a time suits a 2-core machine.
          maxWorkers: 2,
          fileParallelism: true,
        },
      },
    ],
  },
});
