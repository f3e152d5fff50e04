"use client";

import { QueryClientProvider } from "@tanstack/react-query";
import { SessionProvider } from "next-auth/react";
import { Suspense, useState, type ReactNode } from "react";
import { ListUrlTracker } from "@/components/changes/list-return";
import { makeQueryClient } from "@/lib/query/client";

export function Providers({ children }: { children: ReactNode }) {
  const [queryClient] = useState(makeQueryClient);
  return (
    <SessionProvider>
      <QueryClientProvider client={queryClient}>
        {children}
        {/* Reads the URL's query: a boundary of its own keeps static pages static. */}
        <Suspense fallback={null}>
          <ListUrlTracker />
        </Suspense>
      </QueryClientProvider>
    </SessionProvider>
  );
}
