"use client";

import { useQuery } from "@tanstack/react-query";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useOptimistic, useTransition } from "react";
import { environmentLabel } from "@/components/databases/badges";
import { classes } from "@/components/ui/classes";
import { trailQueries } from "@/lib/query/trail";

/**
 * The environment every page is scoped to: `?environment=` in the URL ("" for all), so a link keeps it. The header
 * switches it; links between pages carry it (scopedHref), so it stays while the reader moves around.
 */
export function useEnvironment(): string {
  return useSearchParams().get("environment") ?? "";
}

/** `href` within `environment` (all when ""). */
export function scopedHref(href: string, environment: string): string {
  if (!environment) return href;
  const [path = "", query = ""] = href.split("?", 2);
  const params = new URLSearchParams(query);
  params.set("environment", environment);
  return `${path}?${params}`;
}

/** The list page of the section a path is in: switching environments on a detail page leads there. */
function listOf(pathname: string): string {
  if (pathname.startsWith("/databases")) return "/databases";
  return "/changes";
}

/** The header's switcher: All, then the environments the trail holds (the current one even if it holds none). */
export function EnvironmentSwitcher({ className = "" }: { className?: string }) {
  const router = useRouter();
  const pathname = usePathname();
  const searchParams = useSearchParams();
  // The new environment shows at once, while the page for it loads.
  const [environment, setOptimisticEnvironment] = useOptimistic(searchParams.get("environment") ?? "");
  const [, startTransition] = useTransition();
  const query = useQuery(trailQueries.environments());
  const names = query.data?.environments.map((e) => e.name) ?? [];
  if (environment && !names.includes(environment)) names.push(environment);

  const switchTo = (next: string) => {
    // On a list page the other filters stay; a detail page belongs to one environment, so its list opens.
    const onList = pathname === "/changes" || pathname === "/databases";
    const params = new URLSearchParams(onList ? searchParams.toString() : "");
    if (next) params.set("environment", next);
    else params.delete("environment");
    const path = onList ? pathname : listOf(pathname);
    const search = params.toString();
    startTransition(() => {
      setOptimisticEnvironment(next);
      router.push(search ? `${path}?${search}` : path);
    });
  };

  return (
    <label className={classes("flex items-center gap-2 text-sm text-slate-500", className)}>
      <span className="whitespace-nowrap">Environment</span>
      <select
        aria-label="Environment"
        data-testid="environment-switcher"
        value={environment}
        onChange={(event) => switchTo(event.target.value)}
        className={classes(
          "min-w-0 max-w-full rounded-md border py-1 pl-2 pr-7 text-sm font-medium focus:border-indigo-500",
          environment ? "border-indigo-300 bg-indigo-50 text-indigo-900" : "border-slate-300 bg-white text-slate-900",
        )}
      >
        <option value="">All</option>
        {names.map((name) => (
          <option key={name} value={name}>
            {environmentLabel(name)}
          </option>
        ))}
      </select>
    </label>
  );
}
