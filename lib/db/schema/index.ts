export * from "./users";
export * from "./sessions";
export * from "./api-tokens";
export * from "./sources";
export * from "./changes";
export * from "./change-segments";
export * from "./baselines";
export * from "./audit";
