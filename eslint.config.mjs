import fs from "node:fs";
import stylistic from "@stylistic/eslint-plugin";
import nextCoreWebVitals from "eslint-config-next/core-web-vitals";
import nextTypescript from "eslint-config-next/typescript";

/** Prettier formats (`npm run format`); ESLint checks what Prettier cannot break: no line over its width. */
const { printWidth } = JSON.parse(fs.readFileSync(new URL("./.prettierrc.json", import.meta.url), "utf8"));

const config = [
  ...nextCoreWebVitals,
  ...nextTypescript,
  {
    ignores: [
      ".next/**",
      "node_modules/**",
      ".retrace/**",
      ".test-data/**",
      "bench/work/**",
      "dist/**",
      "sdk/dist/**",
      "drizzle/**",
      "test-results/**",
      "playwright-report/**",
      "next-env.d.ts",
    ],
  },
  {
    plugins: { "@stylistic": stylistic },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-non-null-assertion": "error",
      "@typescript-eslint/ban-ts-comment": "error",
      "@stylistic/max-len": ["error", { code: printWidth, ignoreUrls: true }],
    },
  },
];

export default config;
