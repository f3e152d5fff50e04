export * from "./users";
export * from "./api-tokens";
export * from "./sources";
export * from "./changes";
