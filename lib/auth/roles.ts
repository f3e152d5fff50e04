export type Role = "admin" | "viewer";
