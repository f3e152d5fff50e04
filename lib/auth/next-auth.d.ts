import "next-auth";
import "next-auth/jwt";

declare module "next-auth" {
  interface Session {
    user?: { id: string; email?: string | null; name?: string | null; role: "admin" | "viewer" };
  }
}

declare module "next-auth/jwt" {
  interface JWT {
    /** The store session this token belongs to (lib/auth/sessions.ts). */
    sid?: string;
    role?: "admin" | "viewer";
  }
}
