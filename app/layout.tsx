import type { Metadata } from "next";
import { Suspense, type ReactNode } from "react";
import { Nav } from "@/components/nav";
import { Providers } from "@/components/providers";
import "./globals.css";

export const metadata: Metadata = {
  title: "Retrace",
  description: "Audit trails and time travel for PostgreSQL",
};

export default function RootLayout({ children }: { children: ReactNode }) {
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
