import type { Metadata } from "next";
import { connection } from "next/server";
import { Suspense, type ReactNode } from "react";
import { Nav } from "@/components/nav";
import { Providers } from "@/components/providers";
import "./globals.css";

export const metadata: Metadata = {
  title: "Retrace",
  description: "Audit trails and time travel for PostgreSQL",
};

/**
 * Every page is rendered per request (none at build time, not even the not-found page): its scripts carry the
 * nonce of the response's Content-Security-Policy (proxy.ts), which a page built ahead of time cannot know.
 */
export default async function RootLayout({ children }: { children: ReactNode }) {
  await connection();
  return (
    <html lang="en">
      <body>
        <Providers>
          {/* The header reads the URL's environment; it renders in the browser (the session is read there). */}
          <Suspense fallback={null}>
            <Nav />
          </Suspense>
          <main className="mx-auto max-w-7xl px-4 py-6 sm:px-6 sm:py-8">{children}</main>
        </Providers>
      </body>
    </html>
  );
}
